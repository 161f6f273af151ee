//! The "facts, not prose" guard: no sentence of upstream documentation may appear in what we
//! commit. Upstream docs are cut into fragments at punctuation; any fragment long enough to be
//! prose (and containing CJK text) that appears verbatim in our text is a leak, unless it is
//! (part of) an action's official title, which the spec keeps as a name.

use std::collections::HashSet;

use crate::api::ApiJson;

/// Fragments shorter than this many characters are names and phrases, not prose.
const MIN_FRAGMENT_CHARS: usize = 12;

/// Upstream fragments that appear verbatim in any of `ours`.
pub(crate) fn leaks(api: &ApiJson, ours: &[&str]) -> Vec<String> {
    // Only non-ASCII lines can hold Chinese prose; joining them (indentation removed) also
    // catches a sentence wrapped across lines of a block scalar.
    let haystack: String = ours
        .iter()
        .flat_map(|text| text.lines())
        .filter(|line| !line.is_ascii())
        .map(str::trim_start)
        .collect();
    let windows = windows(&haystack);
    // Official titles are names, which the spec keeps on purpose.
    let titles: Vec<&str> = api.actions.values().map(|a| a.name.trim()).collect();
    let mut found: Vec<String> = documents(api)
        .flat_map(fragments)
        .filter(|f| f.chars().count() >= MIN_FRAGMENT_CHARS && f.chars().any(is_cjk))
        .filter(|f| {
            first_window(f).is_some_and(|w| windows.contains(w)) && haystack.contains(f.as_str())
        })
        .filter(|f| !titles.iter().any(|t| t.contains(f.as_str())))
        .collect();
    found.sort();
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

/// Splits documentation into fragments: HTML tags and entities removed, cut at punctuation.
pub(crate) fn fragments(doc: &str) -> Vec<String> {
    let mut text = String::with_capacity(doc.len());
    let mut in_tag = false;
    for c in doc.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push('\n');
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
    text.split(|c: char| "。，,；;：:！!？?（）()【】\n\r\t、\"“”`*".contains(c))
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

fn char_boundaries(s: &str) -> Vec<usize> {
    s.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .collect()
}

fn windows(s: &str) -> HashSet<&str> {
    let b = char_boundaries(s);
    (0..b.len().saturating_sub(MIN_FRAGMENT_CHARS))
        .map(|i| &s[b[i]..b[i + MIN_FRAGMENT_CHARS]])
        .collect()
}

fn first_window(s: &str) -> Option<&str> {
    let b = char_boundaries(s);
    b.get(MIN_FRAGMENT_CHARS).map(|&end| &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::parse_api;

    fn api(member_doc: &str) -> ApiJson {
        let json = serde_json::json!({
            "actions": {"CreateFlowSignUrl": {"document": "该接口用于发起合同后，生成用户的签署链接", "input": "Req", "output": "Resp", "name": "获取H5签署链接", "status": "online"}},
            "objects": {"Req": {"document": "请求参数结构体", "members": [
                {"name": "FlowId", "type": "string", "member": "string", "document": member_doc}
            ]}},
            "metadata": {"apiVersion": "2020-11-11", "serviceNameCN": "腾讯电子签企业版", "serviceShortName": "ess"},
            "version": "1.0"
        });
        parse_api(&json.to_string()).unwrap()
    }

    #[test]
    fn fragments_strip_markup_and_split_at_punctuation() {
        let f = fragments(
            "<p>合同流程ID为32位字符串。</p><p>您可以登录腾讯电子签控制台，在 &quot;合同&quot; 中查看</p>",
        );
        assert_eq!(
            f,
            [
                "合同流程ID为32位字符串",
                "您可以登录腾讯电子签控制台",
                "在",
                "合同",
                "中查看"
            ]
        );
    }

    #[test]
    fn a_copied_sentence_is_a_leak() {
        let api = api("<p>签署完之后的H5页面的跳转链接，最大长度1000个字符。</p>");
        let ours = "types:\n  Req:\n    doc: |-\n      签署完之后的H5页面的\n      跳转链接\n";
        assert_eq!(leaks(&api, &[ours]), ["签署完之后的H5页面的跳转链接"]);
    }

    #[test]
    fn names_titles_and_our_words_are_not_leaks() {
        let api = api("<p>签署完之后的H5页面的跳转链接，最大长度1000个字符。</p>");
        let ours = "title: 获取H5签署链接\ndoc: Where the signer lands after signing (跳转链接), at most 1000 characters.\n";
        assert!(leaks(&api, &[ours]).is_empty());
    }
}
