//! Bad specs get diagnostics with `file:line:col`, a one-line message and a hint.
//!
//! Each fixture in `tests/fixtures/bad/` states what it must produce in its header:
//! `# expect: LINE:COL: MESSAGE`, optionally followed by `#   hint: HINT`, once per problem.

use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, PartialEq)]
struct Expected {
    line: usize,
    column: usize,
    message: String,
    hint: Option<String>,
}

fn expectations(text: &str) -> Vec<Expected> {
    let mut out: Vec<Expected> = Vec::new();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("# expect: ") {
            let mut parts = rest.splitn(3, ':');
            let line_no = parts.next().unwrap().parse().unwrap();
            let column = parts.next().unwrap().parse().unwrap();
            let message = parts.next().unwrap().trim_start().to_owned();
            out.push(Expected {
                line: line_no,
                column,
                message,
                hint: None,
            });
        } else if let Some(hint) = line.strip_prefix("#   hint: ") {
            out.last_mut().expect("hint follows an expectation").hint = Some(hint.to_owned());
        }
    }
    out
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_bad_fixture_reports_exactly_what_it_expects() {
    let files = fixtures("bad");
    assert!(
        files.len() >= 15,
        "expected at least 15 bad-spec fixtures, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected = expectations(&text);
        assert!(!expected.is_empty(), "{name} states no `# expect:` line");
        let diags = match ess_codegen::load_str(&name, &text) {
            Ok(_) => {
                failures.push(format!("{name}: loaded without a diagnostic"));
                continue;
            }
            Err(d) => d,
        };
        let actual: Vec<Expected> = diags
            .iter()
            .map(|d| {
                assert_eq!(d.file, name);
                Expected {
                    line: d.line,
                    column: d.column,
                    message: d.message.clone(),
                    hint: d.hint.clone(),
                }
            })
            .collect();
        if actual != expected {
            failures.push(format!(
                "{name}:\n  expected {expected:#?}\n  actual   {actual:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn good_fixtures_load_and_generate_rust() {
    for path in fixtures("good") {
        let spec = ess_codegen::load_file(&path)
            .unwrap_or_else(|d| panic!("{} should load:\n{d}", path.display()));
        let tokens = ess_codegen::generate(&spec, &ess_codegen::Options::default())
            .unwrap_or_else(|d| panic!("{} should generate: {d:?}", path.display()));
        if let Err(e) = syn::parse2::<syn::File>(tokens) {
            panic!("{}: generated code does not parse: {e}", path.display());
        }
    }
}

#[test]
fn display_names_file_line_column_and_hint() {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/unknown_type.yaml"),
    )
    .unwrap();
    let diags = ess_codegen::load_str("spec/ess.yaml", &text).unwrap_err();
    assert_eq!(
        diags.to_string(),
        "spec/ess.yaml:23:32: error: unknown type `UserInfoo` in `GetThingRequest.Operator`\n  = hint: did you mean `UserInfo`?"
    );
}

#[test]
fn a_missing_file_is_a_diagnostic() {
    let diags = ess_codegen::load_file(Path::new("no/such/spec.yaml")).unwrap_err();
    let d = &diags.0[0];
    assert_eq!(d.file, "no/such/spec.yaml");
    assert!(d.message.starts_with("cannot read spec:"), "{}", d.message);
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let text = format!(
        "spec_version: 1\nx: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let diags = ess_codegen::load_str("deep.yaml", &text).unwrap_err();
    assert_eq!((diags.0[0].line, diags.0[0].column), (2, 260));
    assert!(diags.0[0].message.contains("nesting deeper than 256"));
}

#[test]
fn an_empty_unknown_key_is_reported() {
    let diags = ess_codegen::load_str("empty-key.yaml", "spec_version: 1\n\"\": 2\n").unwrap_err();
    assert_eq!(diags.0[0].message, "an empty key is not a field");
}
