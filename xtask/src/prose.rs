//! The "facts, not prose" guard: no run of upstream documentation may appear in our words.
//!
//! Our words all live in spec/overlay.yaml (docs in spec/ess.yaml are copied from it; titles
//! and example values are upstream facts kept on purpose). Any run of [`WINDOW`] characters
//! with some Chinese text in it that appears both in upstream docs (markup removed) and in the
//! overlay is a leak, unless it is part of an action's official title.

use std::collections::HashSet;

use crate::api::ApiJson;

/// Length of a shared run, in characters, that counts as copied prose.
const WINDOW: usize = 12;

/// A run must hold at least this many CJK characters (so member names do not count).
const MIN_CJK: usize = 4;

/// Runs of upstream documentation found in `ours`, shortest first.
pub(crate) fn leaks(api: &ApiJson, ours: &str) -> Vec<String> {
    // Only non-ASCII lines can hold Chinese prose; joining them (indentation removed) also
    // catches a sentence wrapped across lines of a block scalar.
    let haystack: String = ours
        .lines()
        .filter(|line| !line.is_ascii())
        .map(|line| normalize(line.trim_start()))
        .collect();
    let ours: HashSet<&str> = windows(&haystack)
        .map(|(_, w)| w)
        .filter(|w| cjk_count(w) >= MIN_CJK)
        .collect();
    if ours.is_empty() {
        return Vec::new();
    }
    let titles: Vec<&str> = api.actions.values().map(|a| a.name.trim()).collect();
    let mut found: Vec<String> = Vec::new();
    for doc in documents(api) {
        let text = plain_text(doc);
        // Consecutive shared windows make one copied run; report the run whole.
        let mut run: Option<(usize, usize)> = None;
        for (start, window) in windows(&text) {
            let copied = ours.contains(window) && !titles.iter().any(|t| t.contains(window));
            match (copied, run) {
                (true, Some((from, _))) => run = Some((from, start + window.len())),
                (true, None) => run = Some((start, start + window.len())),
                (false, Some((from, to))) => {
                    found.push(text[from..to].to_owned());
                    run = None;
                }
                (false, None) => {}
            }
        }
        if let Some((from, to)) = run {
            found.push(text[from..to].to_owned());
        }
    }
    found.sort_by_key(|run| (run.chars().count(), run.clone()));
    found.dedup();
    found
}

fn documents(api: &ApiJson) -> impl Iterator<Item = &str> {
    let actions = api.actions.values().map(|a| a.document.as_str());
    let objects = api.objects.values().flat_map(|o| {
        std::iter::once(o.document.as_str()).chain(o.members.iter().map(|m| m.document.as_str()))
    });
    actions.chain(objects)
}

/// Documentation with HTML tags removed, entities decoded and white space collapsed.
pub(crate) fn plain_text(doc: &str) -> String {
    let mut text = String::with_capacity(doc.len());
    let mut in_tag = false;
    for c in doc.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    normalize(&text)
}

/// A phrase by which a doc defers to a list it does not give ("and others the action
/// lists"): on a shared entry nothing lists them, so the reader is sent nowhere. The values
/// belong in the doc of each member that has them, as upstream gives them there.
pub(crate) fn defers_elsewhere(doc: &str) -> Option<&'static str> {
    const PHRASES: [&str; 5] = [
        "the action lists",
        "each action lists",
        "listed with it",
        "others the action",
        "each action accepts",
    ];
    let lower = doc.to_lowercase();
    PHRASES.into_iter().find(|p| lower.contains(p))
}

/// Whether upstream's documentation (plain text) states that the service no longer reads the
/// member: "no longer used" (不再使用), "abolished" (已废弃, 已经废除). "Will be abolished"
/// (即将废弃, 将被废弃) is a warning about the future, not this fact.
pub(crate) fn says_unused(doc: &str) -> bool {
    ["不再使用", "已废弃", "已经废除"]
        .iter()
        .any(|phrase| doc.contains(phrase))
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cjk_count(s: &str) -> usize {
    s.chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count()
}

/// Every run of [`WINDOW`] characters, with its byte offset.
fn windows(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let bounds: Vec<usize> = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .collect();
    let count = bounds.len().saturating_sub(WINDOW);
    (0..count).map(move |i| (bounds[i], &s[bounds[i]..bounds[i + WINDOW]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::parse_api;

    fn api(member_doc: &str) -> ApiJson {
        let json = serde_json::json!({
            "actions": {"CreateFlowSignUrl": {"document": "该接口用于发起合同后，生成用户的签署链接", "input": "Req", "output": "Resp", "name": "获取个人用户自动签的开通链接", "status": "online"}},
            "objects": {"Req": {"document": "请求参数结构体", "members": [
                {"name": "FlowId", "type": "string", "member": "string", "document": member_doc}
            ]}},
            "metadata": {"apiVersion": "2020-11-11", "serviceNameCN": "腾讯电子签企业版", "serviceShortName": "ess"},
            "version": "1.0"
        });
        parse_api(&json.to_string()).unwrap()
    }

    #[test]
    fn plain_text_drops_markup() {
        assert_eq!(
            plain_text("<p>合同流程ID为32位字符串。</p><p>在 &quot;合同&quot;\n 中</p>"),
            "合同流程ID为32位字符串。 在 \"合同\" 中"
        );
    }

    #[test]
    fn a_copied_sentence_is_a_leak_even_when_wrapped() {
        let api = api("<p>签署完之后的H5页面的跳转链接，最大长度1000个字符。</p>");
        let ours = "types:\n  Req:\n    doc: |-\n      签署完之后的H5页面的\n      跳转链接\n";
        assert_eq!(leaks(&api, ours), ["签署完之后的H5页面的跳转链接"]);
    }

    #[test]
    fn short_clauses_joined_by_commas_are_caught() {
        let api = api("返回的最大数量，默认为二十条记录");
        assert!(!leaks(&api, "doc: 返回的最大数量，默认为二十条记录\n").is_empty());
    }

    #[test]
    fn names_titles_and_our_words_are_not_leaks() {
        let api = api(
            "<p>签署完之后的H5页面的跳转链接，最大长度1000个字符。ApproverMobileModeSetting</p>",
        );
        let ours = "title: 获取个人用户自动签的开通链接\ndoc: Where the signer lands after signing (跳转链接), at most 1000 characters.\nname: ApproverMobileModeSetting\n";
        assert!(leaks(&api, ours).is_empty());
    }

    #[test]
    fn official_titles_quoted_in_docs_are_not_leaks() {
        let api = api("请参考获取个人用户自动签的开通链接一文");
        assert!(leaks(&api, "doc: see 获取个人用户自动签的开通链接 here\n").is_empty());
        // Copying beyond the title is still a leak.
        assert!(!leaks(&api, "doc: 请参考获取个人用户自动签的开通链接一文\n").is_empty());
    }
}
