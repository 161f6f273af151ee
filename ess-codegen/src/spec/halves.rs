//! A large spec parses in two halves on two threads. YAML parsing is most of loading (and
//! loading a third of the generator), and the entries of `types`, the last and largest
//! section, stand alone: the text splits at one of them into a spec with the first half
//! of the types and a map of the rest.
//!
//! Only a clean parse takes this path. Anything unusual about the text, and any error in
//! either half, gives `None`, and the caller parses the whole text on one thread, which
//! finds the problem and reports it as it always has.

use std::collections::HashSet;

use serde::de::DeserializeOwned;

use super::model::{NamedMap, Spec, TypeDef};

/// Below this size a second thread costs more than it saves.
const MIN_LEN: usize = 128 * 1024;

/// Parses `text` in two halves, or gives `None` for the caller to parse it whole.
pub(super) fn parse(text: &str) -> Option<Spec> {
    // A lone `\r` breaks lines for YAML, which the padding below does not mirror.
    if text.len() < MIN_LEN || memchr::memchr(b'\r', text.as_bytes()).is_some() {
        return None;
    }
    let at = split_point(text)?;
    let (head, tail) = text.split_at(at);
    // The second half is parsed after as many line breaks as the first has, so that its
    // lines and columns are those of the whole text. (Character offsets are not kept; no
    // diagnostic uses them, and yaml-rust2's own drift after every block scalar.)
    let lines = memchr::memchr_iter(b'\n', head.as_bytes()).count();
    let mut padded = String::with_capacity(lines + tail.len());
    padded.extend(std::iter::repeat_n('\n', lines));
    padded.push_str(tail);
    let (spec, rest) = std::thread::scope(|scope| {
        let rest = std::thread::Builder::new()
            .name("ess-spec-types".to_owned())
            .spawn_scoped(scope, || part::<NamedMap<TypeDef>>(&padded))
            .ok()?;
        let spec = part::<Spec>(head);
        Some((spec, rest.join().ok()?))
    })?;
    let (mut spec, rest) = (spec?, rest?);
    // A type in both halves is a duplicate key, which the whole parse reports.
    let first: HashSet<&str> = spec.types.iter().map(|(name, _)| name.as_str()).collect();
    let duplicate = rest.iter().any(|(name, _)| first.contains(name.as_str()));
    drop(first);
    if duplicate {
        return None;
    }
    spec.types.0.extend(rest.0);
    Some(spec)
}

/// One half, parsed and deserialized; its YAML tree is dropped on the thread that built it.
fn part<T: DeserializeOwned>(text: &str) -> Option<T> {
    let node = super::load_node(text).ok()?;
    super::deserialize_plain(&node)
}

/// Where the second half starts: the first line at or after about the middle of the text that
/// names a type (`  Name:` under a top-level `types:`). `None` unless `types:` is the last
/// top-level key: after it, every line must be blank, indented or a comment.
///
/// Any line indented by exactly two that reads `Name:` there is a key of `types`: a plain
/// or block scalar ends at a line indented this little, and a quoted or flow one cut there
/// leaves the first half unterminated, which fails its parse.
fn split_point(text: &str) -> Option<usize> {
    let types = if text.starts_with("types:") {
        0
    } else {
        memchr::memmem::find(text.as_bytes(), b"\ntypes:")? + 1
    };
    let body = types + text[types..].find('\n')? + 1;
    if !text[types + "types:".len()..body].trim().is_empty() {
        return None;
    }
    // A byte of types costs more to parse than a byte of the sections before them (shorter
    // scalars, more keys), so the halves balance a little past the middle of the text.
    let middle = text.len() / 20 * 11;
    let mut split = None;
    let mut at = body;
    for line in text[body..].split_inclusive('\n') {
        match line.as_bytes().first() {
            None | Some(b' ' | b'\n' | b'#') => {}
            Some(_) => return None,
        }
        if split.is_none() && at >= middle && is_type_key(line) {
            split = Some(at);
        }
        at += line.len();
    }
    split
}

/// Whether `line` is `  Name:`, a type's key in `types`.
fn is_type_key(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("  ") else {
        return false;
    };
    let Some((name, after)) = rest.split_once(':') else {
        return false;
    };
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && after.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole_spec() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/ess.yaml");
        std::fs::read_to_string(path).expect("spec/ess.yaml is readable")
    }

    #[test]
    fn halves_give_the_same_spec_and_positions_as_the_whole() {
        let text = whole_spec();
        let halves = parse(&text).expect("the spec splits");
        let whole = super::super::parse_yaml::<Spec>("ess.yaml", &text).expect("parses");
        // Debug shows every span; lines and columns must agree (character offsets are not
        // kept, see `parse`).
        let offsets = |debug: String| {
            let mut kept = String::with_capacity(debug.len());
            let mut rest = debug.as_str();
            while let Some(at) = rest.find("character: ") {
                kept.push_str(&rest[..at]);
                rest = &rest[at..];
                rest = &rest[rest.find(',').unwrap_or(rest.len())..];
            }
            kept.push_str(rest);
            kept
        };
        let (halves, whole) = (
            offsets(format!("{halves:?}")),
            offsets(format!("{whole:?}")),
        );
        if let Some(at) = halves.bytes().zip(whole.bytes()).position(|(a, b)| a != b) {
            let at = halves.floor_char_boundary(at.saturating_sub(200));
            panic!(
                "differ at byte {at}:\nhalves: {}\nwhole:  {}",
                &halves[at..halves.ceil_char_boundary(at + 400)],
                &whole[at..whole.ceil_char_boundary(at + 400)]
            );
        }
        assert_eq!(halves.len(), whole.len());
    }

    #[test]
    fn the_split_is_a_type_key_past_the_middle() {
        let text = whole_spec();
        let at = split_point(&text).expect("the spec splits");
        assert!(at >= text.len() / 2 && at < text.len());
        let line = text[at..].lines().next().unwrap();
        assert!(is_type_key(line), "{line:?}");
    }

    /// A spec padded with comments to the size that takes the threaded path.
    fn padded(body: &str) -> String {
        let filler = "# filler\n".repeat(MIN_LEN / 9 + 1);
        format!("{filler}{body}")
    }

    #[test]
    fn unusual_text_falls_back_to_the_whole_parse() {
        let types = format!(
            "{}types:\n  A:\n    members: []\n  B:\n    members: []\n",
            padded("")
        );
        assert!(split_point(&types).is_some());
        // Another top-level key after `types`.
        assert_eq!(split_point(&format!("{types}actions: {{}}\n")), None);
        // A document marker.
        assert_eq!(split_point(&format!("{types}---\n")), None);
        // No `types`.
        assert_eq!(split_point(&padded("actions: {}\n")), None);
        // Small texts never split.
        assert!(parse("types:\n  A:\n    members: []\n").is_none());
    }

    #[test]
    fn a_type_in_both_halves_is_left_to_the_whole_parse() {
        let mut text = whole_spec();
        let at = split_point(&text).unwrap();
        // Repeat the spec's first type right after the split.
        let first = text.find("\ntypes:\n").unwrap() + "\ntypes:\n".len();
        let lines: Vec<&str> = text[first..].split_inclusive('\n').collect();
        let len = 1 + lines[1..].iter().position(|l| is_type_key(l)).unwrap();
        let copy = lines[..len].concat();
        text.insert_str(at, &copy);
        assert!(parse(&text).is_none());
        let diags = crate::load_str("dup.yaml", &text).unwrap_err();
        assert!(
            diags.0.iter().any(|d| d.message.contains("defined twice")),
            "{diags:?}"
        );
    }

    #[test]
    fn type_keys() {
        assert!(is_type_key("  FlowCreateApprover:\n"));
        assert!(is_type_key("  A_1:  \n"));
        assert!(!is_type_key("    members:\n"));
        assert!(!is_type_key("  A: x\n"));
        assert!(!is_type_key("  - name: A\n"));
        assert!(!is_type_key("  \"A\":\n"));
    }
}
