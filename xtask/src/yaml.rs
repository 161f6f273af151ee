//! A small YAML writer for the spec: block mappings and sequences, flow style for short
//! constraint maps, plain scalars where unambiguous, and double quotes everywhere else.
//! Output is deterministic and one fact per line, so spec diffs stay small.

use std::fmt::Write;

/// A YAML value to write.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A string, quoted when a plain scalar would read differently.
    Str(String),
    /// A number or boolean, written as is.
    Raw(String),
    /// A block sequence.
    Seq(Vec<Node>),
    /// A block mapping in insertion order.
    Map(Vec<(String, Node)>),
    /// A one-line sequence (`[a, b]`).
    FlowSeq(Vec<Node>),
    /// A one-line mapping (`{min: 1, max: 10}`).
    FlowMap(Vec<(String, Node)>),
}

/// Builds a block mapping, skipping absent optional values.
#[derive(Debug, Default)]
pub(crate) struct MapBuilder(Vec<(String, Node)>);

impl MapBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn node(mut self, key: &str, value: Node) -> Self {
        self.0.push((key.to_owned(), value));
        self
    }

    pub(crate) fn str(self, key: &str, value: impl Into<String>) -> Self {
        self.node(key, Node::Str(value.into()))
    }

    pub(crate) fn opt_str(self, key: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    pub(crate) fn opt_node(self, key: &str, value: Option<Node>) -> Self {
        match value {
            Some(v) => self.node(key, v),
            None => self,
        }
    }

    /// `key: true`, written only when set.
    pub(crate) fn flag(self, key: &str, value: bool) -> Self {
        if value {
            self.node(key, Node::Raw("true".into()))
        } else {
            self
        }
    }

    pub(crate) fn build(self) -> Node {
        Node::Map(self.0)
    }

    pub(crate) fn build_flow(self) -> Node {
        Node::FlowMap(self.0)
    }
}

/// Writes a document whose root is a mapping, after `header` comment lines.
pub(crate) fn document(header: &[String], root: &Node) -> String {
    let mut out = String::new();
    for line in header {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
    match root {
        Node::Map(entries) => write_map(&mut out, entries, 0),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, entries: &[(String, Node)], indent: usize) {
    for (key, value) in entries {
        pad(out, indent);
        out.push_str(&scalar(key));
        out.push(':');
        write_value(out, value, indent);
    }
}

/// Writes what follows `key:` (or `- `), including the newline.
fn write_value(out: &mut String, value: &Node, indent: usize) {
    match value {
        Node::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            write_map(out, entries, indent + 2);
        }
        Node::Seq(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        Node::Str(s) if is_block_text(s) => {
            out.push_str(" |-\n");
            for line in s.lines() {
                if !line.is_empty() {
                    pad(out, indent + 2);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        Node::Str(s) => {
            out.push(' ');
            out.push_str(&block_scalar(s));
            out.push('\n');
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Node], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            Node::Map(entries) if !entries.is_empty() => {
                // The first key shares the dash's line; the rest align under it.
                let (first_key, first_value) = &entries[0];
                out.push(' ');
                out.push_str(&scalar(first_key));
                out.push(':');
                write_value(out, first_value, indent + 2);
                write_map(out, &entries[1..], indent + 2);
            }
            other => write_value(out, other, indent),
        }
    }
}

fn inline(node: &Node) -> String {
    match node {
        Node::Str(s) => scalar(s),
        Node::Raw(r) => r.clone(),
        Node::Seq(items) | Node::FlowSeq(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Node::Map(entries) | Node::FlowMap(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(k), inline(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Multi-line text that reads back unchanged from a `|-` block.
fn is_block_text(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && !s.ends_with(['\n', ' ', '\t'])
        && !s.lines().any(|l| l.ends_with([' ', '\t']))
        && !s.chars().any(|c| c.is_control() && c != '\n')
}

/// A string in block context (a mapping value or list item): commas and brackets may stay plain.
fn block_scalar(s: &str) -> String {
    if is_plain_safe(s, false) {
        s.to_owned()
    } else {
        scalar(s)
    }
}

/// A string as a plain scalar when that reads back as the same string (in any context),
/// else double-quoted.
pub(crate) fn scalar(s: &str) -> String {
    if is_plain_safe(s, true) {
        s.to_owned()
    } else {
        // JSON string syntax is valid YAML double-quoted syntax.
        serde_json::to_string(s).expect("strings always serialize")
    }
}

fn is_plain_safe(s: &str, in_flow: bool) -> bool {
    const SPECIAL_WORDS: &[&str] = &[
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
        return false;
    }
    if s.ends_with(|c: char| c.is_whitespace() || c == ':') {
        return false;
    }
    if s.contains(": ")
        || s.contains(" #")
        || s.contains(['\n', '\r', '\t'])
        || s.chars().any(char::is_control)
    {
        return false;
    }
    if SPECIAL_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return false;
    }
    // Anything number-like stays a string only when quoted.
    if first.is_ascii_digit() || first == '.' || first == '+' {
        return false;
    }
    // Flow indicators would end a plain scalar inside `[..]` and `{..}`.
    !in_flow || !s.contains([',', '[', ']', '{', '}'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_strings_are_quoted() {
        assert_eq!(scalar("FlowId"), "FlowId");
        assert_eq!(scalar("获取H5签署链接"), "获取H5签署链接");
        assert_eq!(scalar("5"), "\"5\"");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("No"), "\"No\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("[\"WEIXINAPP\"]"), "\"[\\\"WEIXINAPP\\\"]\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("-1"), "\"-1\"");
        assert_eq!(scalar("https://x.cn/a"), "https://x.cn/a");
        assert_eq!(scalar("a, b"), "\"a, b\"");
        assert_eq!(block_scalar("a, b [c]"), "a, b [c]");
        assert_eq!(block_scalar("[c]"), "\"[c]\"");
    }

    #[test]
    fn documents_are_block_style_with_flow_constraints() {
        let root = MapBuilder::new()
            .node("spec_version", Node::Raw("1".into()))
            .node(
                "members",
                Node::Seq(vec![
                    MapBuilder::new()
                        .str("name", "FlowId")
                        .flag("required", true)
                        .flag("nullable", false)
                        .node(
                            "length",
                            MapBuilder::new()
                                .node("exact", Node::Raw("32".into()))
                                .build_flow(),
                        )
                        .str("doc", "Line one.\nLine two.")
                        .build(),
                ]),
            )
            .node("empty", Node::Seq(vec![]))
            .build();
        let text = document(&["generated".into()], &root);
        assert_eq!(
            text,
            "# generated\nspec_version: 1\nmembers:\n  - name: FlowId\n    required: true\n    length: {exact: 32}\n    doc: |-\n      Line one.\n      Line two.\nempty: []\n"
        );
    }
}
