//! The intermediate representation: the spec resolved into what Rust code needs (identifiers,
//! field types, optionality, boxing of recursive members, validation needs, action closures).
//! Built from a [`Validated`] spec, whose facts are already parsed: it cannot fail.

use std::collections::{BTreeMap, BTreeSet};

use crate::names;
use crate::spec::checked::{PaginationFacts, RequirementFacts, WaiterFacts};
use crate::spec::{OffsetKind, Scalar, Status, TypeRef, Validated, Value};

/// Everything the code generator emits, in deterministic (sorted) order.
#[derive(Debug)]
pub(crate) struct Ir {
    /// Short service name.
    pub(crate) service: String,
    /// API version.
    pub(crate) api_version: String,
    /// Service name in the signature scope.
    pub(crate) signing_service: String,
    /// Enumerations.
    pub(crate) enums: Vec<EnumIr>,
    /// Structures.
    pub(crate) structs: Vec<StructIr>,
    /// Actions.
    pub(crate) actions: Vec<ActionIr>,
    /// Every error code (common and service, deduplicated, sorted).
    pub(crate) error_codes: Vec<ErrorCodeIr>,
    /// The callback events, by MsgType.
    pub(crate) callbacks: Vec<CallbackIr>,
}

/// What structures and enums record in `used_by` when callbacks reach them (no action's wire
/// name starts with `#`).
pub(crate) const CALLBACKS: &str = "#callbacks";

/// One callback event (a MsgType).
#[derive(Debug)]
pub(crate) struct CallbackIr {
    /// The MsgType as sent; also the variant's name.
    pub(crate) wire: String,
    /// Our docs.
    pub(crate) doc: Option<String>,
    /// The Rust structure of its data; `None`: kept raw.
    pub(crate) data: Option<String>,
    /// Superseded by another event.
    pub(crate) deprecated: bool,
}

impl Ir {
    /// Keeps only `actions` and the types and enums they reach, without the callback events.
    /// Unknown names are returned.
    pub(crate) fn retain_actions(&mut self, actions: &[&str]) -> Vec<String> {
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
        // A subset of actions leaves the callback events out (the whole spec has them).
        self.callbacks.clear();
        self.structs.retain(|s| keep.contains(&s.name));
        self.enums.retain(|e| keep.contains(&e.name));
        unknown
    }
}

/// An enumeration.
#[derive(Debug)]
pub(crate) struct EnumIr {
    /// Rust (and spec) name.
    pub(crate) name: String,
    /// Wire type of the values.
    pub(crate) scalar: Scalar,
    /// Our docs.
    pub(crate) doc: Option<String>,
    /// The known values.
    pub(crate) values: Vec<EnumValueIr>,
    /// The actions that reach this enum (for per-action cargo features).
    pub(crate) used_by: BTreeSet<String>,
}

/// One known value of an enumeration.
#[derive(Debug)]
pub(crate) struct EnumValueIr {
    /// The value, typed.
    pub(crate) value: Value,
    /// As written in the spec (wire form).
    pub(crate) wire: String,
    /// Variant name.
    pub(crate) variant: String,
    /// Our docs.
    pub(crate) doc: Option<String>,
}

/// A field's Rust type, before `Option`/`Box`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldTy {
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
pub(crate) struct StructIr {
    /// Rust name.
    pub(crate) name: String,
    /// Our docs.
    pub(crate) doc: Option<String>,
    /// Fields in wire order.
    pub(crate) fields: Vec<FieldIr>,
    /// Whether every field is optional (so the type has `Default`).
    pub(crate) all_optional: bool,
    /// Whether `validate()` has anything to check.
    pub(crate) needs_validation: bool,
    /// Only ever read from responses: no constructor, setters or `validate()`.
    pub(crate) output_only: bool,
    /// Only ever sent: no response reaches it.
    pub(crate) input_only: bool,
    /// The action whose request is this type.
    pub(crate) request_of: Option<String>,
    /// The action whose response is this type.
    pub(crate) response_of: Option<String>,
    /// The actions that reach this type (for per-action cargo features).
    pub(crate) used_by: BTreeSet<String>,
}

/// A field of a structure.
#[derive(Debug, Clone)]
pub(crate) struct FieldIr {
    /// Wire name.
    pub(crate) wire: String,
    /// snake_case name (a keyword is written raw by the generator).
    pub(crate) ident: String,
    /// Type without `Option`/`Box`.
    pub(crate) ty: FieldTy,
    /// `Option<..>`: not required.
    pub(crate) optional: bool,
    /// `Box<..>`: the field closes a cycle of non-list members.
    pub(crate) boxed: bool,
    /// Debug prints `<redacted>`.
    pub(crate) sensitive: bool,
    /// Holds file content: `Debug` prints its length.
    pub(crate) content: bool,
    /// Facts for rustdoc.
    pub(crate) doc: FieldDoc,
    /// Length bounds (characters or items).
    pub(crate) length: Option<(Option<u64>, Option<u64>)>,
    /// Inclusive numeric bounds.
    pub(crate) range: Option<(Option<Value>, Option<Value>)>,
}

/// What rustdoc says about a field.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldDoc {
    /// Our words.
    pub(crate) text: Option<String>,
    /// Required in requests.
    pub(crate) required: bool,
    /// Confirmed present in every answer.
    pub(crate) always_present: bool,
    /// Values upstream lists for a member no enum types.
    pub(crate) listed: Vec<String>,
    /// Why it keeps its wire type, when reviewed.
    pub(crate) kept: Option<String>,
    /// Disabled upstream.
    pub(crate) disabled: bool,
    /// No longer read by the service, upstream says.
    pub(crate) unused: bool,
    /// Deprecated.
    pub(crate) deprecated: bool,
    /// Default the service assumes.
    pub(crate) default: Option<String>,
    /// Example value.
    pub(crate) example: Option<String>,
}

/// An action.
#[derive(Debug)]
pub(crate) struct ActionIr {
    /// Wire name.
    pub(crate) wire: String,
    /// Client method name.
    pub(crate) method: String,
    /// Request type.
    pub(crate) request: String,
    /// Response type.
    pub(crate) response: String,
    /// Official title.
    pub(crate) title: String,
    /// Our docs.
    pub(crate) doc: Option<String>,
    /// Deprecated upstream.
    pub(crate) deprecated: bool,
    /// Endpoint group: its name, production host and test host.
    pub(crate) endpoint: (String, String, String),
    /// Requests per second.
    pub(crate) rate_limit: Option<u32>,
    /// Safe to re-send after a network failure.
    pub(crate) retry_safe: bool,
    /// Error codes it may return, as indices into [`Ir::error_codes`].
    pub(crate) errors: Vec<usize>,
    /// Per-action requirements.
    pub(crate) requirements: Vec<RequirementIr>,
    /// Paging, for list actions.
    pub(crate) pagination: Option<PaginationIr>,
    /// The waiter, for the describe half of an asynchronous job.
    pub(crate) waiter: Option<WaiterIr>,
    /// Every structure and enum the request and response reach.
    pub(crate) closure: BTreeSet<String>,
    /// The cargo feature that enables this action (`create-flow-sign-url`).
    pub(crate) feature: String,
}

/// A per-action requirement, resolved.
#[derive(Debug)]
pub(crate) struct RequirementIr {
    /// Path steps from the request: (field ident, wire name, is a list, is optional).
    pub(crate) steps: Vec<PathStep>,
    /// Required members of the target: (field ident, wire name, is optional, is a string).
    pub(crate) members: Vec<(String, String, bool, bool)>,
    /// Alternatives, each a group of members as in `members`: one group must be present.
    pub(crate) any_of: Vec<Vec<(String, String, bool, bool)>>,
    /// Condition: (field ident, is optional, scalar, values, is an enum).
    pub(crate) when: Option<(String, bool, Scalar, Vec<Value>, bool)>,
}

/// A list action's paging.
#[derive(Debug)]
pub(crate) struct PaginationIr {
    /// What `Offset` counts.
    pub(crate) offset: OffsetKind,
    /// The request's `Offset` field.
    pub(crate) offset_field: FieldIr,
    /// The response's items field.
    pub(crate) items: FieldIr,
    /// The type of one item.
    pub(crate) item: FieldTy,
    /// The response's total field.
    pub(crate) total: Option<FieldIr>,
}

/// A waiter: where the status is, and what its values mean.
#[derive(Debug)]
pub(crate) struct WaiterIr {
    /// `wait_for_<name>`.
    pub(crate) name: String,
    /// The actions that start the job.
    pub(crate) started_by: Vec<String>,
    /// Path steps from the response to the structure holding the status.
    pub(crate) steps: Vec<PathStep>,
    /// The status field.
    pub(crate) status: FieldIr,
    /// The status enum.
    pub(crate) enumeration: String,
    /// Variants meaning success, failure, and still running.
    pub(crate) success: Vec<String>,
    pub(crate) failure: Vec<String>,
    pub(crate) pending: Vec<String>,
}

/// One step of a requirement path.
#[derive(Debug)]
pub(crate) struct PathStep {
    /// Field ident.
    pub(crate) ident: String,
    /// Wire name.
    pub(crate) wire: String,
    /// Whether the field is a list (the path steps into each item).
    pub(crate) list: bool,
    /// Whether the field is optional.
    pub(crate) optional: bool,
}

/// An error code.
#[derive(Debug)]
pub(crate) struct ErrorCodeIr {
    /// The code.
    pub(crate) code: String,
    /// Variant name.
    pub(crate) variant: String,
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
    pub(crate) fn inner_struct(&self) -> Option<&str> {
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
pub(crate) fn build(spec: &Validated) -> Ir {
    let checked = spec.checked();
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
    // Request and response type (spec name) -> action.
    let request_of: BTreeMap<&str, &str> = spec
        .actions
        .iter()
        .map(|(n, a)| (a.input.as_str(), n.as_str()))
        .collect();
    let response_of: BTreeMap<&str, &str> = spec
        .actions
        .iter()
        .map(|(n, a)| (a.output.as_str(), n.as_str()))
        .collect();

    let inputs = spec.input_types();
    let outputs = spec.output_types();
    // One structure per type, in spec order: index `i` is `spec.types` entry `i`.
    let mut structs: Vec<StructIr> = Vec::with_capacity(spec.types.len());
    for ((name, def), facts) in spec.types.iter().zip(&checked.members) {
        let response_of = response_of.get(name.as_str());
        let is_response = response_of.is_some();
        let output_only = !inputs.contains(name.as_str());
        let fields: Vec<FieldIr> = def
            .members
            .iter()
            .zip(facts)
            .map(|(m, facts)| {
                // Every answer carries a RequestId (the runtime refuses one without), so a
                // response's is a plain `String`. Validation allows `always_present` only on
                // types no request reaches.
                let always_present = m.required
                    || m.always_present
                    || (is_response
                        && m.name.as_str() == "RequestId"
                        && facts.ty == TypeRef::Scalar(Scalar::String));
                FieldIr {
                    wire: m.name.to_string(),
                    ident: facts.field.clone(),
                    ty: field_ty(
                        &facts.ty,
                        m.enumeration.as_deref().map(String::as_str),
                        &rust,
                    ),
                    optional: !always_present,
                    boxed: false,
                    sensitive: m.is_sensitive(),
                    content: m.content,
                    doc: FieldDoc {
                        text: m.doc.clone(),
                        required: m.required,
                        always_present: m.always_present,
                        listed: m.listed_values.clone(),
                        kept: m.keep_wire_type.clone(),
                        disabled: m.disabled,
                        unused: m.unused,
                        deprecated: m.deprecated,
                        default: m.default.as_deref().cloned(),
                        example: m.example.clone(),
                    },
                    length: m.length.as_ref().map(|l| match l.exact {
                        Some(e) => (Some(e), Some(e)),
                        None => (l.min, l.max),
                    }),
                    range: facts.range.clone(),
                }
            })
            .collect();
        let all_optional = fields.iter().all(|f| f.optional);
        structs.push(StructIr {
            name: rust_of(name),
            doc: def.doc.clone(),
            fields,
            all_optional,
            needs_validation: false,
            output_only,
            input_only: !outputs.contains(name.as_str()),
            request_of: request_of.get(name.as_str()).map(|s| (*s).to_owned()),
            response_of: response_of.map(|s| (*s).to_owned()),
            used_by: BTreeSet::new(),
        });
    }
    mark_boxed(&mut structs);
    mark_validation(&mut structs);

    let index: BTreeMap<String, usize> = structs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();
    // Sorted by code; validation has checked that the variants are distinct, usable
    // identifiers.
    let error_codes: Vec<ErrorCodeIr> = checked
        .error_variants
        .iter()
        .map(|(code, variant)| ErrorCodeIr {
            code: code.clone(),
            variant: variant.clone(),
        })
        .collect();
    let mut actions = Vec::new();
    for ((name, action), facts) in spec.actions.iter().zip(&checked.actions) {
        let requirements = facts
            .requirements
            .iter()
            .map(|r| requirement(&structs, r))
            .collect();
        let (request, response) = (rust_of(&action.input), rust_of(&action.output));
        let paging = facts
            .pagination
            .as_ref()
            .map(|p| pagination(&structs, index[&request], index[&response], p));
        let mut closure = BTreeSet::new();
        for root in [&request, &response] {
            collect_closure(&structs, &index, root, &mut closure);
        }
        actions.push(ActionIr {
            wire: name.to_string(),
            method: names::snake(name),
            request,
            response,
            title: action.title.to_string(),
            doc: action.doc.clone(),
            deprecated: *action.status == Status::Deprecated,
            endpoint: {
                let (group, hosts) = &spec.service.endpoints.0[facts.endpoint];
                (
                    group.to_string(),
                    hosts.production.to_string(),
                    hosts.test.to_string(),
                )
            },
            rate_limit: action.rate_limit.as_deref().copied(),
            retry_safe: action.retry_safe,
            // Validation has checked that the action lists only codes of the spec.
            errors: action
                .errors
                .iter()
                .filter_map(|e| {
                    error_codes
                        .binary_search_by(|c| c.code.as_str().cmp(e.as_str()))
                        .ok()
                })
                .collect(),
            requirements,
            pagination: paging,
            waiter: action
                .waiter
                .as_ref()
                .zip(facts.waiter.as_ref())
                .map(|(w, f)| {
                    waiter(
                        &structs,
                        &spec.enums.0[f.enumeration],
                        &checked.enums[f.enumeration],
                        w,
                        f,
                    )
                }),
            closure,
            feature: names::kebab(name),
        });
    }

    let mut enums: Vec<EnumIr> = spec
        .enums
        .iter()
        .zip(&checked.enums)
        .map(|((name, def), facts)| EnumIr {
            name: name.to_string(),
            scalar: facts.scalar,
            doc: def.doc.clone(),
            values: def
                .values
                .iter()
                .zip(facts.values.iter().zip(&facts.variants))
                .map(|(v, (value, variant))| EnumValueIr {
                    value: value.clone(),
                    wire: v.value.to_string(),
                    variant: variant.clone(),
                    doc: v.doc.clone(),
                })
                .collect(),
            used_by: BTreeSet::new(),
        })
        .collect();
    let enum_index: BTreeMap<String, usize> = enums
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.clone(), i))
        .collect();
    for action in &actions {
        for name in &action.closure {
            if let Some(&i) = index.get(name) {
                structs[i].used_by.insert(action.wire.clone());
            } else if let Some(&i) = enum_index.get(name) {
                enums[i].used_by.insert(action.wire.clone());
            }
        }
    }

    let callbacks: Vec<CallbackIr> = spec
        .callbacks
        .iter()
        .map(|(name, def)| CallbackIr {
            wire: name.to_string(),
            doc: def.doc.clone(),
            data: def.data.as_ref().map(|d| rust_of(d)),
            deprecated: def.deprecated,
        })
        .collect();
    let mut reached = BTreeSet::new();
    for data in callbacks.iter().filter_map(|c| c.data.as_ref()) {
        collect_closure(&structs, &index, data, &mut reached);
    }
    for name in &reached {
        if let Some(&i) = index.get(name) {
            structs[i].used_by.insert(CALLBACKS.to_owned());
        } else if let Some(&i) = enum_index.get(name) {
            enums[i].used_by.insert(CALLBACKS.to_owned());
        }
    }

    Ir {
        service: spec.service.name.to_string(),
        api_version: spec.service.api_version.to_string(),
        signing_service: spec.service.signing_service.to_string(),
        enums,
        structs,
        actions,
        error_codes,
        callbacks,
    }
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

/// A struct needs validation when a field has a constraint, or holds a struct that needs
/// validation (fixed point over the type graph). Enums need none: a value the spec does not
/// list is sent as given.
fn mark_validation(structs: &mut [StructIr]) {
    let mut needs: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = needs.len();
        for s in structs.iter().filter(|s| !s.output_only) {
            let direct = s.fields.iter().any(|f| {
                f.length.is_some()
                    || f.range.is_some()
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
    index: &BTreeMap<String, usize>,
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

/// A requirement in the terms of the structures (`structs[i]` is the spec's type `i`).
fn path_steps(structs: &[StructIr], steps: &[crate::spec::checked::Step]) -> Vec<PathStep> {
    steps
        .iter()
        .map(|step| {
            let field = &structs[step.owner].fields[step.member];
            PathStep {
                ident: field.ident.clone(),
                wire: field.wire.clone(),
                list: step.list,
                optional: field.optional,
            }
        })
        .collect()
}

fn pagination(
    structs: &[StructIr],
    request: usize,
    response: usize,
    facts: &PaginationFacts,
) -> PaginationIr {
    let items = structs[response].fields[facts.items].clone();
    let item = match &items.ty {
        FieldTy::List(item) => (**item).clone(),
        other => other.clone(),
    };
    PaginationIr {
        offset: facts.offset,
        offset_field: structs[request].fields[facts.offset_member].clone(),
        items,
        item,
        total: facts.total.map(|i| structs[response].fields[i].clone()),
    }
}

fn waiter(
    structs: &[StructIr],
    (enum_name, _): &(marked_yaml::Spanned<String>, crate::spec::EnumDef),
    enum_facts: &crate::spec::checked::EnumFacts,
    spec: &crate::spec::Waiter,
    facts: &WaiterFacts,
) -> WaiterIr {
    let variants = |values: &[usize]| -> Vec<String> {
        values
            .iter()
            .map(|&i| enum_facts.variants[i].clone())
            .collect()
    };
    WaiterIr {
        name: spec.name.to_string(),
        started_by: spec.started_by.iter().map(|s| s.to_string()).collect(),
        steps: path_steps(structs, &facts.steps),
        status: structs[facts.target].fields[facts.member].clone(),
        enumeration: enum_name.to_string(),
        success: variants(&facts.success),
        failure: variants(&facts.failure),
        pending: variants(&facts.pending),
    }
}

fn requirement(structs: &[StructIr], facts: &RequirementFacts) -> RequirementIr {
    let steps = path_steps(structs, &facts.steps);
    let target = &structs[facts.target];
    let member = |i: usize| {
        let f = &target.fields[i];
        let is_string = matches!(f.ty, FieldTy::Scalar(Scalar::String));
        (f.ident.clone(), f.wire.clone(), f.optional, is_string)
    };
    let members = facts.members.iter().map(|&i| member(i)).collect();
    let any_of = facts
        .any_of
        .iter()
        .map(|group| group.iter().map(|&i| member(i)).collect())
        .collect();
    let when = facts.when.as_ref().map(|(i, scalar, values)| {
        let f = &target.fields[*i];
        let is_enum = matches!(f.ty, FieldTy::Enum(_));
        (
            f.ident.clone(),
            f.optional,
            *scalar,
            values.clone(),
            is_enum,
        )
    });
    RequirementIr {
        steps,
        members,
        any_of,
        when,
    }
}
