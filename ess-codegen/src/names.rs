//! Rust names for spec names: snake_case members and methods, PascalCase types, and the
//! keywords, imported and prelude names they must not become. (Upstream has a type named
//! `Option`: the spec gives it another `rust_name`, so that neither the generated code nor
//! users' glob imports see `std::option::Option` shadowed.)

use heck::{ToKebabCase, ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (strict and reserved, all editions).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be written as raw identifiers (`r#self` is not allowed).
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Items the generator emits besides the spec's types.
/// The cargo feature of the callback events (`CallbackEvent` and the types it reaches);
/// each action's feature is its name in kebab case.
pub const CALLBACKS_FEATURE: &str = "callbacks";

const GENERATED: &[&str] = &["CallbackEvent", "Client", "ErrorCode"];

/// Runtime items the generated code imports by name (`use ::ess_runtime::{..}`), besides
/// the lowercase `call` and `check`, which no type name can collide with.
pub const IMPORTED_RUNTIME: &[&str] = &[
    "Action",
    "CallOptions",
    "Config",
    "Elided",
    "EndpointHosts",
    "Error",
    "HttpTransport",
    "OffsetKind",
    "Paginated",
    "Paginator",
    "Path",
    "Redacted",
    "Transport",
    "UnknownValue",
    "Validate",
    "Violation",
    "WaitOptions",
    "WaitState",
    "Waitable",
    "Waited",
    "WithOptions",
];

/// serde's derive macros, which the generated code imports by name.
pub const IMPORTED_SERDE: &[&str] = &["Deserialize", "Serialize"];

/// Prelude items the generated code names plainly, and that users' glob imports
/// (`use ess_generated::*`) of a same-named type would shadow.
const PRELUDE: &[&str] = &[
    "AsRef", "Box", "Err", "From", "Into", "None", "Ok", "Option", "Result", "Some", "String",
    "Sync", "Vec",
];

/// Why a generated type cannot be named `name`, if it cannot: the name collides with an item
/// the generated code defines or imports, or shadows a prelude item it uses.
pub fn reserved(name: &str) -> Option<String> {
    if GENERATED.contains(&name) {
        Some(format!("collides with the generated `{name}`"))
    } else if IMPORTED_RUNTIME.contains(&name) {
        Some(format!(
            "collides with `ess_runtime::{name}`, which the generated code imports"
        ))
    } else if IMPORTED_SERDE.contains(&name) {
        Some(format!(
            "collides with `serde::{name}`, which the generated code imports"
        ))
    } else if PRELUDE.contains(&name) {
        Some(format!("would shadow `{name}` from the Rust prelude"))
    } else {
        None
    }
}

/// Whether `name` is a Rust keyword.
pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// Whether `name` is a keyword that `r#` cannot escape.
pub fn is_unescapable_keyword(name: &str) -> bool {
    NOT_RAW.contains(&name)
}

/// Whether `name` is an ASCII identifier starting with an uppercase letter.
pub fn is_pascal_ident(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

/// Whether `name` is lowercase ASCII words joined by `_` (`flow_evidence_report`).
pub fn is_snake_ident(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('_')
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Whether `name` is an ASCII identifier starting with a letter (a wire member name).
pub fn is_wire_ident(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The snake_case Rust name of a wire name (`FlowApproverInfos` -> `flow_approver_infos`).
pub fn snake(name: &str) -> String {
    if !name.is_ascii() {
        return name.to_snake_case();
    }
    let mut out = String::with_capacity(name.len() + 4);
    ascii_words(name, |word| {
        if !out.is_empty() {
            out.push('_');
        }
        out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    });
    out
}

/// The wire name serde's `rename_all = "PascalCase"` gives a snake_case field
/// (`flow_id` -> `FlowId`, `qr_code_url` -> `QrCodeUrl`); generated fields whose wire name
/// differs carry their own `rename`.
pub fn serde_pascal(field: &str) -> String {
    let mut pascal = String::with_capacity(field.len());
    let mut capitalize = true;
    for c in field.chars() {
        if c == '_' {
            capitalize = true;
        } else if capitalize {
            pascal.push(c.to_ascii_uppercase());
            capitalize = false;
        } else {
            pascal.push(c);
        }
    }
    pascal
}

/// The `ErrorCode` variant of an error code (`ResourceNotFound.Flow` -> `ResourceNotFoundFlow`).
pub fn error_variant(code: &str) -> String {
    pascal(&code.replace('.', "_"))
}

/// The kebab-case cargo feature name of an action (`CreateFlowSignUrl` -> `create-flow-sign-url`).
pub fn kebab(name: &str) -> String {
    if !name.is_ascii() {
        return name.to_kebab_case();
    }
    snake(name).replace('_', "-")
}

/// The PascalCase Rust name of a wire name or enum value name.
pub fn pascal(name: &str) -> String {
    if !name.is_ascii() {
        return name.to_upper_camel_case();
    }
    let mut out = String::with_capacity(name.len());
    ascii_words(name, |word| {
        let mut bytes = word.bytes();
        if let Some(first) = bytes.next() {
            out.push(char::from(first.to_ascii_uppercase()));
        }
        out.extend(bytes.map(|b| char::from(b.to_ascii_lowercase())));
    });
    out
}

/// Splits an ASCII name into the words heck splits it into, for [`snake`], [`kebab`] and
/// [`pascal`]: every name of the spec is ASCII, and heck's Unicode-aware, formatter-driven
/// conversion was a tenth of the generator's time. Non-alphanumerics separate words; a word
/// also ends before an uppercase letter that follows a lowercase one (`flowId`), and before
/// the last of a run of uppercase letters that a lowercase one follows (`QRCode`). A test
/// holds this equal to heck.
fn ascii_words(name: &str, mut word: impl FnMut(&str)) {
    #[derive(Clone, Copy, PartialEq)]
    enum Case {
        None,
        Lower,
        Upper,
    }
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let bytes = part.as_bytes();
        let mut start = 0;
        let mut case = Case::None;
        for (i, &c) in bytes.iter().enumerate() {
            let Some(&next) = bytes.get(i + 1) else {
                word(&part[start..]);
                break;
            };
            let with_c = if c.is_ascii_lowercase() {
                Case::Lower
            } else if c.is_ascii_uppercase() {
                Case::Upper
            } else {
                case
            };
            if with_c == Case::Lower && next.is_ascii_uppercase() {
                word(&part[start..=i]);
                start = i + 1;
                case = Case::None;
            } else if case == Case::Upper && c.is_ascii_uppercase() && next.is_ascii_lowercase() {
                word(&part[start..i]);
                start = i;
                case = Case::None;
            } else {
                case = with_c;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_pascal_case_inverts_snake_case_except_for_acronyms() {
        assert_eq!(serde_pascal("flow_id"), "FlowId");
        assert_eq!(
            serde_pascal(&snake("ApproverIdCardNumber")),
            "ApproverIdCardNumber"
        );
        assert_eq!(serde_pascal(&snake("QRCodeUrl")), "QrCodeUrl");
        assert_eq!(serde_pascal("type"), "Type");
    }

    #[test]
    fn snake_case_of_wire_names() {
        assert_eq!(snake("FlowApproverInfos"), "flow_approver_infos");
        assert_eq!(snake("FlowId"), snake("FlowID"));
        assert_eq!(snake("CreateFlowSignUrl"), "create_flow_sign_url");
        assert_eq!(snake("Type"), "type");
    }

    #[test]
    fn ascii_conversions_agree_with_heck_on_the_hard_cases() {
        for name in [
            "QRCodeUrl",
            "FlowID",
            "flowId",
            "ABC",
            "A",
            "a",
            "x1Y2",
            "Foo_bar1",
            "__a__b",
            "HTTPServer2Go",
            "ResourceNotFound_Flow",
            "v2Beta",
            "IDs",
            "aB",
            "Ab",
            "AB_cD",
            "UnsupportedOperation_1",
            "OS2Name",
            "",
        ] {
            assert_eq!(snake(name), name.to_snake_case(), "snake {name:?}");
            assert_eq!(kebab(name), name.to_kebab_case(), "kebab {name:?}");
            assert_eq!(pascal(name), name.to_upper_camel_case(), "pascal {name:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ascii_conversions_agree_with_heck(name in "[A-Za-z0-9_.-]{0,24}") {
            proptest::prop_assert_eq!(snake(&name), name.to_snake_case());
            proptest::prop_assert_eq!(kebab(&name), name.to_kebab_case());
            proptest::prop_assert_eq!(pascal(&name), name.to_upper_camel_case());
        }
    }

    #[test]
    fn keyword_classes() {
        assert!(is_keyword("type"));
        assert!(!is_unescapable_keyword("type"));
        assert!(is_unescapable_keyword("self"));
        assert!(is_pascal_ident("UserInfo"));
        assert!(!is_pascal_ident("userInfo"));
        assert!(!is_pascal_ident("User-Info"));
        assert!(is_wire_ident("Foo_bar1"));
        assert!(!is_wire_ident("1Foo"));
    }

    #[test]
    fn reserved_names_say_why() {
        assert!(reserved("Client").unwrap().contains("generated `Client`"));
        assert!(reserved("Path").unwrap().contains("ess_runtime::Path"));
        assert!(reserved("Option").unwrap().contains("prelude"));
        assert_eq!(reserved("FlowApproverInfo"), None);
    }
}
