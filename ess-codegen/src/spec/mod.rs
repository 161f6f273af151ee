//! The spec: its YAML model, loading with positions, and validation.
//!
//! [`load_str`] and [`load_file`] parse a spec and validate it; any problem comes back as
//! [`Diagnostics`] naming `file:line:col`, never as a panic.

pub(crate) mod checked;
mod diagnostic;
pub mod model;
mod typeref;
mod valid;

use std::path::Path;

pub use checked::Validated;
pub(crate) use checked::Value;
pub use diagnostic::{Diagnostic, Diagnostics, did_you_mean, suggest};
pub use marked_yaml::{Span, Spanned};
pub use model::*;
pub use typeref::{Scalar, TypeRef};
pub use valid::{SPEC_VERSION, is_error_code, validate};

use marked_yaml::spanned_serde::NodeDeserializer;
use marked_yaml::{FromYamlError, LoadError, LoaderOptions};

/// Deeper nesting than this is refused before parsing (the YAML parser recurses per level).
const MAX_NESTING: usize = 256;

/// Reads, parses and validates the spec at `path`. Diagnostics name the file as `path` shows it.
pub fn load_file(path: &Path) -> Result<Validated, Diagnostics> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new(&file, 0, 0, format!("cannot read spec: {e}"))
            .with_hint("check the path; it is relative to the crate that names it")
    })?;
    load_str(&file, &text)
}

/// Parses and validates spec text; `file` is the name diagnostics use.
pub fn load_str(file: &str, text: &str) -> Result<Validated, Diagnostics> {
    let spec = parse_str(file, text)?;
    match valid::check(&spec, file) {
        Ok(checked) => Ok(Validated::new(spec, checked)),
        Err(diags) => Err(Diagnostics(diags)),
    }
}

/// Parses spec text into the model without validating it.
pub fn parse_str(file: &str, text: &str) -> Result<Spec, Diagnostics> {
    check_nesting(file, text)?;
    parse_checked(file, text)
}

/// Parses any YAML document into `T` with spans, turning every failure into a diagnostic.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, Diagnostics> {
    check_nesting(file, text)?;
    parse_checked(file, text)
}

/// Refuses nesting deep enough to overflow the parser's stack.
fn check_nesting(file: &str, text: &str) -> Result<(), Diagnostics> {
    if let Some((line, column)) = too_deep(text) {
        return Err(Diagnostic::new(
            file,
            line,
            column,
            format!("nesting deeper than {MAX_NESTING} levels"),
        )
        .with_hint("a spec never needs this; check for unbalanced brackets")
        .into());
    }
    Ok(())
}

/// [`parse_yaml`] for text whose nesting is checked.
fn parse_checked<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, Diagnostics> {
    let node =
        load_node(text).map_err(|e| from_yaml_error(file, text, FromYamlError::ParseYaml(e)))?;
    // The plain deserializer first: tracking the path costs time on every value and only a
    // failure needs it, so a failure is deserialized again with tracking.
    match deserialize_plain(&node) {
        Some(value) => Ok(value),
        None => marked_yaml::from_node::<T>(&node)
            .map_err(|e| from_yaml_error(file, text, FromYamlError::FromNode(e)).into()),
    }
}

/// The YAML tree of `text`, loaded as every spec is (a duplicate key is an error).
fn load_node(text: &str) -> Result<marked_yaml::Node, LoadError> {
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    marked_yaml::parse_yaml_with_options(0, text, options)
}

/// `T` from a loaded tree, without tracking the path; `None` when it does not fit (only a
/// deserialization that tracks the path can say where).
fn deserialize_plain<T: serde::de::DeserializeOwned>(node: &marked_yaml::Node) -> Option<T> {
    T::deserialize(NodeDeserializer::new(node)).ok()
}

fn from_yaml_error(file: &str, text: &str, error: FromYamlError) -> Diagnostic {
    match error {
        FromYamlError::ParseYaml(load) => load_error(file, load),
        FromYamlError::FromNode(node) => {
            let path = node.path().map(str::to_owned);
            let inner = node.into_inner();
            let (mut line, mut column) = inner
                .start_mark()
                .map_or((0, 0), |m| (m.line(), m.column()));
            let mut message = inner.to_string();
            let mut hint = None;
            if let marked_yaml::Error::UnknownFieldError(field, expected, _) = &inner {
                // The error carries the mapping's position; point at the key itself.
                (line, column) = find_key(text, (line, column), field).unwrap_or((line, column));
                message = if field.is_empty() {
                    "an empty key is not a field".to_owned()
                } else {
                    format!("unknown field `{field}`")
                };
                let fallback = format!("expected one of: {}", expected.join(", "));
                hint = Some(suggest(field, expected.iter().copied(), &fallback));
            }
            if let Some(path) = path.filter(|p| !p.is_empty() && p != ".") {
                // Keys read with their positions are not recorded in the path; show them as `*`.
                message = format!("{message} (at `{}`)", path.replace('?', "*"));
            }
            let d = Diagnostic::new(file, line, column, message);
            match hint {
                Some(h) => d.with_hint(h),
                None => d,
            }
        }
    }
}

fn load_error(file: &str, error: LoadError) -> Diagnostic {
    let at =
        |m: &marked_yaml::Marker, msg: String| Diagnostic::new(file, m.line(), m.column(), msg);
    match error {
        LoadError::TopLevelMustBeMapping(m) | LoadError::TopLevelMustBeSequence(m) => {
            at(&m, "a spec must be a YAML mapping".to_owned())
                .with_hint("start with `spec_version: 1`")
        }
        LoadError::UnexpectedAnchor(m) => {
            at(&m, "YAML anchors and aliases are not supported".to_owned())
                .with_hint("write the value out")
        }
        LoadError::MappingKeyMustBeScalar(m) => {
            at(&m, "mapping keys must be plain names".to_owned())
        }
        LoadError::UnexpectedTag(m) => {
            at(&m, "YAML tags are not supported".to_owned()).with_hint("remove the `!tag`")
        }
        LoadError::ScanError(m, e) => at(&m, format!("invalid YAML: {}", e.info())),
        LoadError::DuplicateKey(inner) => {
            let key = inner.key.as_str();
            let first = inner.prev_key.span().start().map_or(0, |m| m.line());
            let span = inner.key.span();
            Diagnostic::at(file, span, format!("`{key}` is defined twice")).with_hint(format!(
                "remove or rename one; the first is at line {first}"
            ))
        }
        #[allow(unreachable_patterns)]
        other => Diagnostic::new(file, 0, 0, other.to_string()),
    }
}

/// The position of the first `key:` at or after `from` (1-based line and column).
fn find_key(text: &str, from: (usize, usize), key: &str) -> Option<(usize, usize)> {
    if key.is_empty() {
        return None;
    }
    for (index, line) in text.lines().enumerate().skip(from.0.saturating_sub(1)) {
        let start = if index + 1 == from.0 {
            line.char_indices()
                .nth(from.1.saturating_sub(1))
                .map_or(line.len(), |(i, _)| i)
        } else {
            0
        };
        let mut search = start;
        while let Some(found) = line[search..].find(key) {
            let at = search + found;
            let before_ok = line[..at]
                .chars()
                .last()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_');
            let after = line[at + key.len()..].trim_start_matches([' ', '"', '\'']);
            if before_ok && after.starts_with(':') {
                return Some((index + 1, line[..at].chars().count() + 1));
            }
            search = at + key.len();
        }
    }
    None
}

/// Finds the first place where flow brackets or indentation nest deeper than [`MAX_NESTING`],
/// as (line, column). It runs on every load, so it looks only where memchr points: at line
/// ends for indentation, and at brackets and comments for flow nesting.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    // Indentation: a line nests that deep only if it is longer than its indent.
    let mut indented = None;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', bytes).chain([bytes.len()]) {
        let line = &bytes[start..end];
        if line.len() > 2 * MAX_NESTING + 1 {
            let indent = line.iter().take_while(|&&b| b == b' ' || b == b'-').count();
            if indent / 2 > MAX_NESTING {
                indented = Some(start);
                break;
            }
        }
        start = end + 1;
    }
    // Flow brackets, outside comments; depth carries across lines.
    let mut bracketed = None;
    let mut depth = 0usize;
    let mut at = 0;
    while at < bytes.len() {
        if depth == 0 {
            match memchr::memchr3(b'[', b'{', b'#', &bytes[at..]) {
                Some(next) => at += next,
                None => break,
            }
        }
        match bytes[at] {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    bracketed = Some(at);
                    break;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'#' => at = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |end| at + end),
            _ => {}
        }
        at += 1;
    }
    // The earlier of the two; an indented line is reported at its start, column 1.
    let found = match (indented, bracketed) {
        (Some(line), Some(bracket)) if bracket < line => bracket,
        (Some(line), _) => line,
        (None, bracket) => bracket?,
    };
    let before = &text[..found];
    let line = 1 + memchr::memchr_iter(b'\n', before.as_bytes()).count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = if Some(found) == indented {
        1
    } else {
        // Brackets are ASCII: the column counts the characters up to and including this one.
        text[line_start..=found].chars().count()
    };
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_flow_brackets_across_lines_and_skips_comments() {
        let deep = |n: usize| "[".repeat(n);
        // Brackets in a comment do not count.
        assert_eq!(too_deep(&format!("a: 1 # {}\n", deep(300))), None);
        // Open brackets carry over to the next lines, where every byte counts.
        let text = format!("a: {}\n{}\n", deep(200), deep(100));
        assert_eq!(too_deep(&text), Some((2, 57)));
        // Closed brackets give their depth back.
        let text = format!("a: {}{}\nb: {}\n", deep(200), "]".repeat(200), deep(200));
        assert_eq!(too_deep(&text), None);
        // Indentation counts too, and the earlier problem is the one reported.
        let text = format!("{}a: 1\n", " ".repeat(2 * MAX_NESTING + 2));
        assert_eq!(too_deep(&text), Some((1, 1)));
        let text = format!(
            "x: 1\n{}a: {}\n",
            " ".repeat(2 * MAX_NESTING + 2),
            deep(300)
        );
        assert_eq!(too_deep(&text), Some((2, 1)));
        let text = format!(
            "x: {}\n{}a: 1\n",
            deep(300),
            " ".repeat(2 * MAX_NESTING + 2)
        );
        assert_eq!(too_deep(&text), Some((1, 260)));
        // A comment inside brackets ends at its line; the brackets after it count.
        let text = format!("a: [ # {}\n{}\n", deep(300), deep(300));
        assert_eq!(too_deep(&text), Some((2, 256)));
    }
}
