//! Whatever the input, loading a spec returns `Ok` or diagnostics, and whatever loads
//! generates code that parses as Rust (or diagnostics); nothing panics or hangs.

use proptest::prelude::*;

const SEEDS: &[&str] = &[
    include_str!("fixtures/good/minimal.yaml"),
    include_str!("fixtures/bad/recursive.yaml"),
    include_str!("fixtures/bad/enum_value_type.yaml"),
    include_str!("fixtures/bad/requirement_path.yaml"),
];

/// Tokens that steer mutations toward YAML structure and spec keywords.
const TOKENS: &[&str] = &[
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "&a",
    "*a",
    "!!str",
    "|",
    ">",
    "#",
    "\n",
    "  ",
    "\t",
    "type",
    "list<",
    ">",
    "required: true",
    "enum: ApproverType",
    "length: {max: 1}",
    "range: {min: \"x\"}",
    "members: []",
    "values: []",
    "path: \"A[]\"",
    "in: [\"0\"]",
    "spec_version: 1",
    "Self",
    "Client",
    "ErrorCode",
    "Unknown",
    "New",
    "\u{0}",
    "é",
    "签",
];

fn mutated() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        0..4u8,
        prop::sample::select(TOKENS),
        0usize..40,
    );
    (
        prop::sample::select(SEEDS),
        prop::collection::vec(edit, 1..8),
    )
        .prop_map(|(seed, edits)| {
            let mut text: Vec<char> = seed.chars().collect();
            for (at, kind, token, len) in edits {
                let pos = at.index(text.len() + 1);
                match kind {
                    0 => text.splice(pos..pos, token.chars()).for_each(drop),
                    1 => {
                        let end = (pos + len).min(text.len());
                        text.drain(pos..end);
                    }
                    2 => {
                        // Duplicate a slice elsewhere (duplicate keys, members, values).
                        let end = (pos + len).min(text.len());
                        let slice: Vec<char> = text[pos..end].to_vec();
                        let to = at.index(text.len() / 2 + 1);
                        text.splice(to..to, slice).for_each(drop);
                    }
                    _ => {
                        if pos < text.len() {
                            text[pos] = token.chars().next().unwrap_or(' ');
                        }
                    }
                }
            }
            text.into_iter().collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4096,
        // A hang is a failure too (an empty key once looped forever).
        timeout: 10_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = ess_codegen::load_str("fuzz.yaml", &text);
    }

    #[test]
    fn mutated_specs_never_panic(text in mutated()) {
        match ess_codegen::load_str("fuzz.yaml", &text) {
            Err(diags) => {
                prop_assert!(!diags.is_empty());
                for d in diags.iter() {
                    prop_assert!(!d.message.is_empty());
                    prop_assert!(d.line <= text.lines().count() + 1, "line {} beyond the text: {d}", d.line);
                }
            }
            Ok(spec) => {
                for cargo_features in [false, true] {
                    let options = ess_codegen::Options { cargo_features, ..Default::default() };
                    if let Ok(tokens) = ess_codegen::generate(&spec, &options) {
                        let parsed = syn::parse2::<syn::File>(tokens);
                        prop_assert!(parsed.is_ok(), "generated code does not parse: {:?}\n{text}", parsed.err());
                    }
                }
            }
        }
    }
}
