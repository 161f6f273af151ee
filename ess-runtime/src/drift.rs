//! Drift: an answer whose value has another JSON type than its documentation gives, as
//! Tencent's services are known to send (`"Total":"23"` for an integer, `23.0` for an
//! integer, a number for a string, `"true"` for a boolean). Such an answer first fails the
//! typed decode; then each value at the failing path is converted to the documented type
//! when the conversion loses nothing, and the decode runs again. Every repair is reported
//! through tracing with the action, the JSON path and both kinds, never the value. Anything
//! else (text where a number belongs, `1.5` for an integer, a RequestId that is no string)
//! stays a decode error.

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::{Error as PathError, Segment};

/// The most repairs one answer gets before its decode error stands.
const MAX_REPAIRS: usize = 256;

/// What the typed decode wanted, from serde's message (`expected i64`, `expected a string`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Integer,
    Unsigned,
    Float,
    Text,
    Bool,
}

impl Expected {
    fn of(message: &str) -> Option<Expected> {
        Self::named(wanted(message)?)
    }

    /// The kind serde's `expected ...` text (`i64`, `a string`) names.
    fn named(wanted: &str) -> Option<Expected> {
        Some(match wanted {
            w if w.starts_with("i64") || w.starts_with("i32") => Expected::Integer,
            w if w.starts_with("u64") || w.starts_with("u32") => Expected::Unsigned,
            w if w.starts_with("f64") || w.starts_with("f32") => Expected::Float,
            w if w.starts_with("a string") => Expected::Text,
            w if w.starts_with("a boolean") => Expected::Bool,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Expected::Integer | Expected::Unsigned => "integer",
            Expected::Float => "number",
            Expected::Text => "string",
            Expected::Bool => "boolean",
        }
    }
}

/// What serde's message says was expected (the text after its last `expected `, without
/// serde_json's ` at line 1 column 13`): the type's own description, never the value.
fn wanted(message: &str) -> Option<&str> {
    let (_, wanted) = message.rsplit_once("expected ")?;
    Some(wanted.split(" at line ").next().unwrap_or(wanted))
}

/// The JSON kind of a value, for reports (never the value).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// `value` as the documented type, when that loses nothing.
fn convert(value: &Value, expected: Expected) -> Option<Value> {
    match (expected, value) {
        (Expected::Integer, Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
        (Expected::Unsigned, Value::String(s)) => s.trim().parse::<u64>().ok().map(Value::from),
        (Expected::Integer | Expected::Unsigned, Value::Number(n)) => {
            let x = n.as_f64()?;
            // Only a float with no fraction that the integer type holds exactly.
            let whole = x.fract() == 0.0 && x.abs() < 9.0e15;
            match expected {
                Expected::Unsigned if whole && x >= 0.0 => Some(Value::from(x as u64)),
                Expected::Integer if whole => Some(Value::from(x as i64)),
                _ => None,
            }
        }
        (Expected::Float, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        (Expected::Text, Value::Number(n)) => Some(Value::String(n.to_string())),
        (Expected::Text, Value::Bool(b)) => Some(Value::String(b.to_string())),
        (Expected::Bool, Value::String(s)) => match s.trim() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        (Expected::Bool, Value::Number(n)) => match n.as_u64() {
            Some(0) => Some(Value::Bool(false)),
            Some(1) => Some(Value::Bool(true)),
            _ => None,
        },
        _ => None,
    }
}

/// The value at `path` in `root`.
fn at<'a>(root: &'a mut Value, path: &serde_path_to_error::Path) -> Option<&'a mut Value> {
    let mut here = root;
    for segment in path.iter() {
        here = match segment {
            Segment::Seq { index } => here.get_mut(*index)?,
            Segment::Map { key } => here.get_mut(key.as_str())?,
            Segment::Enum { .. } | Segment::Unknown => return None,
        };
    }
    Some(here)
}

/// Decodes `bytes` as `T` after `first` (the typed decode's failure), repairing drift; the
/// failure that remains when a value cannot be repaired.
pub(crate) fn repair<T: DeserializeOwned>(
    action: &str,
    bytes: &[u8],
    first: PathError<serde_json::Error>,
) -> Result<T, PathError<serde_json::Error>> {
    let Ok(mut tree) = serde_json::from_slice::<Value>(bytes) else {
        return Err(first);
    };
    let mut error = first;
    for _ in 0..MAX_REPAIRS {
        // The envelope's own RequestId is no drift: an answer without a string one is no
        // API answer, as the transport judges it too.
        if error.path().to_string() == "Response.RequestId" {
            return Err(error);
        }
        let Some(expected) = Expected::of(&error.inner().to_string()) else {
            return Err(error);
        };
        let Some(value) = at(&mut tree, error.path()) else {
            return Err(error);
        };
        let Some(repaired) = convert(value, expected) else {
            return Err(error);
        };
        tracing::warn!(
            action,
            path = %error.path(),
            expected = expected.name(),
            found = kind(value),
            "the answer has another type than documented here; decoded as documented"
        );
        *value = repaired;
        error = match serde_path_to_error::deserialize::<_, T>(&tree) {
            Ok(decoded) => return Ok(decoded),
            Err(e) => e,
        };
    }
    Err(error)
}

/// What is wrong at `error`'s path, in our own words: the kinds expected and found (or the
/// member that is missing), never serde's message, which quotes the value it could not read
/// (`invalid type: string "张三 138...", expected i64`). `bytes` is the answer, read again
/// only to name the kind of the value found.
pub(crate) fn describe(bytes: &[u8], error: &PathError<serde_json::Error>) -> String {
    use serde_json::error::Category;
    let inner = error.inner();
    match inner.classify() {
        Category::Io => return "the answer could not be read".to_owned(),
        Category::Syntax => {
            return format!(
                "not valid JSON (line {}, column {})",
                inner.line(),
                inner.column()
            );
        }
        Category::Eof => return "the JSON ends early".to_owned(),
        Category::Data => {}
    }
    let message = inner.to_string();
    // `missing field `FlowId``: the name is the type's own, not the answer's.
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some((member, _)) = rest.split_once('`')
    {
        return format!("the required member `{member}` is missing");
    }
    let expected = wanted(&message).map_or("another value", expected_kind);
    let found = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|mut tree| at(&mut tree, error.path()).map(|value| kind(value)));
    match found {
        Some(found) => format!("expected {expected}, found {found}"),
        None => format!("expected {expected}"),
    }
}

/// The kind serde's `expected ...` names, in our words (it describes the type, never the
/// value; anything unrecognised reads as "another value").
fn expected_kind(wanted: &str) -> &'static str {
    match Expected::named(wanted) {
        Some(Expected::Integer | Expected::Unsigned) => "an integer",
        Some(Expected::Float) => "a number",
        Some(Expected::Text) => "a string",
        Some(Expected::Bool) => "a boolean",
        None if wanted.starts_with("a sequence") => "a list",
        None if wanted.starts_with("struct ") || wanted.starts_with("a map") => "an object",
        None if wanted.starts_with("one of") || wanted.starts_with("variant") => "a listed value",
        None => "another value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Page {
        total: Option<i64>,
        count: Option<u64>,
        ratio: Option<f64>,
        name: Option<String>,
        done: Option<bool>,
        items: Option<Vec<Item>>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Item {
        id: Option<String>,
        size: Option<i64>,
    }

    fn decode(json: &str) -> Result<Page, String> {
        let first = match serde_path_to_error::deserialize::<_, Page>(
            &mut serde_json::Deserializer::from_str(json),
        ) {
            Ok(page) => return Ok(page),
            Err(e) => e,
        };
        repair::<Page>("Test", json.as_bytes(), first).map_err(|e| e.path().to_string())
    }

    #[test]
    fn drift_that_loses_nothing_decodes_as_documented() {
        let page = decode(
            r#"{"Total":"23","Count":7.0,"Ratio":"0.5","Name":12,"Done":"true",
                "Items":[{"Id":1001,"Size":"4"},{"Id":"x","Size":5}]}"#,
        )
        .unwrap();
        assert_eq!(
            page,
            Page {
                total: Some(23),
                count: Some(7),
                ratio: Some(0.5),
                name: Some("12".into()),
                done: Some(true),
                items: Some(vec![
                    Item {
                        id: Some("1001".into()),
                        size: Some(4)
                    },
                    Item {
                        id: Some("x".into()),
                        size: Some(5)
                    },
                ]),
            }
        );
        // null for a list is no drift at all.
        assert_eq!(decode(r#"{"Items":null}"#).unwrap().items, None);
    }

    #[test]
    fn anything_else_stays_an_error_at_its_path() {
        assert_eq!(decode(r#"{"Total":"many"}"#).unwrap_err(), "Total");
        assert_eq!(decode(r#"{"Total":1.5}"#).unwrap_err(), "Total");
        assert_eq!(decode(r#"{"Count":"-1"}"#).unwrap_err(), "Count");
        assert_eq!(
            decode(r#"{"Items":[{"Size":[1]}]}"#).unwrap_err(),
            "Items[0].Size"
        );
        assert_eq!(decode(r#"{"Done":"yes"}"#).unwrap_err(), "Done");
    }
}
