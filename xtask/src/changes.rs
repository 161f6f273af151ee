//! What an import changes for users of ess-generated: the difference between the committed spec
//! and the new one, the semver impact of each change, an overall verdict, and the changes that
//! need a human decision (personal data, missing docs). Printed by `cargo xtask import` and
//! written where a maintainer can paste it into a changelog or pull request.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use ess_codegen::spec::{Member, NamedMap, Spec, Status, TypeDef};

use crate::privacy;

/// How a change affects the generated crate's semver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Impact {
    /// Docs, limits or behaviour only; no API change.
    Patch,
    /// Additive: existing code keeps compiling (non-exhaustive structs and enums).
    Minor,
    /// Existing code may stop compiling: something removed, retyped or newly required.
    Major,
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Impact::Patch => "patch",
            Impact::Minor => "minor",
            Impact::Major => "major",
        })
    }
}

/// One change, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) impact: Impact,
    pub(crate) text: String,
}

/// Everything that changed, by section, and what needs a human decision.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Upstream sources before and after.
    pub(crate) upstream: (Vec<String>, Vec<String>),
    pub(crate) actions: Vec<Change>,
    pub(crate) types: Vec<Change>,
    pub(crate) enums: Vec<Change>,
    pub(crate) errors: Vec<Change>,
    /// Changes a person must look at before releasing.
    pub(crate) review: Vec<String>,
}

impl Report {
    /// Whether nothing changed.
    pub(crate) fn is_empty(&self) -> bool {
        self.actions.is_empty()
            && self.types.is_empty()
            && self.enums.is_empty()
            && self.errors.is_empty()
            && self.review.is_empty()
    }

    /// The largest impact of any change.
    pub(crate) fn verdict(&self) -> Impact {
        [&self.actions, &self.types, &self.enums, &self.errors]
            .into_iter()
            .flatten()
            .map(|c| c.impact)
            .max()
            .unwrap_or(Impact::Patch)
    }

    /// The report as Markdown.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::from("# Spec changes\n\n");
        let (old, new) = &self.upstream;
        if old != new {
            let _ = writeln!(out, "Upstream: {} -> {}\n", old.join(", "), new.join(", "));
        }
        if self.is_empty() {
            out.push_str("No changes.\n");
            return out;
        }
        let _ = writeln!(
            out,
            "Semver impact on ess-generated: **{}** ({} major, {} minor, {} patch).\n",
            self.verdict(),
            self.count(Impact::Major),
            self.count(Impact::Minor),
            self.count(Impact::Patch)
        );
        for (title, changes) in [
            ("Actions", &self.actions),
            ("Types and members", &self.types),
            ("Enumerations", &self.enums),
            ("Error codes", &self.errors),
        ] {
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "## {title}\n");
            for c in changes {
                let _ = writeln!(out, "- {}: {}", c.impact, c.text);
            }
            out.push('\n');
        }
        if !self.review.is_empty() {
            out.push_str("## Needs a human decision\n\n");
            for r in &self.review {
                let _ = writeln!(out, "- {r}");
            }
            out.push('\n');
        }
        out
    }

    fn count(&self, impact: Impact) -> usize {
        [&self.actions, &self.types, &self.enums, &self.errors]
            .into_iter()
            .flatten()
            .filter(|c| c.impact == impact)
            .count()
    }
}

fn change(impact: Impact, text: impl Into<String>) -> Change {
    Change {
        impact,
        text: text.into(),
    }
}

fn by_name<T>(map: &NamedMap<T>) -> BTreeMap<&str, &T> {
    map.iter().map(|(k, v)| (k.as_str(), v)).collect()
}

/// Compares the committed spec with the new one.
pub(crate) fn diff(old: &Spec, new: &Spec) -> Report {
    let strings = |v: &[ess_codegen::spec::Spanned<String>]| -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    };
    let mut report = Report {
        upstream: (strings(&old.upstream), strings(&new.upstream)),
        ..Report::default()
    };
    diff_actions(old, new, &mut report);
    diff_types(old, new, &mut report);
    diff_enums(old, new, &mut report);
    diff_errors(old, new, &mut report);
    report
}

fn diff_actions(old: &Spec, new: &Spec, report: &mut Report) {
    let (before, after) = (by_name(&old.actions), by_name(&new.actions));
    for (name, action) in &after {
        let Some(was) = before.get(name) else {
            report.actions.push(change(
                Impact::Minor,
                format!("new action `{name}` ({})", action.title.as_str()),
            ));
            if action.doc.is_none() {
                report.review.push(format!(
                    "new action `{name}` has no doc in spec/overlay.yaml"
                ));
            }
            continue;
        };
        if was.title.as_str() != action.title.as_str() {
            report.actions.push(change(
                Impact::Patch,
                format!(
                    "`{name}` retitled: {} -> {}",
                    was.title.as_str(),
                    action.title.as_str()
                ),
            ));
        }
        if *was.status != *action.status && *action.status == Status::Deprecated {
            report
                .actions
                .push(change(Impact::Minor, format!("`{name}` is deprecated")));
        }
        if was.retry_safe != action.retry_safe {
            report.actions.push(change(
                Impact::Patch,
                format!(
                    "`{name}` is {} retried after failures that may have executed",
                    if action.retry_safe {
                        "now"
                    } else {
                        "no longer"
                    }
                ),
            ));
        }
        // A rate limit paces calls (client and emulator) but changes no signature.
        let limit = |a: &ess_codegen::spec::Action| a.rate_limit.as_ref().map(|l| **l);
        if limit(was) != limit(action) {
            let show = |l: Option<u32>| l.map_or("none".to_owned(), |l| format!("{l}/s"));
            report.actions.push(change(
                Impact::Patch,
                format!(
                    "`{name}`'s rate limit: {} -> {}",
                    show(limit(was)),
                    show(limit(action))
                ),
            ));
        }
        // Paging and waiting: a new method is minor; one removed, or a changed meaning of
        // Offset or of a status value, changes what callers' loops do.
        let paging = |a: &ess_codegen::spec::Action| {
            a.pagination.as_ref().map(|p| {
                let total = p.total.as_ref().map_or("no total", |t| t.as_str());
                format!(
                    "{:?} offset, items {}, {total}",
                    *p.offset,
                    p.items.as_str()
                )
            })
        };
        let waiter = |a: &ess_codegen::spec::Action| {
            a.waiter.as_ref().map(|w| {
                let list = |l: &[ess_codegen::spec::Spanned<String>]| {
                    l.iter().map(|v| v.as_str()).collect::<Vec<_>>().join("|")
                };
                format!(
                    "wait_for_{} on {}: success {}, failure {}, pending {}",
                    w.name.as_str(),
                    w.status.as_str(),
                    list(&w.success),
                    list(&w.failure),
                    list(&w.pending)
                )
            })
        };
        for (what, was, now) in [
            ("paging", paging(was), paging(action)),
            ("waiter", waiter(was), waiter(action)),
        ] {
            let (impact, text) = match (was, now) {
                (None, Some(now)) => (Impact::Minor, format!("`{name}` gains a {what}: {now}")),
                (Some(was), None) => (Impact::Major, format!("`{name}` loses its {what} ({was})")),
                (Some(was), Some(now)) if was != now => (
                    Impact::Major,
                    format!("`{name}`'s {what} changes: {was} -> {now}"),
                ),
                _ => continue,
            };
            report.actions.push(change(impact, text));
        }
        let requirements = |a: &ess_codegen::spec::Action| -> BTreeSet<String> {
            a.requirements
                .iter()
                .map(|r| {
                    let when = r.when.as_ref().map_or(String::new(), |w| {
                        let values: Vec<String> = w.values.iter().map(|v| v.to_string()).collect();
                        format!(" when {} in {}", w.member.as_str(), values.join("|"))
                    });
                    let mut members: Vec<String> =
                        r.members.iter().map(|m| m.to_string()).collect();
                    for group in &r.any_of {
                        let group: Vec<String> = group.iter().map(|m| m.to_string()).collect();
                        members.push(format!("({})", group.join(" and ")));
                    }
                    let sep = if r.any_of.is_empty() { ", " } else { " or " };
                    format!("{}: {}{when}", r.path.as_str(), members.join(sep))
                })
                .collect()
        };
        let (was_required, required) = (requirements(was), requirements(action));
        for added in required.difference(&was_required) {
            // Validated before sending: a new requirement refuses requests it used to send.
            report.actions.push(change(
                Impact::Major,
                format!("`{name}` now requires {added}"),
            ));
        }
        for removed in was_required.difference(&required) {
            report.actions.push(change(
                Impact::Minor,
                format!("`{name}` no longer requires {removed}"),
            ));
        }
        let codes = |a: &ess_codegen::spec::Action| -> BTreeSet<String> {
            a.errors.iter().map(|e| e.to_string()).collect()
        };
        let (was_codes, codes) = (codes(was), codes(action));
        let added: Vec<&String> = codes.difference(&was_codes).collect();
        let removed: Vec<&String> = was_codes.difference(&codes).collect();
        if !added.is_empty() || !removed.is_empty() {
            report.actions.push(change(
                Impact::Patch,
                format!(
                    "`{name}` may return {} more and {} fewer error codes{}",
                    added.len(),
                    removed.len(),
                    listed(" (new: ", &added, ")")
                ),
            ));
        }
    }
    for name in before.keys().filter(|n| !after.contains_key(*n)) {
        report
            .actions
            .push(change(Impact::Major, format!("action `{name}` removed")));
    }
}

fn listed(prefix: &str, items: &[&String], suffix: &str) -> String {
    if items.is_empty() {
        return String::new();
    }
    let names: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    format!("{prefix}{}{suffix}", names.join(", "))
}

fn diff_types(old: &Spec, new: &Spec, report: &mut Report) {
    let (before, after) = (by_name(&old.types), by_name(&new.types));
    let inputs = new.input_types();
    for (name, def) in &after {
        let Some(was) = before.get(name) else {
            report
                .types
                .push(change(Impact::Minor, format!("new type `{name}`")));
            for m in &def.members {
                review_member(name, def, m, report);
            }
            continue;
        };
        diff_members(name, was, def, inputs.contains(name), report);
    }
    for name in before.keys().filter(|n| !after.contains_key(*n)) {
        report
            .types
            .push(change(Impact::Major, format!("type `{name}` removed")));
    }
}

fn diff_members(ty: &str, was: &TypeDef, def: &TypeDef, input: bool, report: &mut Report) {
    let before: BTreeMap<&str, &Member> =
        was.members.iter().map(|m| (m.name.as_str(), m)).collect();
    for m in &def.members {
        let name = m.name.as_str();
        let Some(old) = before.get(name) else {
            let (impact, how) = if m.required && input {
                (Impact::Major, "required")
            } else if m.required {
                (Impact::Minor, "always sent by the service")
            } else {
                (Impact::Minor, "optional")
            };
            report.types.push(change(
                impact,
                format!("`{ty}.{name}` added ({how}, `{}`)", m.ty.as_str()),
            ));
            review_member(ty, was, m, report);
            continue;
        };
        if old.ty.as_str() != m.ty.as_str() || old.enumeration != m.enumeration {
            let shape = |m: &Member| match &m.enumeration {
                Some(e) => format!("{} ({})", m.ty.as_str(), e.as_str()),
                None => m.ty.as_str().to_owned(),
            };
            report.types.push(change(
                Impact::Major,
                format!("`{ty}.{name}` retyped: `{}` -> `{}`", shape(old), shape(m)),
            ));
        }
        if old.required != m.required {
            report.types.push(change(
                Impact::Major,
                format!(
                    "`{ty}.{name}` is now {}",
                    if m.required { "required" } else { "optional" }
                ),
            ));
        }
        if old.is_sensitive() != m.is_sensitive() {
            report.types.push(change(
                Impact::Patch,
                format!(
                    "`{ty}.{name}` is {} redacted in Debug output",
                    if m.is_sensitive() { "now" } else { "no longer" }
                ),
            ));
        }
        if !old.deprecated && m.deprecated {
            report.types.push(change(
                Impact::Minor,
                format!("`{ty}.{name}` is deprecated"),
            ));
        }
        if !old.unused && m.unused {
            report.types.push(change(
                Impact::Minor,
                if input {
                    format!(
                        "`{ty}.{name}` is no longer read by the service (its setter is deprecated)"
                    )
                } else {
                    format!("`{ty}.{name}` is no longer used by the service")
                },
            ));
        }
        let bounds = |m: &Member| {
            (
                m.length.as_deref().map(|l| (l.exact, l.min, l.max)),
                m.range.as_deref().map(|r| {
                    let text =
                        |b: &Option<ess_codegen::spec::Spanned<String>>| b.as_deref().cloned();
                    (text(&r.min), text(&r.max))
                }),
            )
        };
        if bounds(old) != bounds(m) {
            // Validation runs before sending: a new or tighter bound refuses requests it
            // used to send.
            let impact = if input { Impact::Major } else { Impact::Patch };
            report.types.push(change(
                impact,
                format!("`{ty}.{name}` has new length or range bounds"),
            ));
        }
    }
    let names: BTreeSet<&str> = def.members.iter().map(|m| m.name.as_str()).collect();
    for name in before.keys().filter(|n| !names.contains(*n)) {
        report
            .types
            .push(change(Impact::Major, format!("`{ty}.{name}` removed")));
    }
}

/// Flags a new member that may carry personal data.
fn review_member(ty: &str, siblings: &TypeDef, m: &Member, report: &mut Report) {
    let name = m.name.as_str();
    if privacy::looks_personal(name) {
        report.review.push(format!(
            "`{ty}.{name}` looks like personal data: check that `sensitive` is right"
        ));
    } else if siblings.members.iter().any(|s| s.is_sensitive()) && !m.is_sensitive() {
        report.review.push(format!(
            "`{ty}.{name}` is new in a type with sensitive members: should it be sensitive too?"
        ));
    }
}

fn diff_enums(old: &Spec, new: &Spec, report: &mut Report) {
    let (before, after) = (by_name(&old.enums), by_name(&new.enums));
    for (name, def) in &after {
        let values = |d: &ess_codegen::spec::EnumDef| -> BTreeSet<String> {
            d.values.iter().map(|v| v.value.to_string()).collect()
        };
        let Some(was) = before.get(name) else {
            report
                .enums
                .push(change(Impact::Minor, format!("new enum `{name}`")));
            continue;
        };
        added_and_removed(&mut report.enums, &values(was), &values(def), |v, how| {
            format!("`{name}` value `{v}` {how}")
        });
    }
    for name in before.keys().filter(|n| !after.contains_key(*n)) {
        report
            .enums
            .push(change(Impact::Major, format!("enum `{name}` removed")));
    }
}

fn diff_errors(old: &Spec, new: &Spec, report: &mut Report) {
    let codes = |s: &Spec| -> BTreeSet<String> {
        s.errors
            .common
            .iter()
            .chain(&s.errors.service)
            .map(|c| c.to_string())
            .collect()
    };
    added_and_removed(&mut report.errors, &codes(old), &codes(new), |c, how| {
        format!("error code `{c}` {how}")
    });
}

/// Values added to a set (minor: enums and `ErrorCode` are non-exhaustive) and removed from
/// it (major: a variant disappears).
fn added_and_removed(
    out: &mut Vec<Change>,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
    text: impl Fn(&str, &str) -> String,
) {
    for v in after.difference(before) {
        out.push(change(Impact::Minor, text(v, "added")));
    }
    for v in before.difference(after) {
        out.push(change(Impact::Major, text(v, "removed")));
    }
}
