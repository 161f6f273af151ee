//! Validation of requests before any I/O: every violation of the spec's constraints, each
//! with the wire path of the offending value (`FlowApproverInfos[0].ApproverMobile`).

use std::fmt;

/// One broken constraint. Messages never include the offending value, which may be sensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Wire path of the value.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every violation found in one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// The violations, in the order the request's members are declared.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} invalid value{}: ",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

/// Checks a value against the constraints of the spec.
pub trait Validate {
    /// Appends every violation under `path` (the wire path of `self`, empty at the root).
    fn validate_into(&self, path: &str, out: &mut Vec<Violation>);

    /// Every violation, or `Ok` when there is none.
    fn validate(&self) -> Result<(), Violations> {
        let mut out = Vec::new();
        self.validate_into("", &mut out);
        if out.is_empty() {
            Ok(())
        } else {
            Err(Violations(out))
        }
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, path: &str, out: &mut Vec<Violation>) {
        if let Some(value) = self {
            value.validate_into(path, out);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, path: &str, out: &mut Vec<Violation>) {
        for (i, item) in self.iter().enumerate() {
            item.validate_into(&format!("{path}[{i}]"), out);
        }
    }
}

impl<T: Validate> Validate for Box<T> {
    fn validate_into(&self, path: &str, out: &mut Vec<Violation>) {
        (**self).validate_into(path, out);
    }
}

/// Constraint checks generated code calls. Each pushes at most one violation.
pub mod check {
    use super::Violation;

    /// `parent.Member`, or `Member` at the root.
    pub fn join(parent: &str, member: &str) -> String {
        if parent.is_empty() {
            member.to_owned()
        } else {
            format!("{parent}.{member}")
        }
    }

    fn push(out: &mut Vec<Violation>, path: String, message: String) {
        out.push(Violation { path, message });
    }

    /// A string's length in characters, or a list's in items, within bounds.
    pub fn length(
        out: &mut Vec<Violation>,
        path: String,
        len: usize,
        min: Option<usize>,
        max: Option<usize>,
        unit: &str,
    ) {
        match (min, max) {
            (Some(a), Some(b)) if a == b && len != a => push(
                out,
                path,
                format!("must be exactly {a} {unit} long (is {len})"),
            ),
            (Some(a), _) if len < a => push(
                out,
                path,
                format!("must be at least {a} {unit} long (is {len})"),
            ),
            (_, Some(b)) if len > b => push(
                out,
                path,
                format!("must be at most {b} {unit} long (is {len})"),
            ),
            _ => {}
        }
    }

    /// A number within inclusive bounds.
    pub fn range<N: PartialOrd + std::fmt::Display>(
        out: &mut Vec<Violation>,
        path: String,
        value: N,
        min: Option<N>,
        max: Option<N>,
    ) {
        let below = min.as_ref().is_some_and(|m| value < *m);
        let above = max.as_ref().is_some_and(|m| value > *m);
        if !(below || above) {
            return;
        }
        let bounds = match (min, max) {
            (Some(a), Some(b)) => format!("between {a} and {b}"),
            (Some(a), None) => format!("at least {a}"),
            (_, Some(b)) => format!("at most {b}"),
            (None, None) => return,
        };
        push(out, path, format!("must be {bounds} (is {value})"));
    }

    /// A value the spec's enumeration does not list.
    pub fn unknown_value(out: &mut Vec<Violation>, path: String, enumeration: &str) {
        push(out, path, format!("is not a known {enumeration} value"));
    }

    /// A member an action requires.
    pub fn required(out: &mut Vec<Violation>, path: String, present: bool, action: &str) {
        if !present {
            push(out, path, format!("is required by {action}"));
        }
    }
}
