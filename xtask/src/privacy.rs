//! Member names that look like personal data or secrets. Import insists that each member so
//! named is classified in the overlay (`sensitive: true`, or `false` once reviewed), so a new
//! upstream member carrying a phone number cannot reach `Debug` output unnoticed.

use ess_codegen::spec::{Scalar, TypeRef};

/// Words of a PascalCase name that suggest personal data or a secret: contact details, names,
/// addresses, links (the service's links are bearer credentials), codes and tokens, network
/// addresses, and face or video verification data.
const WORDS: &[&str] = &[
    "mobile", "phone", "email", "mail", "name", "names", "address", "url", "urls", "link", "pin",
    "password", "secret", "token", "ip", "face", "video", "qr", "qrcode",
];

/// Adjacent words that do: identity document and bank account numbers.
const PAIRS: &[(&str, &str)] = &[
    ("id", "card"),
    ("id", "number"),
    ("card", "number"),
    ("bank", "account"),
];

/// Whether a member of this name and spec type needs a classification: its name looks
/// personal and its value is a scalar or a list of scalars. Members of a named type are
/// left to that type's own members.
pub(crate) fn needs_classification(name: &str, ty: &str) -> bool {
    item_scalar(ty).is_some() && looks_personal(name)
}

/// The scalar of a spec type or of its list items (`list<string>`: string); `None` for a
/// named type.
pub(crate) fn item_scalar(ty: &str) -> Option<Scalar> {
    TypeRef::parse(ty).ok().and_then(|t| t.item_scalar())
}

/// Whether a PascalCase member name looks like it carries personal data or a secret.
pub(crate) fn looks_personal(name: &str) -> bool {
    let words = words(name);
    words.iter().any(|w| WORDS.contains(&w.as_str()))
        || words
            .windows(2)
            .any(|pair| PAIRS.contains(&(pair[0].as_str(), pair[1].as_str())))
}

/// What upstream's documentation (plain text) says a text member holds, when it states that
/// the value is personal data: "is a mobile number" (为手机号), or an email, a name, an ID
/// number or a home address put the same way ("fill in"/"pass in" as well as "is"). Flags and
/// numbers hold no such data whatever their docs mention.
pub(crate) fn doc_says_personal(doc: &str, ty: &str) -> Option<&'static str> {
    if !matches!(ty, "string" | "list<string>") {
        return None;
    }
    const HOLDS: [(&str, &str); 6] = [
        ("手机号", "a mobile number"),
        ("邮箱", "an email address"),
        ("姓名", "a name"),
        ("证件号", "an ID number"),
        ("身份证号", "an ID number"),
        ("住址", "a home address"),
    ];
    HOLDS.iter().find_map(|(noun, what)| {
        ["为", "填写", "传入"]
            .iter()
            .any(|verb| doc.contains(&format!("{verb}{noun}")))
            .then_some(*what)
    })
}

/// Splits `QRCodeUrl` into `qr`, `code`, `url` and `ApproverIdCardNumber` into `approver`,
/// `id`, `card`, `number`.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let starts_word = i > 0
            && c.is_uppercase()
            && (chars[i - 1].is_lowercase()
                || chars[i - 1].is_ascii_digit()
                || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if starts_word && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doc_that_says_the_value_is_personal_is_found() {
        assert_eq!(
            doc_says_personal("通知类型为短信时，此处为手机号", "string"),
            Some("a mobile number")
        );
        assert_eq!(
            doc_says_personal("请填写邮箱", "string"),
            Some("an email address")
        );
        // Mentioning a kind of data is not holding it; flags hold none.
        assert_eq!(doc_says_personal("签署人手机号传参模式", "string"), None);
        assert_eq!(doc_says_personal("此处为手机号", "bool"), None);
    }

    #[test]
    fn splits_pascal_case_with_acronyms() {
        assert_eq!(words("QRCodeUrl"), ["qr", "code", "url"]);
        assert_eq!(
            words("ApproverIdCardNumber"),
            ["approver", "id", "card", "number"]
        );
        assert_eq!(words("ClientIp"), ["client", "ip"]);
        assert_eq!(words("Url"), ["url"]);
    }

    #[test]
    fn personal_names_match_and_lookalike_words_do_not() {
        for name in [
            "ApproverMobile",
            "IdCardNumber",
            "Email",
            "SignUrl",
            "ClientIp",
            "CallbackToken",
            "LiveNessVideo",
            "WeixinQrcodeUrl",
            "BankAccountNumber",
            "LegalNameSame",
        ] {
            assert!(looks_personal(name), "{name}");
        }
        for name in [
            "RecipientId",
            "Description",
            "TipText",
            "FlowId",
            "Tips",
            "Pinned",
        ] {
            assert!(!looks_personal(name), "{name}");
        }
    }

    #[test]
    fn only_scalar_values_need_a_classification() {
        assert!(needs_classification("Mobile", "string"));
        assert!(needs_classification("SignUrls", "list<string>"));
        assert!(!needs_classification(
            "FlowApproverUrlInfos",
            "list<FlowApproverUrlInfo>"
        ));
        assert!(!needs_classification("FlowId", "string"));
    }
}
