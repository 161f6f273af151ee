//! With cargo features, every generated item sits behind the features of the actions that use
//! it, and every impl behind the same gate as its type: a build with one action enabled must
//! never meet an impl of a type it does not have.

use std::collections::BTreeMap;
use std::path::Path;

use ess_codegen::{Options, generate, load_file};
use quote::ToTokens;

fn cfg_of(attrs: &[syn::Attribute]) -> Option<String> {
    attrs
        .iter()
        .find(|a| a.path().is_ident("cfg"))
        .map(|a| a.to_token_stream().to_string())
}

fn self_type(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The whole spec generated with cargo features, as ess-generated compiles it.
fn generated() -> syn::File {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    let spec = load_file(&path).unwrap();
    let options = Options {
        cargo_features: true,
        ..Options::default()
    };
    syn::parse2(generate(&spec, &options).unwrap()).unwrap()
}

#[test]
fn every_impl_has_its_types_feature_gate() {
    let file = generated();

    // Types defined without a gate are shared by every action (ErrorCode, Client).
    let mut gates: BTreeMap<String, Option<String>> = BTreeMap::new();
    for item in &file.items {
        match item {
            syn::Item::Struct(s) => {
                gates.insert(s.ident.to_string(), cfg_of(&s.attrs));
            }
            syn::Item::Enum(e) => {
                gates.insert(e.ident.to_string(), cfg_of(&e.attrs));
            }
            _ => {}
        }
    }
    let ungated: Vec<&String> = gates
        .iter()
        .filter(|(_, g)| g.is_none())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        ungated,
        ["Client", "ErrorCode"],
        "types every action shares"
    );

    let mut checked = 0;
    for item in &file.items {
        // Impls, and the runtime macros that write impls (their first argument is the type).
        let (name, attrs) = match item {
            syn::Item::Impl(imp) => match self_type(&imp.self_ty) {
                Some(name) => (name, &imp.attrs),
                None => continue,
            },
            syn::Item::Macro(m) => match m.mac.tokens.clone().into_iter().next() {
                Some(proc_macro2::TokenTree::Ident(name)) => (name.to_string(), &m.attrs),
                _ => continue,
            },
            _ => continue,
        };
        let Some(gate) = gates.get(&name) else {
            continue;
        };
        assert_eq!(
            &cfg_of(attrs),
            gate,
            "an impl for `{name}` is gated differently from the type"
        );
        checked += 1;
    }
    assert!(checked > 500, "only {checked} impls checked");
}

/// Requests serialize and responses deserialize in users' builds; the other direction of a
/// one-sided type exists only for the workspace's round trips (`__roundtrip`).
#[test]
fn serde_derives_follow_the_direction_of_travel() {
    let file = generated();
    let derives = |name: &str| -> (String, String) {
        let item = file
            .items
            .iter()
            .find_map(|i| match i {
                syn::Item::Struct(s) if s.ident == name => Some(s),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no struct {name}"));
        let text = |path: &str| {
            item.attrs
                .iter()
                .filter(|a| a.path().is_ident(path))
                .map(|a| a.to_token_stream().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        (text("derive"), text("cfg_attr"))
    };
    let has = |text: &str, what: &str| {
        text.split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|word| word == what)
    };

    // Sent only.
    let (always, roundtrip) = derives("CreateFlowSignUrlRequest");
    assert!(
        has(&always, "Serialize") && !has(&always, "Deserialize"),
        "{always}"
    );
    assert!(roundtrip.contains("__roundtrip") && has(&roundtrip, "Deserialize"));
    // Received only.
    let (always, roundtrip) = derives("CreateFlowSignUrlResponse");
    assert!(
        has(&always, "Deserialize") && !has(&always, "Serialize"),
        "{always}"
    );
    assert!(roundtrip.contains("__roundtrip") && has(&roundtrip, "Serialize"));
    // Both: a type a request and a response reach.
    let both: Vec<String> = file
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .filter(|name| {
            let (always, roundtrip) = derives(name);
            has(&always, "Serialize") && has(&always, "Deserialize") && roundtrip.is_empty()
        })
        .collect();
    assert!(both.iter().any(|n| n == "Component"), "{both:?}");
}
