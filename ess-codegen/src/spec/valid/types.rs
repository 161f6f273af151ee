//! Enums, structures and their members: types, bounds, defaults, and recursion.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use marked_yaml::Spanned;

use super::{Validator, line_of};
use crate::names;
use crate::spec::checked::{EnumFacts, MemberFacts, Value};
use crate::spec::diagnostic::suggest;
use crate::spec::model::{EnumDef, Member, TypeDef};
use crate::spec::typeref::{Scalar, TypeRef};

impl<'a> Validator<'a> {
    pub(super) fn check_enum(&mut self, name: &Spanned<String>, def: &EnumDef) -> EnumFacts {
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
        let mut variants = Vec::with_capacity(def.values.len());
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
            variants.push(rust.clone());
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
            variants,
        }
    }

    /// Checks a structure; returns the facts of each of its members, in order.
    pub(super) fn check_type(&mut self, name: &Spanned<String>, def: &TypeDef) -> Vec<MemberFacts> {
        // Small maps, one per type: a B-tree compares a few names where a hash map would hash
        // every one.
        let mut wire: BTreeMap<&str, &Spanned<String>> = BTreeMap::new();
        let mut rust: BTreeMap<String, &Spanned<String>> = BTreeMap::new();
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
                rust.insert(snake.clone(), mname);
            }
            facts.push(self.check_member(name, member, snake));
        }
        facts
    }

    /// Checks a member; `field` is its snake_case name, which the facts keep.
    pub(super) fn check_member(
        &mut self,
        owner: &Spanned<String>,
        member: &Member,
        field: String,
    ) -> MemberFacts {
        let what = MemberName(owner, &member.name);
        let ty = match TypeRef::parse(&member.ty) {
            Ok(ty) => ty,
            Err(e) => {
                self.hint(
                    member.ty.span(),
                    format!("bad type for {what}: {e}"),
                    "types are string, int64, uint64, float, bool, a type name, or list<T>",
                );
                return MemberFacts {
                    field,
                    ..MemberFacts::UNCHECKED
                };
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
        if member.content && !matches!(ty, TypeRef::Scalar(Scalar::String)) {
            self.hint(
                member.name.span(),
                format!("{what} is marked `content` but its type is `{ty}`"),
                "`content` marks a string holding a file's content",
            );
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
                    // Integers are one kind on the wire: an integer enum may type an `int64`
                    // or a `uint64` member (upstream types the same concept either way), as
                    // long as every value fits the member.
                    let integer =
                        |s: Option<Scalar>| matches!(s, Some(Scalar::Int64 | Scalar::Uint64));
                    let fits = scalar == enum_scalar
                        || (integer(scalar)
                            && integer(enum_scalar)
                            && (scalar != Some(Scalar::Uint64)
                                || def.values.iter().all(|v| !v.value.starts_with('-'))));
                    if scalar.is_none() || enum_scalar.is_some() && !fits {
                        self.hint(
                            enum_name.span(),
                            format!(
                                "{what} has type `{ty}` but enum `{}` holds {}",
                                &**enum_name, &*def.ty
                            ),
                            if integer(scalar) && integer(enum_scalar) {
                                "an integer enum types a uint64 member only when no value is negative"
                            } else {
                                "an enum's type must match the member's (item) type (integer enums type int64 and uint64 alike)"
                            },
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
            field,
            range: member.range.as_ref().map(|_| bounds),
        }
    }

    pub(super) fn bound(
        &mut self,
        what: &MemberName<'_>,
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
    pub(super) fn check_recursion(&mut self) {
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

/// A member as messages name it (`` `Owner.Member` ``); formatted only when a message is made,
/// which for a valid spec is never.
pub(super) struct MemberName<'a>(&'a str, &'a str);

impl std::fmt::Display for MemberName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}.{}`", self.0, self.1)
    }
}
