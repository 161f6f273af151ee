//! Paginated list actions and waiters: the members they name exist and have the types the
//! generated loops need, and a waiter gives every value of its status a meaning.

use marked_yaml::Spanned;

use super::Validator;
use crate::spec::checked::{PaginationFacts, WaiterFacts};
use crate::spec::diagnostic::suggest;
use crate::spec::model::{Action, Pagination, Waiter};
use crate::spec::typeref::{Scalar, TypeRef};

impl Validator<'_> {
    /// Checks a list action's paging: integer `Offset` and `Limit` in the request, a list of
    /// items and an integer total in the response.
    pub(super) fn check_pagination(
        &mut self,
        name: &Spanned<String>,
        action: &Action,
        paging: &Pagination,
    ) -> Option<PaginationFacts> {
        let input = *self.types.get(action.input.as_str())?;
        let output = *self.types.get(action.output.as_str())?;
        let mut offset_member = None;
        for wire in ["Offset", "Limit"] {
            let found = self.member_index(input, wire);
            let integer = found.is_some_and(|i| self.is_integer(input, i));
            if !integer {
                self.hint(
                    paging.offset.span(),
                    format!(
                        "action `{}` is paginated, but its request has no integer `{wire}`",
                        &**name
                    ),
                    "pagination drives a request's `Offset` and `Limit` members",
                );
            } else if wire == "Offset" {
                offset_member = found;
            }
        }
        let items = self.output_member(output, &paging.items, "items");
        let items = items.filter(|&i| match &self.checked.members[output][i].ty {
            TypeRef::List(_) => true,
            other => {
                let message = format!("the items member `{}` is `{other}`", &*paging.items);
                self.hint(paging.items.span(), message, "items are a list member");
                false
            }
        });
        let total = match &paging.total {
            Some(total) => {
                let index = self.output_member(output, total, "total")?;
                if !self.is_integer(output, index) {
                    self.hint(
                        total.span(),
                        format!("the total member `{}` is not an integer", &**total),
                        "name the member counting every page's items",
                    );
                    return None;
                }
                Some(index)
            }
            None => None,
        };
        Some(PaginationFacts {
            offset: *paging.offset,
            offset_member: offset_member?,
            items: items?,
            total,
        })
    }

    /// Checks a waiter: its starting actions exist, its status path ends at an enum member,
    /// and each of the enum's values is in exactly one of success, failure and pending.
    pub(super) fn check_waiter(
        &mut self,
        name: &Spanned<String>,
        action: &Action,
        waiter: &Waiter,
    ) -> Option<WaiterFacts> {
        if !crate::names::is_snake_ident(&waiter.name) {
            self.hint(
                waiter.name.span(),
                format!("waiter name `{}` is not snake_case", &*waiter.name),
                "it names the method `wait_for_<name>`: lowercase ASCII words joined by `_`",
            );
        }
        for start in &waiter.started_by {
            if self.spec.actions.get(start).is_none() {
                let names = self.spec.actions.iter().map(|(k, _)| k.as_str());
                let hint = suggest(start, names, "name the action that starts the job");
                self.hint(start.span(), format!("unknown action `{}`", &**start), hint);
            }
        }
        let output = *self.types.get(action.output.as_str())?;
        let (prefix, last) = match waiter.status.rsplit_once('.') {
            Some((prefix, last)) => (Some(prefix), last),
            None => (None, waiter.status.as_str()),
        };
        let (target, steps) = match prefix {
            Some(prefix) => {
                let path = Spanned::new(*waiter.status.span(), prefix.to_owned());
                self.resolve_path("status", name, output, &path)?
            }
            None => (output, Vec::new()),
        };
        let owner = &self.spec.types.0[target].1;
        let Some(member) = self.member_index(target, last) else {
            let names = owner.members.iter().map(|m| m.name.as_str());
            let hint = suggest(
                last,
                names,
                "the status path ends at a member holding the status",
            );
            self.hint(
                waiter.status.span(),
                format!("status path `{}`: no member `{last}`", &*waiter.status),
                hint,
            );
            return None;
        };
        if let TypeRef::List(_) = self.checked.members[target][member].ty {
            self.hint(
                waiter.status.span(),
                format!("the status member `{}` is a list", &*waiter.status),
                "step into a list with `[]` and end at one status",
            );
            return None;
        }
        let Some(enum_name) = &owner.members[member].enumeration else {
            self.hint(
                waiter.status.span(),
                format!("the status member `{}` has no enum", &*waiter.status),
                "type the member with an enum, so each value's meaning can be checked",
            );
            return None;
        };
        let enumeration = self
            .spec
            .enums
            .iter()
            .position(|(k, _)| k.as_str() == enum_name.as_str())?;
        let def = &self.spec.enums.0[enumeration].1;
        let mut meaning: Vec<Option<&str>> = vec![None; def.values.len()];
        let mut lists: [Vec<usize>; 3] = Default::default();
        for (list, (label, values)) in lists.iter_mut().zip([
            ("success", &waiter.success),
            ("failure", &waiter.failure),
            ("pending", &waiter.pending),
        ]) {
            for value in values {
                let Some(index) = def.values.iter().position(|v| *v.value == **value) else {
                    let known = def.values.iter().map(|v| v.value.as_str());
                    let hint = suggest(value, known, "list values of the status enum");
                    self.hint(
                        value.span(),
                        format!("`{}` is not a value of enum `{}`", &**value, &**enum_name),
                        hint,
                    );
                    continue;
                };
                match meaning[index] {
                    Some(first) => {
                        let message = format!(
                            "status `{}` is listed under both `{first}` and `{label}`",
                            &**value
                        );
                        self.hint(value.span(), message, "a value has one meaning");
                    }
                    None => meaning[index] = Some(label),
                }
                list.push(index);
            }
        }
        let unclassified: Vec<&str> = def
            .values
            .iter()
            .zip(&meaning)
            .filter(|(_, m)| m.is_none())
            .map(|(v, _)| v.value.as_str())
            .collect();
        if !unclassified.is_empty() {
            self.hint(
                waiter.status.span(),
                format!(
                    "the waiter of `{}` does not say what status {} of enum `{}` means",
                    &**name,
                    unclassified.join(", "),
                    &**enum_name
                ),
                "list every value under `success`, `failure` or `pending`",
            );
        }
        if waiter.success.is_empty() {
            self.hint(
                waiter.status.span(),
                format!("the waiter of `{}` lists no success value", &**name),
                "list the values that mean the job is done under `success`",
            );
        }
        let [success, failure, pending] = lists;
        Some(WaiterFacts {
            steps,
            target,
            member,
            enumeration,
            success,
            failure,
            pending,
        })
    }

    fn member_index(&self, owner: usize, wire: &str) -> Option<usize> {
        let members = &self.spec.types.0[owner].1.members;
        members.iter().position(|m| m.name.as_str() == wire)
    }

    fn is_integer(&self, owner: usize, member: usize) -> bool {
        matches!(
            self.checked.members[owner][member].ty,
            TypeRef::Scalar(Scalar::Int64 | Scalar::Uint64)
        )
    }

    /// The index of response member `wire`, or a diagnostic naming `role`.
    fn output_member(
        &mut self,
        output: usize,
        wire: &Spanned<String>,
        role: &str,
    ) -> Option<usize> {
        let found = self.member_index(output, wire);
        if found.is_none() {
            let owner = &self.spec.types.0[output].1;
            let names = owner.members.iter().map(|m| m.name.as_str());
            let hint = suggest(wire, names, "name a member of the action's response");
            self.hint(
                wire.span(),
                format!("unknown {role} member `{}`", &**wire),
                hint,
            );
        }
        found
    }
}
