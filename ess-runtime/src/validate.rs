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

/// Where a value sits in a request (`FlowApproverInfos[0].ApproverMobile`), built up on the
/// stack as validation descends and written out only for a violation: a valid request
/// costs no path strings.
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    /// The request itself.
    Root,
    /// A member of the value at the parent path.
    Member(&'a Path<'a>, &'static str),
    /// An item of the list at the parent path.
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// The path of member `name` (its wire name) of the value here.
    pub fn member(&self, name: &'static str) -> Path<'_> {
        Path::Member(self, name)
    }

    /// The path of item `index` of the list here.
    pub fn index(&self, index: usize) -> Path<'_> {
        Path::Index(self, index)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Member(Path::Root, name) => f.write_str(name),
            Path::Member(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// Checks a value against the constraints of the spec.
pub trait Validate {
    /// Appends every violation under `path` (the wire path of `self`).
    fn validate_into(&self, path: &Path<'_>, out: &mut Vec<Violation>);

    /// Every violation, or `Ok` when there is none.
    fn validate(&self) -> Result<(), Violations> {
        let mut out = Vec::new();
        self.validate_into(&Path::Root, &mut out);
        if out.is_empty() {
            Ok(())
        } else {
            Err(Violations(out))
        }
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, path: &Path<'_>, out: &mut Vec<Violation>) {
        if let Some(value) = self {
            value.validate_into(path, out);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, path: &Path<'_>, out: &mut Vec<Violation>) {
        for (i, item) in self.iter().enumerate() {
            item.validate_into(&path.index(i), out);
        }
    }
}

impl<T: Validate> Validate for Box<T> {
    fn validate_into(&self, path: &Path<'_>, out: &mut Vec<Violation>) {
        (**self).validate_into(path, out);
    }
}

/// Constraint checks generated code calls. Each pushes at most one violation.
pub mod check {
    use super::{Path, Violation};

    fn push(out: &mut Vec<Violation>, path: &Path<'_>, message: String) {
        out.push(Violation {
            path: path.to_string(),
            message,
        });
    }

    /// A string's length in characters, or a list's in items, within bounds.
    pub fn length(
        out: &mut Vec<Violation>,
        path: &Path<'_>,
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
        path: &Path<'_>,
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
        // The value itself is never quoted (a number may be personal data, an ID or an
        // amount): only on which side of the bounds it falls.
        let side = if below { "below" } else { "above" };
        push(out, path, format!("must be {bounds} (it is {side})"));
    }

    /// A member an action requires.
    pub fn required(out: &mut Vec<Violation>, path: &Path<'_>, present: bool, action: &str) {
        if !present {
            push(out, path, format!("is required by {action}"));
        }
    }

    /// One of several groups of members an action requires (`SignId`, or `UserId`, or
    /// `ApproverName and ApproverMobile`), reported at the structure that lacks them all.
    pub fn required_any(
        out: &mut Vec<Violation>,
        path: &Path<'_>,
        present: bool,
        groups: &[&str],
        action: &str,
    ) {
        if present {
            return;
        }
        let alternatives = match groups {
            [] => return,
            [only] => (*only).to_owned(),
            [init @ .., last] => format!("{}, or {last}", init.join(", ")),
        };
        push(
            out,
            path,
            format!("needs {alternatives} (required by {action})"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_out_of_range_is_named_by_its_bounds_never_its_value() {
        let mut out = Vec::new();
        let path = Path::Root.member("Amount");
        check::range(&mut out, &path, 13812345678_i64, Some(1), Some(100));
        check::range(&mut out, &path, -7_i64, Some(0), None);
        let shown: Vec<String> = out.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "Amount: must be between 1 and 100 (it is above)",
                "Amount: must be at least 0 (it is below)"
            ]
        );
    }

    #[test]
    fn paths_read_as_wire_paths() {
        let root = Path::Root;
        let list = root.member("FlowApproverInfos");
        let item = list.index(2);
        assert_eq!(root.to_string(), "");
        assert_eq!(list.to_string(), "FlowApproverInfos");
        assert_eq!(
            item.member("ApproverMobile").to_string(),
            "FlowApproverInfos[2].ApproverMobile"
        );
        assert_eq!(
            item.member("Components").index(0).index(1).to_string(),
            "FlowApproverInfos[2].Components[0][1]"
        );
    }
}
