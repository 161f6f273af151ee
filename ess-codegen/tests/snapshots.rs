//! Snapshots of the generated code (review changes with `cargo insta review`). The same
//! snapshots are compiled by the `ess-tests` crate, so a broken expansion cannot be blessed.

use std::path::Path;

use ess_codegen::{Options, generate, load_file};

fn expand(spec_path: &str, actions: Option<&[&str]>) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(spec_path);
    let spec = load_file(&path).unwrap_or_else(|d| panic!("{d}"));
    let options = Options {
        actions: actions.map(|a| a.iter().map(|s| (*s).to_owned()).collect()),
        cargo_features: false,
    };
    let tokens = generate(&spec, spec_path, &options).unwrap_or_else(|d| panic!("{d}"));
    // Formatted as `cargo xtask expand` prints it.
    prettyplease::unparse(&syn::parse2(tokens).expect("generated code parses"))
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
        insta::assert_snapshot!(action, expand("../spec/ess.yaml", Some(&[action])));
    }
}

#[test]
fn generation_is_deterministic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    let spec = load_file(&path).unwrap();
    let once = generate(&spec, "spec/ess.yaml", &Options::default())
        .unwrap()
        .to_string();
    let spec_again = load_file(&path).unwrap();
    let twice = generate(&spec_again, "spec/ess.yaml", &Options::default())
        .unwrap()
        .to_string();
    assert!(once == twice, "two generations of the same spec differ");
    let with_features = Options {
        cargo_features: true,
        ..Options::default()
    };
    assert_eq!(
        generate(&spec, "spec/ess.yaml", &with_features)
            .unwrap()
            .to_string(),
        generate(&spec_again, "spec/ess.yaml", &with_features)
            .unwrap()
            .to_string()
    );
}

#[test]
fn unknown_actions_are_diagnosed_with_a_suggestion() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    let spec = load_file(&path).unwrap();
    let options = Options {
        actions: Some(vec!["CreateFlowSignUr".into()]),
        cargo_features: false,
    };
    let diags = generate(&spec, "spec/ess.yaml", &options).unwrap_err();
    assert_eq!(
        diags.to_string(),
        "spec/ess.yaml: error: unknown action `CreateFlowSignUr`\n  = hint: did you mean `CreateFlowSignUrl`?"
    );
}
