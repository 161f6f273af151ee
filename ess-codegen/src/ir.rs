//! The intermediate representation: the spec resolved into what Rust code needs (identifiers,
//! field types, optionality, boxing of recursive members, validation needs, action closures).
//! Built only from a validated spec; anything it still cannot represent is a diagnostic.

use std::collections::{BTreeMap, BTreeSet};

use crate::names;
use crate::spec::{Diagnostic, Diagnostics, Scalar, Spec, Status, TypeRef};

/// Everything the code generator emits, in deterministic (sorted) order.
#[derive(Debug)]
pub struct Ir {
    /// Short service name.
    pub service: String,
    /// API version.
    pub api_version: String,
    /// Service name in the signature scope.
    pub signing_service: String,
    /// Enumerations.
    pub enums: Vec<EnumIr>,
    /// Structures.
    pub structs: Vec<StructIr>,
    /// Actions.
    pub actions: Vec<ActionIr>,
    /// Every error code (common and service, deduplicated, sorted).
    pub error_codes: Vec<ErrorCodeIr>,
}

impl Ir {
    /// Keeps only `actions` and the types and enums they reach. Unknown names are returned.
    pub fn retain_actions(&mut self, actions: &[&str]) -> Vec<String> {
        let unknown = actions
            .iter()
            .filter(|a| !self.actions.iter().any(|x| x.wire == **a))
            .map(|a| (*a).to_owned())
            .collect();
        self.actions.retain(|a| actions.contains(&a.wire.as_str()));
        let keep: BTreeSet<String> = self
            .actions
            .iter()
            .flat_map(|a| a.closure.iter().cloned())
            .collect();
        self.structs.retain(|s| keep.contains(&s.name));
        self.enums.retain(|e| keep.contains(&e.name));
        unknown
    }
}

/// An enumeration.
#[derive(Debug)]
pub struct EnumIr {
    /// Rust (and spec) name.
    pub name: String,
    /// Wire type of the values.
    pub scalar: Scalar,
    /// Our docs.
    pub doc: Option<String>,
    /// (wire value, variant name, doc).
    pub values: Vec<(String, String, Option<String>)>,
    /// The actions that reach this enum (for per-action cargo features).
    pub used_by: BTreeSet<String>,
}

/// A field's Rust type, before `Option`/`Box`.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldTy {
    /// A wire scalar.
    Scalar(Scalar),
    /// A spec enumeration over a scalar.
    Enum(String),
    /// A structure.
    Struct(String),
    /// A list.
    List(Box<FieldTy>),
}

/// A structure.
#[derive(Debug)]
pub struct StructIr {
    /// Rust name.
    pub name: String,
    /// Spec (wire) name.
    pub wire_name: String,
    /// Our docs.
    pub doc: Option<String>,
    /// Fields in wire order.
    pub fields: Vec<FieldIr>,
    /// Whether every field is optional (so the type has `Default`).
    pub all_optional: bool,
    /// Whether `validate()` has anything to check.
    pub needs_validation: bool,
    /// Only ever read from responses: no constructor, setters or `validate()`.
    pub output_only: bool,
    /// Only ever sent: no response reaches it.
    pub input_only: bool,
    /// The action whose request is this type.
    pub request_of: Option<String>,
    /// The action whose response is this type.
    pub response_of: Option<String>,
    /// The actions that reach this type (for per-action cargo features).
    pub used_by: BTreeSet<String>,
}

/// A field of a structure.
#[derive(Debug)]
pub struct FieldIr {
    /// Wire name.
    pub wire: String,
    /// snake_case name (a keyword is written raw by the generator).
    pub ident: String,
    /// Type without `Option`/`Box`.
    pub ty: FieldTy,
    /// `Option<..>`: not required.
    pub optional: bool,
    /// `Box<..>`: the field closes a cycle of non-list members.
    pub boxed: bool,
    /// Debug prints `<redacted>`.
    pub sensitive: bool,
    /// Facts for rustdoc.
    pub doc: FieldDoc,
    /// Length bounds (characters or items).
    pub length: Option<(Option<u64>, Option<u64>)>,
    /// Numeric bounds as written in the spec.
    pub range: Option<(Option<String>, Option<String>)>,
}

/// What rustdoc says about a field.
#[derive(Debug, Default)]
pub struct FieldDoc {
    /// Our words.
    pub text: Option<String>,
    /// Required in requests.
    pub required: bool,
    /// Disabled upstream.
    pub disabled: bool,
    /// Deprecated.
    pub deprecated: bool,
    /// Default the service assumes.
    pub default: Option<String>,
    /// Example value.
    pub example: Option<String>,
}

/// An action.
#[derive(Debug)]
pub struct ActionIr {
    /// Wire name.
    pub wire: String,
    /// Client method name.
    pub method: String,
    /// Request type.
    pub request: String,
    /// Response type.
    pub response: String,
    /// Official title.
    pub title: String,
    /// Our docs.
    pub doc: Option<String>,
    /// Deprecated upstream.
    pub deprecated: bool,
    /// Endpoint group.
    pub endpoint: String,
    /// Requests per second.
    pub rate_limit: Option<u32>,
    /// Safe to re-send after a network failure.
    pub retry_safe: bool,
    /// The request has an optional string `ClientToken` (its field ident), which makes a
    /// repeated request idempotent; the client fills it in when the caller left it empty.
    pub client_token: Option<String>,
    /// Error codes it may return.
    pub errors: Vec<String>,
    /// Per-action requirements.
    pub requirements: Vec<RequirementIr>,
    /// Every structure and enum the request and response reach.
    pub closure: BTreeSet<String>,
    /// The cargo feature that enables this action (`create-flow-sign-url`).
    pub feature: String,
}

/// A per-action requirement, resolved.
#[derive(Debug)]
pub struct RequirementIr {
    /// Path steps from the request: (field ident, wire name, is a list, is optional).
    pub steps: Vec<PathStep>,
    /// Required members of the target: (field ident, wire name, is optional, is a string).
    pub members: Vec<(String, String, bool, bool)>,
    /// Condition: (field ident, is optional, scalar, wire values, is an enum).
    pub when: Option<(String, bool, Scalar, Vec<String>, bool)>,
}

/// One step of a requirement path.
#[derive(Debug)]
pub struct PathStep {
    /// Field ident.
    pub ident: String,
    /// Wire name.
    pub wire: String,
    /// Whether the field is a list (the path steps into each item).
    pub list: bool,
    /// Whether the field is optional.
    pub optional: bool,
}

/// An error code.
#[derive(Debug)]
pub struct ErrorCodeIr {
    /// The code.
    pub code: String,
    /// Variant name.
    pub variant: String,
}

fn field_ty(ty: &TypeRef, enumeration: Option<&str>, rust: &BTreeMap<&str, &str>) -> FieldTy {
    match ty {
        TypeRef::List(inner) => FieldTy::List(Box::new(field_ty(inner, enumeration, rust))),
        TypeRef::Scalar(s) => match enumeration {
            Some(e) => FieldTy::Enum(e.to_owned()),
            None => FieldTy::Scalar(*s),
        },
        TypeRef::Named(n) => FieldTy::Struct(rust.get(n.as_str()).copied().unwrap_or(n).to_owned()),
    }
}

impl FieldTy {
    /// The structure this field holds (directly or in a list).
    pub fn inner_struct(&self) -> Option<&str> {
        match self {
            FieldTy::Struct(n) => Some(n),
            FieldTy::List(inner) => inner.inner_struct(),
            _ => None,
        }
    }

    fn inner_enum(&self) -> Option<&str> {
        match self {
            FieldTy::Enum(n) => Some(n),
            FieldTy::List(inner) => inner.inner_enum(),
            _ => None,
        }
    }
}

/// Builds the IR of a validated spec.
pub fn build(spec: &Spec, file: &str) -> Result<Ir, Diagnostics> {
    let mut diags = Vec::new();
    // Spec name -> Rust name (they differ only where the spec sets `rust_name`).
    let rust: BTreeMap<&str, &str> = spec
        .types
        .iter()
        .map(|(n, d)| {
            (
                n.as_str(),
                d.rust_name.as_deref().map_or(n.as_str(), String::as_str),
            )
        })
        .collect();
    let rust_of = |wire: &str| -> String { rust.get(wire).copied().unwrap_or(wire).to_owned() };
    let request_of: BTreeMap<String, &str> = spec
        .actions
        .iter()
        .map(|(n, a)| (rust_of(&a.input), n.as_str()))
        .collect();
    let response_of: BTreeMap<String, &str> = spec
        .actions
        .iter()
        .map(|(n, a)| (rust_of(&a.output), n.as_str()))
        .collect();

    let inputs = spec.input_types();
    let outputs = spec.output_types();
    let mut structs: Vec<StructIr> = Vec::new();
    for (name, def) in spec.types.iter() {
        let is_response = response_of.contains_key(&rust_of(name));
        let mut fields = Vec::new();
        for m in &def.members {
            let Ok(ty) = TypeRef::parse(&m.ty) else {
                continue;
            };
            // Every answer carries a RequestId (the runtime refuses one without), so a
            // response's is a plain `String`.
            let always_present = m.required
                || (is_response && m.name.as_str() == "RequestId" && m.ty.as_str() == "string");
            let ident = names::snake(&m.name);
            fields.push(FieldIr {
                wire: m.name.to_string(),
                ident,
                ty: field_ty(&ty, m.enumeration.as_deref().map(String::as_str), &rust),
                optional: !always_present,
                boxed: false,
                sensitive: m.is_sensitive(),
                doc: FieldDoc {
                    text: m.doc.clone(),
                    required: m.required,
                    disabled: m.disabled,
                    deprecated: m.deprecated,
                    default: m.default.as_deref().cloned(),
                    example: m.example.clone(),
                },
                length: m.length.as_ref().map(|l| match l.exact {
                    Some(e) => (Some(e), Some(e)),
                    None => (l.min, l.max),
                }),
                range: m
                    .range
                    .as_ref()
                    .map(|r| (r.min.as_deref().cloned(), r.max.as_deref().cloned())),
            });
        }
        let all_optional = fields.iter().all(|f| f.optional);
        structs.push(StructIr {
            name: rust_of(name),
            wire_name: name.to_string(),
            doc: def.doc.clone(),
            fields,
            all_optional,
            needs_validation: false,
            output_only: !inputs.contains(name.as_str()),
            input_only: !outputs.contains(name.as_str()),
            request_of: request_of.get(&rust_of(name)).map(|s| (*s).to_owned()),
            response_of: response_of.get(&rust_of(name)).map(|s| (*s).to_owned()),
            used_by: BTreeSet::new(),
        });
    }
    mark_boxed(&mut structs);
    mark_validation(&mut structs);

    let index: BTreeMap<&str, usize> = structs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let enum_scalars: BTreeMap<&str, Scalar> = spec
        .enums
        .iter()
        .map(|(n, e)| {
            (
                n.as_str(),
                TypeRef::parse(&e.ty)
                    .ok()
                    .and_then(|t| t.item_scalar())
                    .unwrap_or(Scalar::String),
            )
        })
        .collect();
    let mut actions = Vec::new();
    for (name, action) in spec.actions.iter() {
        let mut requirements = Vec::new();
        for req in &action.requirements {
            match resolve_requirement(
                &structs,
                &index,
                &enum_scalars,
                &rust_of(&action.input),
                req,
            ) {
                Some(r) => requirements.push(r),
                None => diags.push(Diagnostic::at(
                    file,
                    req.path.span(),
                    "requirement cannot be resolved",
                )),
            }
        }
        let mut closure = BTreeSet::new();
        for root in [rust_of(&action.input), rust_of(&action.output)] {
            collect_closure(&structs, &index, &root, &mut closure);
        }
        actions.push(ActionIr {
            wire: name.to_string(),
            method: names::snake(name),
            request: rust_of(&action.input),
            response: rust_of(&action.output),
            title: action.title.to_string(),
            doc: action.doc.clone(),
            deprecated: *action.status == Status::Deprecated,
            endpoint: action
                .endpoint
                .as_deref()
                .map_or("default", String::as_str)
                .to_owned(),
            rate_limit: action.rate_limit.as_deref().copied(),
            retry_safe: action.retry_safe,
            client_token: structs
                .iter()
                .find(|s| s.wire_name == action.input.as_str())
                .and_then(|s| s.fields.iter().find(|f| f.wire == "ClientToken"))
                .filter(|f| f.optional && matches!(f.ty, FieldTy::Scalar(Scalar::String)))
                .map(|f| f.ident.clone()),
            errors: action.errors.iter().map(|e| e.to_string()).collect(),
            requirements,
            closure,
            feature: names::kebab(name),
        });
    }

    let mut codes: BTreeSet<&str> = BTreeSet::new();
    codes.extend(spec.errors.common.iter().map(|c| c.as_str()));
    codes.extend(spec.errors.service.iter().map(|c| c.as_str()));
    // Validation has checked that the variants are distinct, usable identifiers.
    let error_codes = codes
        .into_iter()
        .map(|code| ErrorCodeIr {
            code: code.to_owned(),
            variant: names::error_variant(code),
        })
        .collect();

    let enums = spec
        .enums
        .iter()
        .map(|(name, def)| EnumIr {
            name: name.to_string(),
            scalar: TypeRef::parse(&def.ty)
                .ok()
                .and_then(|t| t.item_scalar())
                .unwrap_or(Scalar::String),
            doc: def.doc.clone(),
            values: def
                .values
                .iter()
                .map(|v| (v.value.to_string(), names::pascal(&v.name), v.doc.clone()))
                .collect(),
            used_by: BTreeSet::new(),
        })
        .collect::<Vec<EnumIr>>();
    let mut enums = enums;
    for action in &actions {
        for name in &action.closure {
            if let Some(s) = structs.iter_mut().find(|s| &s.name == name) {
                s.used_by.insert(action.wire.clone());
            } else if let Some(e) = enums.iter_mut().find(|e| &e.name == name) {
                e.used_by.insert(action.wire.clone());
            }
        }
    }

    if !diags.is_empty() {
        return Err(Diagnostics(diags));
    }
    Ok(Ir {
        service: spec.service.name.to_string(),
        api_version: spec.service.api_version.to_string(),
        signing_service: spec.service.signing_service.to_string(),
        enums,
        structs,
        actions,
        error_codes,
    })
}

/// Boxes non-list struct fields that lie on a cycle (a struct reaching itself without a list).
fn mark_boxed(structs: &mut [StructIr]) {
    let edges: BTreeMap<String, Vec<String>> = structs
        .iter()
        .map(|s| {
            let targets = s
                .fields
                .iter()
                .filter_map(|f| match &f.ty {
                    FieldTy::Struct(n) => Some(n.clone()),
                    _ => None,
                })
                .collect();
            (s.name.clone(), targets)
        })
        .collect();
    let reaches = |from: &str, to: &str| -> bool {
        let mut stack = vec![from.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                stack.extend(edges.get(&n).into_iter().flatten().cloned());
            }
        }
        false
    };
    for s in structs.iter_mut() {
        let name = s.name.clone();
        for f in &mut s.fields {
            if let FieldTy::Struct(target) = &f.ty {
                f.boxed = reaches(target, &name);
            }
        }
    }
}

/// A struct needs validation when a field has a constraint or an enum, or holds a struct
/// that needs validation (fixed point over the type graph).
fn mark_validation(structs: &mut [StructIr]) {
    let mut needs: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = needs.len();
        for s in structs.iter().filter(|s| !s.output_only) {
            let direct = s.fields.iter().any(|f| {
                f.length.is_some()
                    || f.range.is_some()
                    || f.ty.inner_enum().is_some()
                    || f.ty.inner_struct().is_some_and(|n| needs.contains(n))
            });
            if direct {
                needs.insert(s.name.clone());
            }
        }
        if needs.len() == before {
            break;
        }
    }
    for s in structs.iter_mut() {
        s.needs_validation = needs.contains(&s.name);
    }
}

fn collect_closure(
    structs: &[StructIr],
    index: &BTreeMap<&str, usize>,
    name: &str,
    out: &mut BTreeSet<String>,
) {
    let Some(&i) = index.get(name) else { return };
    if !out.insert(name.to_owned()) {
        return;
    }
    for f in &structs[i].fields {
        if let Some(e) = f.ty.inner_enum() {
            out.insert(e.to_owned());
        }
        if let Some(s) = f.ty.inner_struct() {
            collect_closure(structs, index, s, out);
        }
    }
}

fn resolve_requirement(
    structs: &[StructIr],
    index: &BTreeMap<&str, usize>,
    enum_scalars: &BTreeMap<&str, Scalar>,
    input: &str,
    req: &crate::spec::Requirement,
) -> Option<RequirementIr> {
    let mut current = &structs[*index.get(input)?];
    let mut steps = Vec::new();
    for step in req.path.split('.') {
        let (wire, list) = match step.strip_suffix("[]") {
            Some(w) => (w, true),
            None => (step, false),
        };
        let field = current.fields.iter().find(|f| f.wire == wire)?;
        steps.push(PathStep {
            ident: field.ident.clone(),
            wire: wire.to_owned(),
            list,
            optional: field.optional,
        });
        current = &structs[*index.get(field.ty.inner_struct()?)?];
    }
    let member = |wire: &str| current.fields.iter().find(|f| f.wire == wire);
    let members = req
        .members
        .iter()
        .map(|m| {
            let f = member(m)?;
            Some((
                f.ident.clone(),
                f.wire.clone(),
                f.optional,
                matches!(f.ty, FieldTy::Scalar(Scalar::String)),
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    let when = match &req.when {
        None => None,
        Some(w) => {
            let f = member(&w.member)?;
            let scalar = match &f.ty {
                FieldTy::Scalar(s) => *s,
                FieldTy::Enum(e) => *enum_scalars.get(e.as_str())?,
                _ => return None,
            };
            let is_enum = matches!(f.ty, FieldTy::Enum(_));
            Some((
                f.ident.clone(),
                f.optional,
                scalar,
                w.values.iter().map(|v| v.to_string()).collect(),
                is_enum,
            ))
        }
    };
    Some(RequirementIr {
        steps,
        members,
        when,
    })
}
