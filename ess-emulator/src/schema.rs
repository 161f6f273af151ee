//! The spec as the emulator uses it: actions and types resolved once into indices, a checker
//! that holds a JSON request against them (with the codes the service answers), and builders
//! of example requests and responses from the spec's example values.

use std::collections::HashMap;
use std::sync::OnceLock;

use ess_codegen::spec::{Scalar, TypeRef};
use serde_json::{Map, Value};

/// The spec this crate was built with (spec/ess.yaml).
const SPEC_TEXT: &str = include_str!("../ess.yaml");

/// How deep example builders descend into nested types (the spec has recursive types).
const EXAMPLE_DEPTH: usize = 6;

/// The bundled spec, loaded and resolved once per process.
pub(crate) fn bundled() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let spec = ess_codegen::load_str("ess.yaml", SPEC_TEXT)
            .unwrap_or_else(|e| panic!("the bundled spec is invalid (a build defect): {e}"));
        Schema::new(&spec)
    })
}

/// What a redacted member reads as.
pub(crate) const REDACTED: &str = "<redacted>";

/// A resolved spec.
#[derive(Debug)]
pub struct Schema {
    /// API version (`2020-11-11`).
    pub(crate) version: String,
    /// Service name in the TC3 credential scope (`ess`).
    pub(crate) signing_service: String,
    actions: HashMap<String, ActionDef>,
    types: Vec<TypeDef>,
    codes: Vec<String>,
    /// The common API 3.0 codes, which every action may answer.
    common: Vec<String>,
}

/// One action.
#[derive(Debug)]
pub(crate) struct ActionDef {
    /// Wire name; `'static` because the schema lives for the process.
    pub(crate) name: &'static str,
    input: usize,
    output: usize,
    /// Requests per second per caller, when the docs state one.
    pub(crate) rate_limit: Option<u32>,
    requirements: Vec<Requirement>,
    /// The error codes upstream lists for it.
    errors: Vec<String>,
    /// The example answer, built the first time it is needed.
    example: OnceLock<Map<String, Value>>,
}

#[derive(Debug)]
struct TypeDef {
    members: Vec<MemberDef>,
    index: HashMap<String, usize>,
}

#[derive(Debug)]
struct MemberDef {
    name: String,
    ty: Ty,
    required: bool,
    example: Option<String>,
    length: Option<(u64, u64)>,
    range: Option<(Option<f64>, Option<f64>)>,
    values: Option<Vec<String>>,
    /// Personal data or a secret (the spec's `sensitive`): redacted in what the emulator
    /// shows of a call.
    sensitive: bool,
}

#[derive(Debug, Clone)]
enum Ty {
    Scalar(Scalar),
    Named(usize),
    List(Box<Ty>),
}

#[derive(Debug)]
struct Requirement {
    /// Path segments from the request; `true` steps into list items.
    path: Vec<(String, bool)>,
    members: Vec<String>,
    /// Groups of members of which one must be wholly present.
    any_of: Vec<Vec<String>>,
    when: Option<(String, Vec<String>)>,
}

/// One way a request breaks the spec: the code the service answers, the member's wire path,
/// and what is wrong (never the value, which may be personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `MissingParameter`, `InvalidParameter`, `InvalidParameterValue` or `UnknownParameter`.
    pub code: &'static str,
    /// `FlowApproverInfos[0].ApproverMobile`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Schema {
    fn new(spec: &ess_codegen::Spec) -> Schema {
        let type_ids: HashMap<&str, usize> = spec
            .types
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.as_str(), i))
            .collect();
        let resolve = |text: &str| resolve_type(&TypeRef::parse(text).ok()?, &type_ids);
        let types = spec
            .types
            .iter()
            .map(|(_, def)| {
                let members: Vec<MemberDef> = def
                    .members
                    .iter()
                    .filter_map(|m| {
                        let values = m.enumeration.as_ref().and_then(|e| {
                            spec.enums
                                .get(e.as_str())
                                .map(|d| d.values.iter().map(|v| v.value.to_string()).collect())
                        });
                        Some(MemberDef {
                            name: m.name.to_string(),
                            ty: resolve(m.ty.as_str())?,
                            required: m.required,
                            example: m.example.clone(),
                            length: m.length.as_ref().map(|l| match l.exact {
                                Some(n) => (n, n),
                                None => (l.min.unwrap_or(0), l.max.unwrap_or(u64::MAX)),
                            }),
                            range: m.range.as_ref().map(|r| {
                                let bound = |b: &Option<ess_codegen::spec::Spanned<String>>| {
                                    b.as_ref().and_then(|s| s.parse::<f64>().ok())
                                };
                                (bound(&r.min), bound(&r.max))
                            }),
                            values,
                            sensitive: m.is_sensitive(),
                        })
                    })
                    .collect();
                let index = members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (m.name.clone(), i))
                    .collect();
                TypeDef { members, index }
            })
            .collect();
        let actions = spec
            .actions
            .iter()
            .filter_map(|(name, action)| {
                let name: &'static str = Box::leak(name.to_string().into_boxed_str());
                let def = ActionDef {
                    name,
                    input: *type_ids.get(action.input.as_str())?,
                    output: *type_ids.get(action.output.as_str())?,
                    rate_limit: action.rate_limit.as_ref().map(|r| **r),
                    requirements: action
                        .requirements
                        .iter()
                        .map(|r| Requirement {
                            path: r
                                .path
                                .split('.')
                                // The empty path is the request itself: no step.
                                .filter(|step| !step.is_empty())
                                .map(|seg| match seg.strip_suffix("[]") {
                                    Some(name) => (name.to_owned(), true),
                                    None => (seg.to_owned(), false),
                                })
                                .collect(),
                            members: r.members.iter().map(|m| m.to_string()).collect(),
                            any_of: r
                                .any_of
                                .iter()
                                .map(|g| g.iter().map(|m| m.to_string()).collect())
                                .collect(),
                            when: r.when.as_ref().map(|c| {
                                (
                                    c.member.to_string(),
                                    c.values.iter().map(|v| v.to_string()).collect(),
                                )
                            }),
                        })
                        .collect(),
                    errors: action.errors.iter().map(|c| c.to_string()).collect(),
                    example: OnceLock::new(),
                };
                Some((name.to_owned(), def))
            })
            .collect();
        let codes = spec
            .errors
            .common
            .iter()
            .chain(&spec.errors.service)
            .map(|c| c.to_string())
            .collect();
        Schema {
            common: spec.errors.common.iter().map(|c| c.to_string()).collect(),
            version: spec.service.api_version.to_string(),
            signing_service: spec.service.signing_service.to_string(),
            actions,
            types,
            codes,
        }
    }

    /// The action named `name`.
    /// Replaces every sensitive member of `request` (a body of `action`), at any depth, with
    /// `"<redacted>"`, and so every member the spec does not know: what the emulator shows of
    /// a call (its recorded calls, the admin API) never repeats a signer's personal data, a
    /// callback key or a token. The body of an unknown action is not shown.
    pub(crate) fn redact(&self, action: &str, request: &mut Value) {
        match self.action(action) {
            Some(def) => self.redact_as(def.input, request),
            None => *request = Value::Null,
        }
    }

    fn redact_as(&self, ty: usize, value: &mut Value) {
        let Some(object) = value.as_object_mut() else {
            return;
        };
        let def = &self.types[ty];
        for (name, member) in object.iter_mut() {
            // A member the spec does not know (refused as UnknownParameter, but recorded):
            // what it holds is unknown, so it is not shown either; its name is.
            let Some(m) = def.index.get(name).map(|&i| &def.members[i]) else {
                *member = Value::String(REDACTED.to_owned());
                continue;
            };
            if m.sensitive {
                *member = Value::String(REDACTED.to_owned());
                continue;
            }
            let mut ty = &m.ty;
            let mut items = vec![member];
            while let Ty::List(inner) = ty {
                items = items
                    .into_iter()
                    .flat_map(|v| match v {
                        Value::Array(list) => list.iter_mut().collect(),
                        _ => Vec::new(),
                    })
                    .collect();
                ty = inner;
            }
            if let Ty::Named(id) = ty {
                for item in items {
                    self.redact_as(*id, item);
                }
            }
        }
    }

    pub(crate) fn action(&self, name: &str) -> Option<&ActionDef> {
        self.actions.get(name)
    }

    /// Every action's wire name, sorted.
    pub fn action_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.actions.values().map(|a| a.name).collect();
        names.sort_unstable();
        names
    }

    /// Whether action `action` may answer `code`: the action's own list, or a common code.
    pub(crate) fn may_answer(&self, action: &ActionDef, code: &str) -> bool {
        self.answerable(action, code).is_some()
    }

    /// `code` as the spec holds it (so it lives as long as the schema), when `action` may
    /// answer it.
    pub(crate) fn answerable<'s>(&'s self, action: &'s ActionDef, code: &str) -> Option<&'s str> {
        action
            .errors
            .iter()
            .chain(&self.common)
            .find(|c| *c == code)
            .map(String::as_str)
    }

    /// Whether `code` is an error code of the spec.
    pub fn is_error_code(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == code)
    }

    /// Every way `request` breaks action `action`'s input type and requirements, in document
    /// order. Empty when the request is valid.
    pub(crate) fn check(&self, action: &ActionDef, request: &Map<String, Value>) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.check_object(action.input, request, "", &mut problems);
        for requirement in &action.requirements {
            check_requirement(requirement, request, &mut problems);
        }
        problems
    }

    fn check_object(
        &self,
        ty: usize,
        object: &Map<String, Value>,
        path: &str,
        out: &mut Vec<Problem>,
    ) {
        let def = &self.types[ty];
        for (key, value) in object {
            let here = join(path, key);
            match def.index.get(key) {
                None => out.push(Problem {
                    code: "UnknownParameter",
                    message: format!("`{here}` is not a parameter of this action"),
                    path: here,
                }),
                Some(&i) => {
                    self.check_value(&def.members[i], &def.members[i].ty, value, &here, out)
                }
            }
        }
        for member in def.members.iter().filter(|m| m.required) {
            if object.get(&member.name).is_none_or(Value::is_null) {
                let here = join(path, &member.name);
                out.push(Problem {
                    code: "MissingParameter",
                    message: format!("`{here}` is required"),
                    path: here,
                });
            }
        }
    }

    fn check_value(
        &self,
        member: &MemberDef,
        ty: &Ty,
        value: &Value,
        path: &str,
        out: &mut Vec<Problem>,
    ) {
        if value.is_null() {
            // The official SDKs send absent members as absent; null reads the same.
            return;
        }
        let wrong = |expected: &str, out: &mut Vec<Problem>| {
            out.push(Problem {
                code: "InvalidParameter",
                path: path.to_owned(),
                message: format!("`{path}` must be {expected}"),
            });
        };
        match ty {
            Ty::Named(id) => match value.as_object() {
                Some(object) => self.check_object(*id, object, path, out),
                None => wrong("an object", out),
            },
            Ty::List(item) => match value.as_array() {
                Some(items) => {
                    if let Some((min, max)) = member.length {
                        check_length(items.len() as u64, min, max, "items", path, out);
                    }
                    for (i, v) in items.iter().enumerate() {
                        self.check_value(member, item, v, &format!("{path}[{i}]"), out);
                    }
                }
                None => wrong("a list", out),
            },
            Ty::Scalar(scalar) => {
                let Some(wire) = scalar_wire(*scalar, value) else {
                    return wrong(scalar_expectation(*scalar), out);
                };
                // A list's length counts its items (checked above), not each item's characters.
                let own_length = matches!(member.ty, Ty::Scalar(_));
                if let (Scalar::String, Some((min, max)), true) =
                    (scalar, member.length, own_length)
                {
                    let chars = wire.chars().count() as u64;
                    check_length(chars, min, max, "characters", path, out);
                }
                if let Some((min, max)) = member.range {
                    let n = value.as_f64().unwrap_or(f64::NAN);
                    if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                        let bound = |b: Option<f64>| b.map_or("-".to_owned(), |b| b.to_string());
                        out.push(Problem {
                            code: "InvalidParameterValue",
                            path: path.to_owned(),
                            message: format!("`{path}` must be in {}..={}", bound(min), bound(max)),
                        });
                    }
                }
                // An empty string reads as "not set": Tencent's own request examples send
                // enumerated members that way.
                let unset = *scalar == Scalar::String && wire.is_empty();
                if let Some(values) = &member.values
                    && !unset
                    && !values.contains(&wire)
                {
                    out.push(Problem {
                        code: "InvalidParameterValue",
                        path: path.to_owned(),
                        message: format!("`{path}` must be one of {}", values.join(", ")),
                    });
                }
            }
        }
    }

    /// A request of `action` with every required member, and every member its unconditional
    /// requirements ask for, from the spec's example values.
    pub fn example_request(&self, action: &str) -> Option<Value> {
        let def = self.action(action)?;
        let mut request = self.example_object(def.input, true, 0);
        for requirement in def.requirements.iter().filter(|r| r.when.is_none()) {
            self.fill_required(def.input, &mut request, &requirement.path, requirement);
        }
        Some(Value::Object(request))
    }

    /// Adds the members `requirement` names to every object at `path` (below `object`, of
    /// type `ty`) that the example has.
    fn fill_required(
        &self,
        ty: usize,
        object: &mut Map<String, Value>,
        path: &[(String, bool)],
        requirement: &Requirement,
    ) {
        let def = &self.types[ty];
        let Some(((name, _), rest)) = path.split_first() else {
            // Of alternatives, the example fills the last group (name and mobile for a
            // signer): the one that needs nothing an earlier call returned.
            let chosen = requirement.any_of.last().into_iter().flatten();
            for wanted in requirement.members.iter().chain(chosen) {
                let Some(member) = def.index.get(wanted).map(|&i| &def.members[i]) else {
                    continue;
                };
                if !object.contains_key(wanted)
                    && let Some(value) = self.example_value(member, &member.ty, true, 0)
                {
                    object.insert(wanted.clone(), value);
                }
            }
            return;
        };
        let Some(member) = def.index.get(name).map(|&i| &def.members[i]) else {
            return;
        };
        let item_ty = match &member.ty {
            Ty::Named(id) => *id,
            Ty::List(item) => match **item {
                Ty::Named(id) => id,
                _ => return,
            },
            Ty::Scalar(_) => return,
        };
        match object.get_mut(name) {
            Some(Value::Object(inner)) => self.fill_required(item_ty, inner, rest, requirement),
            Some(Value::Array(items)) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    self.fill_required(item_ty, item, rest, requirement);
                }
            }
            _ => {}
        }
    }

    /// A response body (`Response` object, without `RequestId`) of `action` from the spec's
    /// example values: every member, each nested type once. Built once per action.
    pub(crate) fn example_response<'a>(&self, def: &'a ActionDef) -> &'a Map<String, Value> {
        def.example.get_or_init(|| {
            let mut response = self.example_object(def.output, false, 0);
            response.remove("RequestId");
            response
        })
    }

    fn example_object(&self, ty: usize, required_only: bool, depth: usize) -> Map<String, Value> {
        let mut object = Map::new();
        for member in &self.types[ty].members {
            if required_only && !member.required {
                continue;
            }
            if let Some(value) = self.example_value(member, &member.ty, required_only, depth) {
                object.insert(member.name.clone(), value);
            }
        }
        object
    }

    fn example_value(
        &self,
        member: &MemberDef,
        ty: &Ty,
        required_only: bool,
        depth: usize,
    ) -> Option<Value> {
        match ty {
            Ty::Scalar(scalar) => Some(example_scalar(*scalar, member)),
            Ty::Named(id) if depth < EXAMPLE_DEPTH => Some(Value::Object(self.example_object(
                *id,
                required_only,
                depth + 1,
            ))),
            Ty::Named(_) => None,
            Ty::List(item) => {
                if let (Ty::Scalar(scalar), Some(example)) = (&**item, &member.example)
                    && let Ok(Value::Array(items)) = serde_json::from_str(example)
                    && items.iter().all(|v| {
                        scalar_wire(*scalar, v).is_some_and(|wire| {
                            member
                                .values
                                .as_ref()
                                .is_none_or(|values| values.contains(&wire))
                        })
                    })
                {
                    return Some(Value::Array(items));
                }
                let one = self.example_value(member, item, required_only, depth)?;
                Some(Value::Array(vec![one]))
            }
        }
    }
}

fn resolve_type(ty: &TypeRef, ids: &HashMap<&str, usize>) -> Option<Ty> {
    Some(match ty {
        TypeRef::Scalar(s) => Ty::Scalar(*s),
        TypeRef::Named(name) => Ty::Named(*ids.get(name.as_str())?),
        TypeRef::List(item) => Ty::List(Box::new(resolve_type(item, ids)?)),
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn check_length(len: u64, min: u64, max: u64, unit: &str, path: &str, out: &mut Vec<Problem>) {
    if len < min || len > max {
        let expected = if min == max {
            format!("exactly {min}")
        } else if max == u64::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        out.push(Problem {
            code: "InvalidParameterValue",
            path: path.to_owned(),
            message: format!("`{path}` must have {expected} {unit}"),
        });
    }
}

/// The value in wire form when it has the scalar's JSON type.
fn scalar_wire(scalar: Scalar, value: &Value) -> Option<String> {
    match (scalar, value) {
        (Scalar::String, Value::String(s)) => Some(s.clone()),
        (Scalar::Int64, Value::Number(n)) if n.is_i64() => Some(n.to_string()),
        (Scalar::Uint64, Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        (Scalar::Float, Value::Number(n)) => Some(n.to_string()),
        (Scalar::Bool, Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn scalar_expectation(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::String => "a string",
        Scalar::Int64 => "an integer",
        Scalar::Uint64 => "a non-negative integer",
        Scalar::Float => "a number",
        Scalar::Bool => "true or false",
    }
}

fn example_scalar(scalar: Scalar, member: &MemberDef) -> Value {
    // An enumerated member's example counts only when it is one of the values (upstream's
    // examples carry typos, like a trailing space).
    let example = member.example.as_deref().filter(|e| {
        member
            .values
            .as_ref()
            .is_none_or(|values| values.iter().any(|v| v == e))
    });
    let from_enum = member
        .values
        .as_ref()
        .and_then(|v| v.first())
        .map(String::as_str);
    let text = example.or(from_enum);
    let parsed = text.and_then(|t| match scalar {
        Scalar::String => Some(Value::String(t.to_owned())),
        Scalar::Int64 => t.parse::<i64>().ok().map(Value::from),
        Scalar::Uint64 => t.parse::<u64>().ok().map(Value::from),
        Scalar::Float => t
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        Scalar::Bool => t.parse::<bool>().ok().map(Value::Bool),
    });
    parsed.unwrap_or_else(|| match scalar {
        Scalar::String => Value::String(String::new()),
        Scalar::Int64 | Scalar::Uint64 => {
            Value::from(member.range.and_then(|r| r.0).unwrap_or(0.0) as i64)
        }
        Scalar::Float => Value::from(0.0),
        Scalar::Bool => Value::Bool(false),
    })
}

/// Requirements the docs state per action ("each signer needs a name and a mobile").
fn check_requirement(req: &Requirement, request: &Map<String, Value>, out: &mut Vec<Problem>) {
    let mut objects: Vec<(String, &Map<String, Value>)> = vec![(String::new(), request)];
    for (name, into_list) in &req.path {
        let mut next = Vec::new();
        for (path, object) in &objects {
            let here = join(path, name);
            match object.get(name) {
                Some(Value::Object(o)) if !into_list => next.push((here, o)),
                Some(Value::Array(items)) if *into_list => {
                    for (i, item) in items.iter().enumerate() {
                        if let Value::Object(o) = item {
                            next.push((format!("{here}[{i}]"), o));
                        }
                    }
                }
                _ => {}
            }
        }
        objects = next;
    }
    for (path, object) in objects {
        if let Some((member, values)) = &req.when {
            let wire = match object.get(member) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                _ => continue,
            };
            if !values.contains(&wire) {
                continue;
            }
        }
        let present = |member: &str| match object.get(member) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(_) => true,
        };
        if !req.any_of.is_empty()
            && !req
                .any_of
                .iter()
                .any(|group| group.iter().all(|m| present(m)))
        {
            // Reported at the first member of the group nearest to complete.
            let nearest = req
                .any_of
                .iter()
                .max_by_key(|group| group.iter().filter(|m| present(m)).count())
                .and_then(|group| group.iter().find(|m| !present(m)));
            let alternatives: Vec<String> = req.any_of.iter().map(|g| g.join(" and ")).collect();
            if let Some(member) = nearest {
                let here = join(&path, member);
                if !out.iter().any(|p| p.path == here) {
                    out.push(Problem {
                        code: "MissingParameter",
                        message: format!(
                            "`{here}` is required for this action (or one of: {})",
                            alternatives.join("; ")
                        ),
                        path: here,
                    });
                }
            }
        }
        for member in &req.members {
            let present = present(member);
            let here = join(&path, member);
            if !present && !out.iter().any(|p| p.path == here) {
                out.push(Problem {
                    code: "MissingParameter",
                    message: format!("`{here}` is required for this action"),
                    path: here,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(action: &str, request: Value) -> Vec<(String, String)> {
        let schema = bundled();
        let def = schema.action(action).unwrap();
        schema
            .check(def, request.as_object().unwrap())
            .into_iter()
            .map(|p| (p.code.to_owned(), p.path))
            .collect()
    }

    #[test]
    fn every_kind_of_problem_is_found_with_its_path() {
        let problems = check(
            "CreateFlowSignUrl",
            json!({
                "FlowId": "short",
                "Bogus": 1,
                "UrlType": 7,
                "VideoVerifyTimesLimit": 11,
                "FlowApproverInfos": [
                    {"ApproverType": 1, "ApproverName": "n", "ApproverMobile": "13800000000"},
                    {"ApproverType": 0, "ApproverName": 5, "ApproverMobile": "13800000000"},
                    {"ApproverName": "n"}
                ]
            }),
        );
        // Members in key order, then the action's requirements.
        let expected = [
            ("UnknownParameter", "Bogus"),
            ("InvalidParameter", "FlowApproverInfos[1].ApproverName"),
            ("MissingParameter", "FlowApproverInfos[2].ApproverType"),
            ("InvalidParameterValue", "FlowId"),
            ("InvalidParameterValue", "UrlType"),
            ("InvalidParameterValue", "VideoVerifyTimesLimit"),
            ("MissingParameter", "FlowApproverInfos[2].ApproverMobile"),
            ("MissingParameter", "FlowApproverInfos[1].OrganizationName"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(c, p)| ((*c).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(problems, expected);
        assert_eq!(
            check("CreateFlowSignUrl", json!({})),
            [("MissingParameter".to_owned(), "FlowId".to_owned())]
        );
    }

    #[test]
    fn every_example_request_is_valid_for_its_own_action() {
        let schema = bundled();
        assert_eq!(schema.action_names().len(), 156);
        for name in schema.action_names() {
            let request = schema.example_request(name).unwrap();
            let def = schema.action(name).unwrap();
            let problems = schema.check(def, request.as_object().unwrap());
            assert!(problems.is_empty(), "{name}: {problems:?}");
        }
    }
}
