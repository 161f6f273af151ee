//! Validation of a parsed spec. Every check runs and every problem is collected, so one run
//! of the loader shows all of them, each with its position and, where possible, a fix.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use marked_yaml::{Span, Spanned};

use super::checked::{Checked, EnumFacts, MemberFacts, RequirementFacts, Step, Value};
use super::diagnostic::{Diagnostic, suggest};
use super::model::{Action, EnumDef, Member, Requirement, Spec, TypeDef};
use super::typeref::{Scalar, TypeRef};
use crate::names;

/// The only schema version this crate reads.
pub const SPEC_VERSION: u32 = 1;

/// Methods `Client` has besides one per action.
const CLIENT_METHODS: &[&str] = &["new", "transport", "from_config", "from_env"];

/// Checks `spec` (loaded from `file`) and returns every problem found, in file order.
pub fn validate(spec: &Spec, file: &str) -> Vec<Diagnostic> {
    check(spec, file).err().unwrap_or_default()
}

/// Checks `spec` and returns what it established (types, bounds and paths, parsed), or every
/// problem found, in file order.
pub(crate) fn check(spec: &Spec, file: &str) -> Result<Checked, Vec<Diagnostic>> {
    let mut v = Validator {
        file,
        spec,
        types: spec
            .types
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.as_str(), i))
            .collect(),
        checked: Checked::default(),
        diags: Vec::new(),
    };
    v.run();
    if v.diags.is_empty() {
        Ok(v.checked)
    } else {
        v.diags.sort_by_key(|d| (d.line, d.column));
        Err(v.diags)
    }
}

struct Validator<'a> {
    file: &'a str,
    spec: &'a Spec,
    /// Type name -> index in `spec.types`.
    types: HashMap<&'a str, usize>,
    checked: Checked,
    diags: Vec<Diagnostic>,
}

impl<'a> Validator<'a> {
    fn error(&mut self, span: &Span, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::at(self.file, span, message));
        self.diags.last_mut().expect("just pushed")
    }

    fn hint(&mut self, span: &Span, message: impl Into<String>, hint: impl Into<String>) {
        self.error(span, message).hint = Some(hint.into());
    }

    fn run(&mut self) {
        let spec = self.spec;
        if *spec.spec_version != SPEC_VERSION {
            self.hint(
                spec.spec_version.span(),
                format!("unsupported spec_version {}", *spec.spec_version),
                format!("this generator reads spec_version {SPEC_VERSION}"),
            );
        }
        self.check_service();
        let codes = self.check_error_codes();
        self.check_namespaces();
        for (name, def) in spec.enums.iter() {
            let facts = self.check_enum(name, def);
            self.checked.enums.push(facts);
        }
        for (name, def) in spec.types.iter() {
            let facts = self.check_type(name, def);
            self.checked.members.push(facts);
        }
        self.check_recursion();
        let mut methods: HashMap<String, &Spanned<String>> = HashMap::new();
        for (name, action) in spec.actions.iter() {
            let requirements = self.check_action(name, action, &codes);
            self.checked.requirements.push(requirements);
            let method = names::snake(name);
            if let Some(first) = methods.get(&method) {
                let line = line_of(first.span());
                self.hint(
                    name.span(),
                    format!(
                        "action `{}` and `{}` both become the method `{method}`",
                        &***first, &**name
                    ),
                    format!("rename one of them; the first is at line {line}"),
                );
            } else {
                methods.insert(method, name);
            }
        }
    }

    fn check_service(&mut self) {
        let service = &self.spec.service;
        if service.endpoints.get("default").is_none() {
            self.hint(
                service.name.span(),
                "service has no `default` endpoint group",
                "add `endpoints: { default: { production: HOST, test: HOST } }`",
            );
        }
        for (_, endpoint) in service.endpoints.iter() {
            for host in [&endpoint.production, &endpoint.test] {
                if host.contains("://") || host.contains('/') || host.is_empty() {
                    self.hint(
                        host.span(),
                        format!("endpoint `{}` is not a host name", &**host),
                        "write the host alone, e.g. `ess.tencentcloudapi.com`",
                    );
                }
            }
        }
    }

    /// Checks the code lists and returns the set of known codes.
    fn check_error_codes(&mut self) -> BTreeSet<&'a str> {
        let errors = &self.spec.errors;
        let mut all = BTreeSet::new();
        for list in [&errors.common, &errors.service] {
            let mut seen: HashMap<&str, &Spanned<String>> = HashMap::new();
            for code in list {
                if !is_error_code(code) {
                    self.hint(
                        code.span(),
                        format!("`{}` is not an error code", &**code),
                        "codes are dot-separated PascalCase words, e.g. `ResourceNotFound.Flow`",
                    );
                }
                if let Some(first) = seen.insert(code.as_str(), code) {
                    let line = line_of(first.span());
                    self.hint(
                        code.span(),
                        format!("error code `{}` is listed twice", &**code),
                        format!("remove one; the first is at line {line}"),
                    );
                }
                all.insert(code.as_str());
            }
        }
        self.check_error_variants();
        all
    }

    /// Each code becomes an `ErrorCode` variant: it must be a usable identifier, not the
    /// variant reserved for unlisted codes, and not shared with another code.
    fn check_error_variants(&mut self) {
        let errors = &self.spec.errors;
        let mut variants: HashMap<String, &Spanned<String>> = HashMap::new();
        for code in errors.common.iter().chain(&errors.service) {
            if !is_error_code(code) {
                continue;
            }
            let variant = names::error_variant(code);
            if variant == "Unknown" {
                self.hint(
                    code.span(),
                    format!("error code `{}` becomes `ErrorCode::Unknown`, which is reserved", &**code),
                    "`ErrorCode::Unknown` holds the codes the spec does not list; this code cannot be one of them",
                );
            } else if names::is_unescapable_keyword(&variant) {
                self.hint(
                    code.span(),
                    format!(
                        "error code `{}` becomes `ErrorCode::{variant}`, a Rust keyword that `r#` cannot escape",
                        &**code
                    ),
                    "such a code cannot be generated; leave it out of the spec",
                );
            }
            match variants.get(&variant) {
                Some(first) if first.as_str() != code.as_str() => {
                    let line = line_of(first.span());
                    let message = format!(
                        "error codes `{}` and `{}` both become `ErrorCode::{variant}`",
                        &***first, &**code
                    );
                    self.hint(code.span(), message, format!("the first is at line {line}"));
                }
                Some(_) => {}
                None => {
                    variants.insert(variant, code);
                }
            }
        }
    }

    /// Type and enum names share the Rust type namespace.
    fn check_namespaces(&mut self) {
        let spec = self.spec;
        let mut type_names: HashMap<&str, &Spanned<String>> = HashMap::new();
        for (name, def) in spec.types.iter() {
            self.check_type_name(name, "type");
            // The Rust name is what could collide: `rust_name` fixes a type named `Client`.
            let rust = def.rust_name.as_ref().unwrap_or(name);
            if let Some(why) = names::reserved(rust) {
                let what = if def.rust_name.is_some() {
                    "rust_name"
                } else {
                    "type"
                };
                self.hint(
                    rust.span(),
                    format!("{what} `{}` {why}", &**rust),
                    "give it another Rust name with `rust_name:` (in spec/overlay.yaml)",
                );
            }
            if let Some(rust) = &def.rust_name {
                self.check_type_name(rust, "rust_name");
                if spec.types.get(rust).is_some() || spec.enums.get(rust).is_some() {
                    self.error(
                        rust.span(),
                        format!(
                            "rust_name `{}` is already the name of a type or enum",
                            &**rust
                        ),
                    );
                }
                type_names.insert(rust.as_str(), rust);
            }
            type_names.insert(name.as_str(), name);
        }
        for (name, _) in spec.enums.iter() {
            self.check_type_name(name, "enum");
            if let Some(why) = names::reserved(name) {
                self.hint(
                    name.span(),
                    format!("enum `{}` {why}", &**name),
                    "rename the enum",
                );
            }
            if let Some(ty) = type_names.get(name.as_str()) {
                let line = line_of(ty.span());
                self.hint(
                    name.span(),
                    format!("enum `{}` has the same name as a type", &**name),
                    format!("types and enums share one namespace; the type is at line {line}"),
                );
            }
        }
    }

    fn check_type_name(&mut self, name: &Spanned<String>, what: &str) {
        if !names::is_pascal_ident(name) {
            self.hint(
                name.span(),
                format!("{what} name `{}` is not a PascalCase identifier", &**name),
                "use ASCII letters and digits, starting with an uppercase letter",
            );
        } else if names::is_keyword(name) {
            self.hint(
                name.span(),
                format!("{what} name `{}` is a Rust keyword", &**name),
                "rename it in the spec",
            );
        }
    }

    fn check_enum(&mut self, name: &Spanned<String>, def: &EnumDef) -> EnumFacts {
        let scalar = match TypeRef::parse(&def.ty) {
            Ok(TypeRef::Scalar(s @ (Scalar::String | Scalar::Int64 | Scalar::Uint64))) => Some(s),
            _ => {
                self.hint(
                    def.ty.span(),
                    format!("enum `{}` has type `{}`", &**name, &*def.ty),
                    "enum values are `string`, `int64` or `uint64`",
                );
                None
            }
        };
        if def.values.is_empty() {
            self.error(name.span(), format!("enum `{}` has no values", &**name));
        }
        let mut values: HashMap<&str, &Spanned<String>> = HashMap::new();
        let mut rust_names: HashMap<String, &Spanned<String>> = HashMap::new();
        let mut parsed = Vec::with_capacity(def.values.len());
        for value in &def.values {
            let typed = scalar.and_then(|s| Value::parse(s, &value.value));
            parsed.push(
                typed
                    .clone()
                    .unwrap_or_else(|| Value::String(value.value.to_string())),
            );
            if let Some(scalar) = scalar
                && typed.is_none()
            {
                self.hint(
                    value.value.span(),
                    format!(
                        "value `{}` of enum `{}` is not of type {scalar}",
                        &*value.value, &**name
                    ),
                    format!("`{}` is declared `type: {scalar}`", &**name),
                );
            }
            if let Some(first) = values.insert(value.value.as_str(), &value.value) {
                let line = line_of(first.span());
                self.hint(
                    value.value.span(),
                    format!(
                        "value `{}` appears twice in enum `{}`",
                        &*value.value, &**name
                    ),
                    format!("the first is at line {line}"),
                );
            }
            if !names::is_pascal_ident(&value.name) || names::is_keyword(&value.name) {
                self.hint(
                    value.name.span(),
                    format!(
                        "enum value name `{}` is not a PascalCase identifier",
                        &*value.name
                    ),
                    "use ASCII letters and digits, starting with an uppercase letter",
                );
            } else if value.name.as_str() == "Unknown" {
                self.hint(
                    value.name.span(),
                    "enum value name `Unknown` is reserved",
                    "generated enums use `Unknown` for values the spec does not list",
                );
            }
            let rust = names::pascal(&value.name);
            if let Some(first) = rust_names.get(&rust) {
                let line = line_of(first.span());
                self.hint(
                    value.name.span(),
                    format!(
                        "enum value names `{}` and `{}` both become `{rust}`",
                        &***first, &*value.name
                    ),
                    format!("rename one; the first is at line {line}"),
                );
            } else {
                rust_names.insert(rust, &value.name);
            }
        }
        EnumFacts {
            scalar: scalar.unwrap_or(Scalar::String),
            values: parsed,
        }
    }

    /// Checks a structure; returns the facts of each of its members, in order.
    fn check_type(&mut self, name: &Spanned<String>, def: &TypeDef) -> Vec<MemberFacts> {
        let mut wire: HashMap<&str, &Spanned<String>> = HashMap::new();
        let mut rust: HashMap<String, &Spanned<String>> = HashMap::new();
        let mut facts = Vec::with_capacity(def.members.len());
        for member in &def.members {
            let mname = &member.name;
            if !names::is_wire_ident(mname) {
                self.hint(
                    mname.span(),
                    format!(
                        "member name `{}` of `{}` is not an identifier",
                        &**mname, &**name
                    ),
                    "use ASCII letters, digits and `_`, starting with a letter",
                );
            }
            if let Some(first) = wire.insert(mname.as_str(), mname) {
                let line = line_of(first.span());
                self.hint(
                    mname.span(),
                    format!("member `{}` is defined twice in `{}`", &**mname, &**name),
                    format!("remove one; the first is at line {line}"),
                );
                facts.push(MemberFacts::UNCHECKED);
                continue;
            }
            let snake = names::snake(mname);
            if names::is_unescapable_keyword(&snake) {
                self.hint(
                    mname.span(),
                    format!("member `{}` of `{}` becomes `{snake}`, a Rust keyword that `r#` cannot escape", &**mname, &**name),
                    "rename the member in the spec",
                );
            }
            if let Some(first) = rust.get(&snake) {
                let line = line_of(first.span());
                self.hint(
                    mname.span(),
                    format!(
                        "members `{}` and `{}` of `{}` both become the field `{snake}`",
                        &***first, &**mname, &**name
                    ),
                    format!(
                        "snake_case names must be unique in a type; the first is at line {line}"
                    ),
                );
            } else {
                rust.insert(snake, mname);
            }
            facts.push(self.check_member(name, member));
        }
        facts
    }

    fn check_member(&mut self, owner: &Spanned<String>, member: &Member) -> MemberFacts {
        let what = format!("`{}.{}`", &**owner, &*member.name);
        let ty = match TypeRef::parse(&member.ty) {
            Ok(ty) => ty,
            Err(e) => {
                self.hint(
                    member.ty.span(),
                    format!("bad type for {what}: {e}"),
                    "types are string, int64, uint64, float, bool, a type name, or list<T>",
                );
                return MemberFacts::UNCHECKED;
            }
        };
        if let TypeRef::Named(target) = ty.item()
            && !self.types.contains_key(target.as_str())
        {
            let hint = suggest(
                target,
                self.spec.types.iter().map(|(k, _)| k.as_str()),
                "define it under `types:`",
            );
            self.hint(
                member.ty.span(),
                format!("unknown type `{target}` in {what}"),
                hint,
            );
        }
        let scalar = ty.item_scalar();
        if let Some(length) = &member.length {
            if !(ty.is_list() || scalar == Some(Scalar::String)) {
                self.hint(
                    length.span(),
                    format!("{what} has a length constraint but its type is `{ty}`"),
                    "`length` applies to strings and lists; use `range` for numbers",
                );
            }
            match (length.exact, length.min, length.max) {
                (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                    self.hint(
                        length.span(),
                        format!("{what} has `exact` together with `min` or `max`"),
                        "use either `exact` or `min`/`max`",
                    );
                }
                (None, Some(min), Some(max)) if min > max => {
                    self.error(
                        length.span(),
                        format!("{what} has length min {min} > max {max}"),
                    );
                }
                (None, None, None) => {
                    self.error(
                        length.span(),
                        format!("{what} has an empty length constraint"),
                    );
                }
                _ => {}
            }
        }
        let mut bounds = (None, None);
        if let Some(range) = &member.range {
            match scalar {
                Some(s) if s.is_numeric() => {
                    bounds = (
                        self.bound(&what, s, range.min.as_ref()),
                        self.bound(&what, s, range.max.as_ref()),
                    );
                    if let (Some(min), Some(max)) = (&range.min, &range.max)
                        && let (Some(low), Some(high)) = &bounds
                        && low.exceeds(high)
                    {
                        self.error(
                            range.span(),
                            format!("{what} has range min {} > max {}", &**min, &**max),
                        );
                    }
                    if range.min.is_none() && range.max.is_none() {
                        self.error(range.span(), format!("{what} has an empty range"));
                    }
                }
                _ => {
                    self.hint(
                        range.span(),
                        format!("{what} has a range constraint but its type is `{ty}`"),
                        "`range` applies to int64, uint64 and float; use `length` for strings",
                    );
                }
            }
        }
        let mut enum_values: Option<Vec<&str>> = None;
        if let Some(enum_name) = &member.enumeration {
            match self.spec.enums.get(enum_name) {
                None => {
                    let names = self.spec.enums.iter().map(|(k, _)| k.as_str());
                    let hint = suggest(enum_name, names, "define it under `enums:`");
                    self.hint(
                        enum_name.span(),
                        format!("unknown enum `{}` in {what}", &**enum_name),
                        hint,
                    );
                }
                Some(def) => {
                    let enum_scalar = TypeRef::parse(&def.ty).ok().and_then(|t| t.item_scalar());
                    if scalar.is_none() || enum_scalar.is_some() && scalar != enum_scalar {
                        self.hint(
                            enum_name.span(),
                            format!(
                                "{what} has type `{ty}` but enum `{}` holds {}",
                                &**enum_name, &*def.ty
                            ),
                            "an enum's type must match the member's (item) type",
                        );
                    } else {
                        enum_values = Some(def.values.iter().map(|v| v.value.as_str()).collect());
                    }
                }
            }
        }
        if let Some(default) = &member.default {
            match scalar.and_then(|s| Value::parse(s, default)) {
                Some(value) => {
                    let out_of_range = bounds.0.as_ref().is_some_and(|min| min.exceeds(&value))
                        || bounds.1.as_ref().is_some_and(|max| value.exceeds(max));
                    if out_of_range {
                        self.error(
                            default.span(),
                            format!("default `{}` of {what} is outside its range", &**default),
                        );
                    }
                    if enum_values
                        .as_ref()
                        .is_some_and(|vals| !vals.contains(&default.as_str()))
                    {
                        self.error(
                            default.span(),
                            format!(
                                "default `{}` of {what} is not a value of its enum",
                                &**default
                            ),
                        );
                    }
                }
                None => {
                    self.error(
                        default.span(),
                        format!("default `{}` of {what} is not of type `{ty}`", &**default),
                    );
                }
            }
        }
        MemberFacts {
            ty,
            range: member.range.as_ref().map(|_| bounds),
        }
    }

    fn bound(
        &mut self,
        what: &str,
        scalar: Scalar,
        bound: Option<&Spanned<String>>,
    ) -> Option<Value> {
        let bound = bound?;
        let value = Value::parse(scalar, bound);
        if value.is_some() {
            value
        } else {
            self.error(
                bound.span(),
                format!(
                    "range bound `{}` of {what} is not of type {scalar}",
                    &**bound
                ),
            );
            None
        }
    }

    /// A type that holds itself through required, non-list members can never be built.
    fn check_recursion(&mut self) {
        let spec = self.spec;
        let mut edges: BTreeMap<&str, Vec<(&str, &Member)>> = BTreeMap::new();
        for ((name, def), facts) in spec.types.iter().zip(&self.checked.members) {
            for (member, fact) in def.members.iter().zip(facts) {
                if let (true, TypeRef::Named(target)) = (member.required, &fact.ty)
                    && let Some((key, _)) = self.types.get_key_value(target.as_str())
                {
                    edges.entry(name.as_str()).or_default().push((key, member));
                }
            }
        }
        let mut reported = BTreeSet::new();
        for (start, _) in spec.types.iter() {
            let mut path: Vec<(&str, &Member)> = Vec::new();
            if let Some(cycle) = find_cycle(start, start, &edges, &mut path, &mut BTreeSet::new()) {
                let members: Vec<String> = cycle
                    .iter()
                    .map(|(t, m)| format!("{t}.{}", &*m.name))
                    .collect();
                let key: BTreeSet<&str> = cycle.iter().map(|(t, _)| *t).collect();
                if reported.insert(key) {
                    let span = cycle[0].1.name.span();
                    self.hint(
                        span,
                        format!("type `{}` contains itself through required members ({})", &**start, members.join(" -> ")),
                        "a value of it could never be built; make one of these members optional or a list",
                    );
                }
            }
        }
    }

    /// Checks an action; returns its requirements, resolved.
    fn check_action(
        &mut self,
        name: &Spanned<String>,
        action: &Action,
        codes: &BTreeSet<&str>,
    ) -> Vec<RequirementFacts> {
        if !names::is_pascal_ident(name) {
            self.hint(
                name.span(),
                format!("action name `{}` is not a PascalCase identifier", &**name),
                "use ASCII letters and digits, starting with an uppercase letter",
            );
        } else {
            let method = names::snake(name);
            if names::is_unescapable_keyword(&method) {
                self.hint(
                    name.span(),
                    format!(
                        "action `{}` becomes the method `{method}`, a Rust keyword that `r#` cannot escape",
                        &**name
                    ),
                    "rename the action in the spec",
                );
            } else if CLIENT_METHODS.contains(&method.as_str()) {
                self.hint(
                    name.span(),
                    format!(
                        "action `{}` becomes the method `Client::{method}`, which the client already has",
                        &**name
                    ),
                    "rename the action in the spec",
                );
            }
        }
        for (role, ty) in [("input", &action.input), ("output", &action.output)] {
            if !self.types.contains_key(ty.as_str()) {
                let names = self.spec.types.iter().map(|(k, _)| k.as_str());
                let hint = suggest(ty, names, "define it under `types:`");
                self.hint(
                    ty.span(),
                    format!("unknown {role} type `{}` for action `{}`", &**ty, &**name),
                    hint,
                );
            }
        }
        if let Some(endpoint) = &action.endpoint
            && self.spec.service.endpoints.get(endpoint).is_none()
        {
            let known: Vec<&str> = self
                .spec
                .service
                .endpoints
                .iter()
                .map(|(k, _)| k.as_str())
                .collect();
            self.hint(
                endpoint.span(),
                format!(
                    "unknown endpoint group `{}` for action `{}`",
                    &**endpoint, &**name
                ),
                format!("known groups: {}", known.join(", ")),
            );
        }
        if let Some(limit) = &action.rate_limit
            && **limit == 0
        {
            self.hint(
                limit.span(),
                format!("action `{}` has rate_limit 0", &**name),
                "omit rate_limit when the service states none",
            );
        }
        let mut seen: HashMap<&str, &Spanned<String>> = HashMap::new();
        for code in &action.errors {
            if !codes.contains(code.as_str()) {
                let hint = suggest(code, codes.iter().copied(), "add it under `errors:` first");
                self.hint(
                    code.span(),
                    format!(
                        "action `{}` lists unknown error code `{}`",
                        &**name, &**code
                    ),
                    hint,
                );
            }
            if let Some(first) = seen.insert(code.as_str(), code) {
                let line = line_of(first.span());
                self.hint(
                    code.span(),
                    format!("action `{}` lists error code `{}` twice", &**name, &**code),
                    format!("the first is at line {line}"),
                );
            }
        }
        let Some(&input) = self.types.get(action.input.as_str()) else {
            return Vec::new();
        };
        action
            .requirements
            .iter()
            .filter_map(|requirement| self.check_requirement(name, input, requirement))
            .collect()
    }

    fn check_requirement(
        &mut self,
        action: &Spanned<String>,
        input: usize,
        req: &Requirement,
    ) -> Option<RequirementFacts> {
        let (target, steps) = self.resolve_path(action, input, &req.path)?;
        let owner = &self.spec.types.0[target].1;
        let find = |member: &str| owner.members.iter().position(|m| m.name.as_str() == member);
        let mut members = Vec::with_capacity(req.members.len());
        for member in &req.members {
            match find(member) {
                Some(index) => members.push(index),
                None => self.unknown_member(member, owner),
            }
        }
        let mut when = None;
        if let Some(condition) = &req.when {
            match find(&condition.member) {
                None => self.unknown_member(&condition.member, owner),
                Some(index) => {
                    let m = &owner.members[index];
                    let scalar = match &self.checked.members[target][index].ty {
                        TypeRef::Scalar(s) => Some(*s),
                        _ => None,
                    };
                    if condition.values.is_empty() {
                        self.hint(
                            condition.member.span(),
                            format!("the condition on `{}` lists no values", &*m.name),
                            "list the values under `in:`, or drop `when:`",
                        );
                    }
                    let mut values = Vec::with_capacity(condition.values.len());
                    for value in &condition.values {
                        match scalar.and_then(|s| Value::parse(s, value)) {
                            Some(parsed) => values.push(parsed),
                            None => {
                                self.error(
                                    value.span(),
                                    format!(
                                        "`{}` is not a value of `{}` (type `{}`)",
                                        &**value, &*m.name, &*m.ty
                                    ),
                                );
                            }
                        }
                    }
                    when = Some((index, scalar.unwrap_or(Scalar::String), values));
                }
            }
        }
        Some(RequirementFacts {
            steps,
            target,
            members,
            when,
        })
    }

    fn unknown_member(&mut self, member: &Spanned<String>, owner: &TypeDef) {
        let names = owner.members.iter().map(|m| m.name.as_str());
        let hint = suggest(
            member,
            names,
            "it must be a member of the type at that path",
        );
        self.hint(
            member.span(),
            format!("unknown member `{}` in requirement", &**member),
            hint,
        );
    }

    /// Follows a requirement path (`A.B[]`) from the input type to a structure; returns it
    /// (by index) and the steps that lead there.
    fn resolve_path(
        &mut self,
        action: &Spanned<String>,
        input: usize,
        path: &Spanned<String>,
    ) -> Option<(usize, Vec<Step>)> {
        let spec = self.spec;
        let mut current = input;
        let mut steps = Vec::new();
        for step in path.split('.') {
            let (name, into_list) = match step.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (step, false),
            };
            let members = &spec.types.0[current].1.members;
            let Some(index) = members.iter().position(|m| m.name.as_str() == name) else {
                let names = members.iter().map(|m| m.name.as_str());
                let hint = suggest(
                    name,
                    names,
                    "paths are member names joined by `.`, with `[]` after lists",
                );
                self.hint(
                    path.span(),
                    format!(
                        "requirement path `{}` of action `{}`: no member `{name}`",
                        &**path, &**action
                    ),
                    hint,
                );
                return None;
            };
            let ty = &self.checked.members[current][index].ty;
            let next = match (ty, into_list) {
                (TypeRef::List(inner), true) => &**inner,
                (TypeRef::List(_), false) | (_, true) => {
                    let fix = if into_list {
                        "remove `[]`: it is not a list"
                    } else {
                        "add `[]`: it is a list"
                    };
                    let message = format!("requirement path `{}`: `{name}` is `{ty}`", &**path);
                    self.hint(path.span(), message, fix);
                    return None;
                }
                (other, false) => other,
            };
            let TypeRef::Named(next) = next else {
                let message = format!(
                    "requirement path `{}` ends at a `{next}`, not a structure",
                    &**path
                );
                self.error(path.span(), message);
                return None;
            };
            steps.push(Step {
                owner: current,
                member: index,
                list: into_list,
            });
            current = *self.types.get(next.as_str())?;
        }
        Some((current, steps))
    }
}

fn find_cycle<'m>(
    start: &str,
    at: &str,
    edges: &BTreeMap<&'m str, Vec<(&'m str, &'m Member)>>,
    path: &mut Vec<(&'m str, &'m Member)>,
    visited: &mut BTreeSet<&'m str>,
) -> Option<Vec<(&'m str, &'m Member)>> {
    for &(target, member) in edges.get(at).map(Vec::as_slice).unwrap_or_default() {
        let from = edges.get_key_value(at).map(|(k, _)| *k)?;
        path.push((from, member));
        if target == start {
            return Some(path.clone());
        }
        if visited.insert(target)
            && let Some(cycle) = find_cycle(start, target, edges, path, visited)
        {
            return Some(cycle);
        }
        path.pop();
    }
    None
}

fn line_of(span: &Span) -> usize {
    span.start().map_or(0, |m| m.line())
}

/// Whether `code` looks like `Word` or `Word.Word...` (letters and digits, each word capitalised).
pub fn is_error_code(code: &str) -> bool {
    !code.is_empty()
        && code.split('.').all(|word| {
            let mut chars = word.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}
