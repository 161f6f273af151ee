//! What validation establishes about a spec, parsed once: every member's type, typed range
//! bounds, enum values by their scalar, and requirement paths resolved to members.
//! [`Validated`] pairs a spec with these facts; the IR is built from it and cannot fail.

use std::collections::BTreeMap;
use std::ops::Deref;

use super::model::Spec;
use super::typeref::{Scalar, TypeRef};

/// A spec that passed validation, with the facts validation parsed. It derefs to the [`Spec`]
/// as written; only [`crate::load_str`] and [`crate::load_file`] make one.
#[derive(Debug)]
pub struct Validated {
    spec: Spec,
    checked: Checked,
}

impl Validated {
    pub(crate) fn new(spec: Spec, checked: Checked) -> Self {
        Self { spec, checked }
    }

    /// The spec as written, without the parsed facts.
    pub fn into_spec(self) -> Spec {
        self.spec
    }

    pub(crate) fn checked(&self) -> &Checked {
        &self.checked
    }
}

impl Deref for Validated {
    type Target = Spec;

    fn deref(&self) -> &Spec {
        &self.spec
    }
}

/// A scalar value written in the spec (a bound, an enum value, a requirement's condition),
/// parsed by its type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Text.
    String(String),
    /// A signed integer.
    Int64(i64),
    /// An unsigned integer.
    Uint64(u64),
    /// A finite floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// Parses `text` as a value of `scalar`; `None` when it is not one.
    pub(crate) fn parse(scalar: Scalar, text: &str) -> Option<Value> {
        Some(match scalar {
            Scalar::String => Value::String(text.to_owned()),
            Scalar::Int64 => Value::Int64(text.parse().ok()?),
            Scalar::Uint64 => Value::Uint64(text.parse().ok()?),
            Scalar::Float => Value::Float(text.parse().ok().filter(|f: &f64| f.is_finite())?),
            Scalar::Bool => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return None,
            },
        })
    }

    /// Whether `self` is greater than `other`, for two numbers of one scalar.
    pub(crate) fn exceeds(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int64(a), Value::Int64(b)) => a > b,
            (Value::Uint64(a), Value::Uint64(b)) => a > b,
            (Value::Float(a), Value::Float(b)) => a > b,
            _ => false,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::String(text) => f.write_str(text),
            Value::Int64(n) => write!(f, "{n}"),
            Value::Uint64(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// The parsed facts, by position in the spec's maps and lists.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// Per type, per member (both in spec order).
    pub(crate) members: Vec<Vec<MemberFacts>>,
    /// Per enum, in spec order.
    pub(crate) enums: Vec<EnumFacts>,
    /// Per action, in spec order.
    pub(crate) actions: Vec<ActionFacts>,
    /// Every error code (common and service), with its `ErrorCode` variant.
    pub(crate) error_variants: BTreeMap<String, String>,
}

/// A member's type, bounds and field name.
#[derive(Debug)]
pub(crate) struct MemberFacts {
    pub(crate) ty: TypeRef,
    /// The snake_case field name.
    pub(crate) field: String,
    /// Inclusive numeric bounds, when the member has a range.
    pub(crate) range: Option<(Option<Value>, Option<Value>)>,
}

impl MemberFacts {
    /// Stands in for a member whose problems validation reported: the spec is rejected, so
    /// nothing reads it.
    pub(crate) const UNCHECKED: MemberFacts = MemberFacts {
        ty: TypeRef::Scalar(Scalar::String),
        field: String::new(),
        range: None,
    };
}

/// An enum's scalar, its values and their variant names (both in spec order).
#[derive(Debug)]
pub(crate) struct EnumFacts {
    pub(crate) scalar: Scalar,
    pub(crate) values: Vec<Value>,
    pub(crate) variants: Vec<String>,
}

/// An action's endpoint group and requirements, resolved.
#[derive(Debug)]
pub(crate) struct ActionFacts {
    /// Index of its endpoint group in `service.endpoints` (`default` unless it names one).
    pub(crate) endpoint: usize,
    /// Its requirements, in order.
    pub(crate) requirements: Vec<RequirementFacts>,
    /// Its paging, resolved.
    pub(crate) pagination: Option<PaginationFacts>,
    /// Its waiter, resolved.
    pub(crate) waiter: Option<WaiterFacts>,
}

/// A list action's paging, resolved to members.
#[derive(Debug)]
pub(crate) struct PaginationFacts {
    /// What `Offset` counts.
    pub(crate) offset: super::model::OffsetKind,
    /// `Offset` and `Limit`, by index in the request type.
    pub(crate) offset_member: usize,
    /// The items member (a list), by index in the response type.
    pub(crate) items: usize,
    /// The total member, by index in the response type.
    pub(crate) total: Option<usize>,
}

/// A waiter, resolved: the path to the structure holding the status, the status member,
/// its enum, and each value's meaning (by index in the enum's values).
#[derive(Debug)]
pub(crate) struct WaiterFacts {
    pub(crate) steps: Vec<Step>,
    pub(crate) target: usize,
    pub(crate) member: usize,
    pub(crate) enumeration: usize,
    pub(crate) success: Vec<usize>,
    pub(crate) failure: Vec<usize>,
    pub(crate) pending: Vec<usize>,
}

/// A requirement, resolved: the path as members, then the members it requires of the
/// structure the path ends at, and its condition.
#[derive(Debug)]
pub(crate) struct RequirementFacts {
    /// Each step: the type it starts from, the member it follows, and whether it steps into
    /// the items of a list.
    pub(crate) steps: Vec<Step>,
    /// The structure the path ends at.
    pub(crate) target: usize,
    /// Required members of `target`, by index.
    pub(crate) members: Vec<usize>,
    /// Alternatives of which at least one group must be wholly present, by index.
    pub(crate) any_of: Vec<Vec<usize>>,
    /// Only when the member (of `target`, of this scalar type) holds one of the values.
    pub(crate) when: Option<(usize, Scalar, Vec<Value>)>,
}

/// One step of a requirement path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub(crate) owner: usize,
    pub(crate) member: usize,
    pub(crate) list: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_by_their_scalar() {
        assert_eq!(Value::parse(Scalar::Int64, "-3"), Some(Value::Int64(-3)));
        assert_eq!(Value::parse(Scalar::Int64, "ORG"), None);
        assert_eq!(Value::parse(Scalar::Uint64, "7"), Some(Value::Uint64(7)));
        assert_eq!(Value::parse(Scalar::Uint64, "-3"), None);
        assert_eq!(Value::parse(Scalar::Float, "1.5"), Some(Value::Float(1.5)));
        assert_eq!(Value::parse(Scalar::Float, "NaN"), None);
        assert_eq!(
            Value::parse(Scalar::Bool, "false"),
            Some(Value::Bool(false))
        );
        assert_eq!(Value::parse(Scalar::Float, "inf"), None);
        assert_eq!(Value::parse(Scalar::Bool, "yes"), None);
        assert!(Value::Int64(5).exceeds(&Value::Int64(4)));
        assert!(!Value::Uint64(4).exceeds(&Value::Uint64(4)));
        // Large integers compare exactly, not through f64.
        assert!(Value::Int64(i64::MAX).exceeds(&Value::Int64(i64::MAX - 1)));
    }
}
