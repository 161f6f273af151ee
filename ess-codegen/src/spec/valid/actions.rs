//! Actions: their types, endpoint group, rate limit, error codes and requirements.

use std::collections::{BTreeSet, HashMap};

use marked_yaml::Spanned;

use super::{Validator, line_of};
use crate::names;
use crate::spec::checked::{ActionFacts, RequirementFacts, Step, Value};
use crate::spec::diagnostic::suggest;
use crate::spec::model::{Action, Requirement, TypeDef};
use crate::spec::typeref::{Scalar, TypeRef};

/// Methods `Client` has besides one per action.
const CLIENT_METHODS: &[&str] = &[
    "new",
    "transport",
    "from_config",
    "from_env",
    "with_options",
];

impl<'a> Validator<'a> {
    /// Checks an action; returns its endpoint group and requirements, resolved.
    pub(super) fn check_action(
        &mut self,
        name: &Spanned<String>,
        action: &Action,
        codes: &BTreeSet<&str>,
    ) -> ActionFacts {
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
        let groups = &self.spec.service.endpoints;
        let group = action.endpoint.as_deref().map_or("default", String::as_str);
        // A missing `default` is reported by `check_service`; any index stands in for it.
        let endpoint = groups.iter().position(|(k, _)| k.as_str() == group);
        if let Some(named) = &action.endpoint
            && endpoint.is_none()
        {
            let known: Vec<&str> = self
                .spec
                .service
                .endpoints
                .iter()
                .map(|(k, _)| k.as_str())
                .collect();
            self.hint(
                named.span(),
                format!(
                    "unknown endpoint group `{}` for action `{}`",
                    &**named, &**name
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
        let requirements = match self.types.get(action.input.as_str()) {
            Some(&input) => action
                .requirements
                .iter()
                .filter_map(|requirement| self.check_requirement(name, input, requirement))
                .collect(),
            None => Vec::new(),
        };
        let pagination = action
            .pagination
            .as_ref()
            .and_then(|p| self.check_pagination(name, action, p));
        let waiter = action
            .waiter
            .as_ref()
            .and_then(|w| self.check_waiter(name, action, w));
        ActionFacts {
            endpoint: endpoint.unwrap_or_default(),
            requirements,
            pagination,
            waiter,
        }
    }

    pub(super) fn check_requirement(
        &mut self,
        action: &Spanned<String>,
        input: usize,
        req: &Requirement,
    ) -> Option<RequirementFacts> {
        let (target, steps) = self.resolve_path("requirement", action, input, &req.path)?;
        let owner = &self.spec.types.0[target].1;
        let find = |member: &str| owner.members.iter().position(|m| m.name.as_str() == member);
        let mut members = Vec::with_capacity(req.members.len());
        for member in &req.members {
            match find(member) {
                Some(index) => members.push(index),
                None => self.unknown_member(member, owner),
            }
        }
        let mut any_of = Vec::with_capacity(req.any_of.len());
        for group in &req.any_of {
            let mut indices = Vec::with_capacity(group.len());
            for member in group {
                match find(member) {
                    Some(index) => indices.push(index),
                    None => self.unknown_member(member, owner),
                }
            }
            if group.is_empty() {
                self.hint(
                    req.path.span(),
                    format!("a group under `any_of` of `{}` is empty", &*req.path),
                    "each group lists the members that together satisfy the requirement",
                );
            }
            any_of.push(indices);
        }
        if req.members.is_empty() && req.any_of.is_empty() {
            self.hint(
                req.path.span(),
                format!("the requirement on `{}` requires nothing", &*req.path),
                "list members under `members:` or groups under `any_of:`",
            );
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
            any_of,
            when,
        })
    }

    pub(super) fn unknown_member(&mut self, member: &Spanned<String>, owner: &TypeDef) {
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
    pub(super) fn resolve_path(
        &mut self,
        what: &str,
        action: &Spanned<String>,
        input: usize,
        path: &Spanned<String>,
    ) -> Option<(usize, Vec<Step>)> {
        let spec = self.spec;
        let mut current = input;
        let mut steps = Vec::new();
        if path.is_empty() {
            // The request itself.
            return Some((current, steps));
        }
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
                        "{what} path `{}` of action `{}`: no member `{name}`",
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
                    let message = format!("{what} path `{}`: `{name}` is `{ty}`", &**path);
                    self.hint(path.span(), message, fix);
                    return None;
                }
                (other, false) => other,
            };
            let TypeRef::Named(next) = next else {
                let message = format!(
                    "{what} path `{}` ends at a `{next}`, not a structure",
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
