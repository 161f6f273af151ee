//! Snapshots of the generated code (review changes with `cargo insta review`): one per
//! action, and what every action shares (the imports, the service constants, `Client` without
//! its action methods, `ErrorCode`) once. The same snapshots are compiled by the `ess-tests`
//! crate, so a broken expansion cannot be blessed.

use std::path::Path;

use ess_codegen::{Options, generate, load_file};

fn generated(spec_path: &str, actions: Option<&[&str]>) -> syn::File {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(spec_path);
    let spec = load_file(&path).unwrap_or_else(|d| panic!("{d}"));
    let options = Options {
        actions: actions.map(|a| a.iter().map(|s| (*s).to_owned()).collect()),
        cargo_features: false,
    };
    let tokens = generate(&spec, &options).unwrap_or_else(|d| panic!("{d:?}"));
    syn::parse2(tokens).expect("generated code parses")
}

/// Formatted as `cargo xtask expand` prints it.
fn expand(spec_path: &str, actions: Option<&[&str]>) -> String {
    prettyplease::unparse(&generated(spec_path, actions))
}

/// Whether an item is shared by every action's expansion (the imports, the service
/// constants, `Client` without its action methods, `ErrorCode` and its impls): those have a
/// snapshot of their own, so changing one touches one file.
fn is_shared(item: &syn::Item) -> bool {
    let named = |ty: &syn::Type, name: &str| matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name));
    let has_action_methods = |i: &syn::ItemImpl| {
        i.items
            .iter()
            .any(|item| matches!(item, syn::ImplItem::Fn(f) if f.sig.asyncness.is_some()))
    };
    match item {
        syn::Item::Use(_) => true,
        syn::Item::Const(c) => c.ident != "ACTIONS",
        syn::Item::Enum(e) => e.ident == "ErrorCode",
        syn::Item::Struct(s) => s.ident == "Client",
        syn::Item::Impl(i) => {
            named(&i.self_ty, "ErrorCode")
                || (named(&i.self_ty, "Client") && i.trait_.is_none() && !has_action_methods(i))
        }
        _ => false,
    }
}

/// The items of one action's expansion, without the shared ones (`shared`) or with only them.
fn part(file: &syn::File, shared: bool) -> String {
    let items = file
        .items
        .iter()
        .filter(|item| is_shared(item) == shared)
        .cloned()
        .collect();
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items,
    })
}

#[test]
fn fixture_shapes() {
    insta::assert_snapshot!("shapes", expand("tests/fixtures/codegen/shapes.yaml", None));
}

#[test]
fn ess_actions() {
    for action in [
        "CreateFlowSignUrl",
        "DescribeFlowInfo",
        "UploadFiles",
        "CreateSeal",
        "RenewAutoSignLicense",
        "DescribeUserAutoSignStatus",
        "StartFlow",
    ] {
        let file = generated("../spec/ess.yaml", Some(&[action]));
        insta::assert_snapshot!(action, part(&file, false));
    }
    let file = generated("../spec/ess.yaml", Some(&["CreateFlowSignUrl"]));
    insta::assert_snapshot!("shared", part(&file, true));
}

/// The callback events and the structures and enums their data reaches, from the whole
/// spec's expansion.
#[test]
fn ess_callbacks() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    let spec = load_file(&path).unwrap();
    let types = spec.callback_types();
    let enums: std::collections::BTreeSet<&str> = spec
        .types
        .iter()
        .filter(|(name, _)| types.contains(name.as_str()))
        .flat_map(|(_, def)| def.members.iter())
        .filter_map(|m| m.enumeration.as_ref().map(|e| e.as_str()))
        .collect();
    let wanted =
        |name: &str| name == "CallbackEvent" || types.contains(name) || enums.contains(name);
    let self_name = |ty: &syn::Type| match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    let file = generated("../spec/ess.yaml", None);
    let items = file
        .items
        .into_iter()
        .filter(|item| match item {
            syn::Item::Enum(e) => wanted(&e.ident.to_string()),
            syn::Item::Struct(s) => wanted(&s.ident.to_string()),
            syn::Item::Impl(i) => self_name(&i.self_ty).is_some_and(|n| wanted(&n)),
            // An enum's serde impls: `__wire_enum_serde!(Name, kind);`.
            syn::Item::Macro(m) => m
                .mac
                .tokens
                .clone()
                .into_iter()
                .next()
                .is_some_and(|first| wanted(&first.to_string())),
            _ => false,
        })
        .collect();
    insta::assert_snapshot!(
        "callbacks",
        prettyplease::unparse(&syn::File {
            shebang: None,
            attrs: Vec::new(),
            items,
        })
    );
}

#[test]
fn generation_is_deterministic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    let spec = load_file(&path).unwrap();
    let once = generate(&spec, &Options::default()).unwrap().to_string();
    let spec_again = load_file(&path).unwrap();
    let twice = generate(&spec_again, &Options::default())
        .unwrap()
        .to_string();
    assert!(once == twice, "two generations of the same spec differ");
    let with_features = Options {
        cargo_features: true,
        ..Options::default()
    };
    assert_eq!(
        generate(&spec, &with_features).unwrap().to_string(),
        generate(&spec_again, &with_features).unwrap().to_string()
    );
}

#[test]
fn unknown_actions_are_diagnosed_with_a_suggestion() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    let spec = load_file(&path).unwrap();
    let options = Options {
        actions: Some(vec![
            "CreateFlowSignUr".into(),
            "CreateSeal".into(),
            "Nope".into(),
        ]),
        cargo_features: false,
    };
    // Every unknown name, each with its own hint; the known one is not reported.
    let unknown = generate(&spec, &options).unwrap_err();
    let shown: Vec<String> = unknown.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "unknown action `CreateFlowSignUr` (did you mean `CreateFlowSignUrl`?)",
            "unknown action `Nope` (see the actions under `actions:` in the spec)",
        ]
    );
}
