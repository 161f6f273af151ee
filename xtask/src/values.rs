//! Values a member's upstream doc lists (`<li><b>0</b>: ...</li>`, `HTTP: ...`): the facts
//! behind its enumeration. Import insists that each member whose doc lists values is typed
//! by an enum that has them all, or reviewed and kept as its wire type, so a value list
//! upstream adds or changes cannot pass unnoticed.

use ess_codegen::spec::Scalar;

use crate::{privacy, prose};

/// Wire values listed in `doc` (upstream HTML), in order, without repeats: each item, line
/// or clause that starts with a value and a colon (`0 :`, `**HTTP**：`). `None` when fewer
/// than two values are listed, or only `true`/`false` (a flag's doc).
pub(crate) fn listed(doc: &str) -> Option<Vec<String>> {
    let mut values: Vec<String> = Vec::new();
    for piece in pieces(doc) {
        if let Some(value) = leading_value(&prose::plain_text(piece))
            && !values.contains(&value)
        {
            values.push(value);
        }
    }
    let flags_only = values.iter().all(|v| v == "true" || v == "false");
    (values.len() >= 2 && !flags_only).then_some(values)
}

/// The doc split where a listed value may start: list items, line breaks and clauses.
fn pieces(doc: &str) -> Vec<&str> {
    const BREAKS: [&str; 9] = [
        "<li>", "<br>", "<br/>", "<br />", "\n", "；", ";", "，", "。",
    ];
    let mut out = Vec::new();
    let mut rest = doc;
    loop {
        let next = BREAKS
            .iter()
            .filter_map(|b| rest.find(b).map(|i| (i, b.len())))
            .min();
        match next {
            Some((i, len)) => {
                out.push(&rest[..i]);
                rest = &rest[i + len..];
            }
            None => {
                out.push(rest);
                return out;
            }
        }
    }
}

/// Whether a member of this spec type can have values an enum types: a scalar other than a
/// flag, or a list of them.
pub(crate) fn enumerable(ty: &str) -> bool {
    privacy::item_scalar(ty).is_some_and(|s| s != Scalar::Bool)
}

/// `0` from `0 : 企业`, `HTTP` from `**HTTP**：...`, `4` from `**4** - 执行成功`: an integer
/// or an identifier of 2 to 41 characters, then a colon (ASCII or full width), or a dash
/// after an emphasized value, emphasis marks aside.
fn leading_value(text: &str) -> Option<String> {
    let text = text.trim_start();
    let emphasized = text.starts_with("**");
    let text = text.trim_start_matches('*').trim_start();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphanumeric() || c == '_' || (i == 0 && c == '-')))
        .map_or(text.len(), |(i, _)| i);
    let token = &text[..end];
    let rest = text[end..]
        .trim_start()
        .trim_start_matches('*')
        .trim_start();
    let dash = emphasized && rest.starts_with("- ");
    if !(rest.starts_with(':') || rest.starts_with('：') || dash) {
        return None;
    }
    let number = token.strip_prefix('-').unwrap_or(token);
    let is_number = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
    let is_ident = token.len() >= 2
        && token.len() <= 41
        && token.starts_with(|c: char| c.is_ascii_alphabetic())
        && !token.contains('-');
    (is_number || is_ident).then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_clauses_and_lines_give_their_values() {
        assert_eq!(
            listed(
                "<ul><li> <b>0</b> :企业</li><li> <b>1</b> :个人</li><li><b>3</b>：自动</li></ul>"
            ),
            Some(vec!["0".into(), "1".into(), "3".into()])
        );
        assert_eq!(
            listed("跳转方式：<br>**HTTP**：链接<br>**APP**: 小程序路径；-2: 失败"),
            Some(vec!["HTTP".into(), "APP".into(), "-2".into()])
        );
        // An emphasized value may be followed by a dash instead of a colon.
        assert_eq!(
            listed("<ul><li>**1** - 排队中</li> <li>**PROCESSING**  - 执行中</li></ul>"),
            Some(vec!["1".into(), "PROCESSING".into()])
        );
        assert_eq!(listed("<li>1 - 一</li><li>2 - 二</li>"), None);
        // Repeats count once; prose with a colon after a word is not a value.
        assert_eq!(
            listed("<li>ID_CARD: 身份证</li><li>ID_CARD: 身份证</li><li>注: 说明</li>"),
            None
        );
    }

    #[test]
    fn flags_and_single_values_are_not_lists() {
        assert_eq!(listed("<li>true: 是</li><li>false: 否</li>"), None);
        assert_eq!(listed("<li>1: 只有一个</li>"), None);
        assert_eq!(listed("没有列出的值"), None);
        assert_eq!(listed(""), None);
    }
}
