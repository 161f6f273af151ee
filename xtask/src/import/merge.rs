//! Merging upstream facts with the overlay into one spec model: upstream facts carry no
//! position, overlay facts carry theirs, so validation of the merged model points at the
//! overlay line to fix; overlay entries that match nothing upstream are errors.

use anyhow::{Result, bail};
use ess_codegen::spec::{
    Action, Diagnostic, Diagnostics, ErrorCodes, Member, NamedMap, Service, Span, Spanned, Spec,
    Status, TypeDef, Usage, did_you_mean,
};

use super::{NO_EXAMPLE, OVERLAY, report, sp};
use crate::api::ApiJson;
use crate::overlay::{MemberPatch, Overlay};
use crate::presence::Presence;
use crate::{privacy, prose, values};

/// Merges upstream facts with the overlay, checking that every overlay entry still matches.
pub(super) fn merge(
    api: &ApiJson,
    service_codes: Vec<String>,
    mut overlay: Overlay,
    upstream: Vec<String>,
    presence: &Presence,
) -> Result<Spec> {
    let mut diags = Vec::new();
    if *overlay.overlay_version != 1 {
        diags.push(
            Diagnostic::at(
                OVERLAY,
                overlay.overlay_version.span(),
                format!("unsupported overlay_version {}", *overlay.overlay_version),
            )
            .with_hint("this importer reads overlay_version 1"),
        );
    }
    let action_names = || api.actions.keys().map(String::as_str);
    let type_names = || api.objects.keys().map(String::as_str);
    for (name, _) in overlay.actions.iter() {
        if !api.actions.contains_key(name.as_str()) {
            diags.push(stale(name, "action", did_you_mean(name, action_names())));
        }
    }
    for (name, patch) in overlay.types.iter() {
        match api.objects.get(name.as_str()) {
            None => diags.push(stale(name, "type", did_you_mean(name, type_names()))),
            Some(object) => {
                for (member, _) in patch.members.iter() {
                    if !object.members.iter().any(|m| m.name == member.as_str()) {
                        let suggestion =
                            did_you_mean(member, object.members.iter().map(|m| m.name.as_str()));
                        diags.push(stale(
                            member,
                            &format!("member of `{}`", &**name),
                            suggestion,
                        ));
                    }
                }
            }
        }
    }
    // A rate limit is a fact of a page: each cites it, and a citation goes with a limit.
    for (name, patch) in overlay.actions.iter() {
        match (&patch.rate_limit, &patch.rate_limit_source) {
            (Some(limit), None) => diags.push(
                Diagnostic::at(
                    OVERLAY,
                    limit.span(),
                    format!("`{}` has a rate_limit without its source", &**name),
                )
                .with_hint("cite the doc page that states it in `rate_limit_source`"),
            ),
            (None, Some(source)) => diags.push(
                Diagnostic::at(
                    OVERLAY,
                    source.span(),
                    format!(
                        "`{}` cites a rate_limit_source but states no rate_limit",
                        &**name
                    ),
                )
                .with_hint("add the `rate_limit` the page states, or remove the citation"),
            ),
            (Some(_), Some(source)) if !is_ess_doc_page(source) => diags.push(
                Diagnostic::at(
                    OVERLAY,
                    source.span(),
                    format!(
                        "`{}` cites `{}`, which is not an ESS doc page",
                        &**name, &**source
                    ),
                )
                .with_hint(
                    "cite https://cloud.tencent.com/document/api/1323/... (ESS); essbasic's \
                     pages (1420) state another service's limits",
                ),
            ),
            _ => {}
        }
    }
    if let Some(default) = &overlay.service.default_rate_limit
        && default.source.trim().is_empty()
    {
        diags.push(
            Diagnostic::at(
                OVERLAY,
                default.source.span(),
                "the default rate limit has no source".to_owned(),
            )
            .with_hint("say which upstream statement the number rests on"),
        );
    }
    let default_rate_limit = overlay
        .service
        .default_rate_limit
        .as_ref()
        .map(|d| d.limit.clone());
    // `retry_safe` in the overlay marks reads (the official title must say so) and writes
    // whose overlay entry cites upstream's statement that a repeat is safe.
    for (name, patch) in overlay.actions.iter() {
        let marked = patch.retry_safe.as_ref().filter(|r| ***r);
        if let (None, Some(source)) = (marked, &patch.retry_safe_source) {
            diags.push(
                Diagnostic::at(
                    OVERLAY,
                    source.span(),
                    format!(
                        "`{}` cites a retry_safe_source but is not marked retry_safe",
                        &**name
                    ),
                )
                .with_hint("add `retry_safe: true`, or remove the citation"),
            );
        }
        let Some(marked) = marked else {
            continue;
        };
        if let Some(up) = api.actions.get(name.as_str())
            && !READ_VERBS.iter().any(|verb| up.name.contains(verb))
            && patch
                .retry_safe_source
                .as_ref()
                .is_none_or(|s| s.trim().is_empty())
        {
            diags.push(
                Diagnostic::at(
                    OVERLAY,
                    marked.span(),
                    format!(
                        "`{}` is marked retry_safe, but its official title `{}` names no read",
                        &**name,
                        up.name.trim()
                    ),
                )
                .with_hint(format!(
                    "retry_safe is for reads (titles with {}); a write is retry-safe only where upstream states that a repeat is safe: cite it in `retry_safe_source`, or remove `retry_safe`",
                    READ_VERBS.join(", ")
                )),
            );
        }
    }
    // Docs that send the reader to a list nobody gives.
    let deferring = |name: &Spanned<String>, doc: Option<&String>, diags: &mut Vec<Diagnostic>| {
        if let Some(phrase) = doc.and_then(|d| prose::defers_elsewhere(d)) {
            diags.push(
                Diagnostic::at(
                    OVERLAY,
                    name.span(),
                    format!("the doc of `{}` defers to a list it does not give (`{phrase}`)", &**name),
                )
                .with_hint("list the values where upstream gives them: in the doc of each member that has them"),
            );
        }
    };
    for (name, entry) in overlay.members.iter() {
        deferring(name, entry.doc.as_ref(), &mut diags);
    }
    for (_, patch) in overlay.types.iter() {
        for (member, entry) in patch.members.iter() {
            deferring(member, entry.doc.as_ref(), &mut diags);
        }
    }
    for code in &overlay.errors.service_additions {
        if service_codes.iter().any(|c| c == code.as_str()) {
            diags.push(
                Diagnostic::at(
                    OVERLAY,
                    code.span(),
                    format!("error code `{}` is now in the upstream list", &**code),
                )
                .with_hint("remove it from `service_additions`"),
            );
        }
    }
    if !diags.is_empty() {
        return Err(report(Diagnostics(diags)));
    }

    let mut actions = Vec::new();
    for (name, up) in &api.actions {
        let patch = take(&mut overlay.actions, name);
        let status = match up.status.as_str() {
            "online" => Status::Online,
            "deprecated" => Status::Deprecated,
            other => bail!("upstream action {name} has unknown status `{other}`"),
        };
        let patch = patch.unwrap_or_else(|| crate::overlay::ActionPatch {
            doc: None,
            endpoint: None,
            rate_limit: None,
            rate_limit_source: None,
            retry_safe: None,
            retry_safe_source: None,
            errors: Vec::new(),
            requirements: Vec::new(),
            pagination: None,
            waiter: None,
        });
        actions.push((
            sp(name.clone()),
            Action {
                title: sp(up.name.trim().to_owned()),
                doc: patch.doc,
                input: sp(up.input.clone()),
                output: sp(up.output.clone()),
                status: sp(status),
                endpoint: patch.endpoint,
                rate_limit: patch.rate_limit.or_else(|| default_rate_limit.clone()),
                // A read, or a write with a cited upstream statement (checked above). A
                // ClientToken proves nothing: upstream says the service no longer reads it.
                retry_safe: patch.retry_safe.is_some_and(|r| *r),
                errors: patch.errors,
                requirements: patch.requirements,
                pagination: patch.pagination,
                waiter: patch.waiter,
            },
        ));
    }

    let mut shared_used = vec![false; overlay.members.len()];
    let mut unclassified = Vec::new();
    // Members whose upstream doc lists values, with neither an enum nor a review.
    let mut untyped: Vec<String> = Vec::new();
    let mut types = Vec::new();
    for (name, object) in &api.objects {
        let type_span = overlay
            .types
            .iter()
            .find(|(k, _)| k.as_str() == name)
            .map(|(k, _)| *k.span());
        let mut patch = take(&mut overlay.types, name);
        let usage = match object.usage.as_deref() {
            None => None,
            Some("in") => Some(Usage::In),
            Some("out") => Some(Usage::Out),
            Some("both") => Some(Usage::Both),
            Some(other) => bail!("upstream type {name} has unknown usage `{other}`"),
        };
        let mut members = Vec::with_capacity(object.members.len());
        for m in &object.members {
            let p = patch
                .as_mut()
                .and_then(|p| take(&mut p.members, &m.name))
                .unwrap_or_default();
            let MemberPatch {
                doc,
                sensitive,
                deprecated,
                length,
                range,
                enumeration,
                default,
                keep_wire_type,
                always_present,
                content,
            } = p;
            // Upstream sometimes puts a note where the example belongs ("no longer used"):
            // an "example" that repeats the member's description is prose, not a value.
            let ty = m.spec_type(name)?;
            let shared = overlay
                .members
                .iter()
                .position(|(k, v)| k.as_str() == m.name && v.ty.as_str() == ty);
            if let Some(i) = shared {
                shared_used[i] = true;
            }
            let shared = shared.map(|i| &overlay.members.0[i].1);
            let doc = doc.or_else(|| shared.and_then(|s| s.doc.clone()));
            let sensitive = sensitive.or_else(|| shared.and_then(|s| s.sensitive.clone()));
            if sensitive.is_none() && privacy::needs_classification(&m.name, &ty) {
                unclassified.push(unclassified_member(
                    &upstream[0],
                    type_span.as_ref(),
                    name,
                    &m.name,
                ));
            }
            let doc_text = prose::plain_text(&m.document);
            // A review that says "not personal" must not contradict upstream's own words.
            if let Some(reviewed) = sensitive.as_ref().filter(|s| !***s)
                && let Some(what) = privacy::doc_says_personal(&doc_text, &ty)
            {
                unclassified.push(
                    Diagnostic::at(
                        OVERLAY,
                        reviewed.span(),
                        format!(
                            "`{name}.{}` is marked `sensitive: false`, but upstream documents it as holding {what}",
                            m.name
                        ),
                    )
                    .with_hint("mark it `sensitive: true` (in the type's own entry when a shared entry says false)"),
                );
            }
            let sensitive = sensitive.map(|s| *s);
            let enumeration = enumeration.or_else(|| shared.and_then(|s| s.enumeration.clone()));
            let keep_wire_type =
                keep_wire_type.or_else(|| shared.and_then(|s| s.keep_wire_type.clone()));
            let listed = values::enumerable(&ty)
                .then(|| values::listed(&m.document))
                .flatten();
            let mut listed_values = Vec::new();
            match (listed, &enumeration) {
                (Some(listed), Some(e)) => {
                    let known: Vec<&str> = overlay
                        .enums
                        .iter()
                        .find(|(n, _)| n.as_str() == e.as_str())
                        .map(|(_, d)| d.values.iter().map(|v| v.value.as_str()).collect())
                        .unwrap_or_default();
                    let missing: Vec<&str> = listed
                        .iter()
                        .map(String::as_str)
                        .filter(|v| !known.is_empty() && !known.contains(v))
                        .collect();
                    // A shared enum wider than what this member takes: the member's doc
                    // lists its own values.
                    if known.len() > listed.len() {
                        listed_values = listed.clone();
                    }
                    if !missing.is_empty() {
                        unclassified.push(
                            Diagnostic::at(
                                OVERLAY,
                                e.span(),
                                format!(
                                    "upstream lists {} for `{name}.{}`, which enum `{}` lacks",
                                    quoted(&missing),
                                    m.name,
                                    e.as_str()
                                ),
                            )
                            .with_hint("add the values to the enum (with names and docs), or give the member an enum of its own"),
                        );
                    }
                }
                (Some(listed), None) => {
                    if keep_wire_type.is_none() {
                        untyped.push(format!("{name}.{}", m.name));
                    }
                    listed_values = listed;
                }
                (None, _) => {
                    if let Some(keep) = &keep_wire_type {
                        unclassified.push(
                            Diagnostic::at(
                                OVERLAY,
                                keep.span(),
                                format!("`{name}.{}` keeps its wire type, but upstream lists no values for it", m.name),
                            )
                            .with_hint("remove `keep_wire_type`: there is nothing to review"),
                        );
                    }
                }
            }
            let always_present = match always_present.filter(|a| **a) {
                None => false,
                Some(confirmed) => match presence.confirm(name, &m.name, m.output_required) {
                    Ok(()) => true,
                    Err(why) => {
                        unclassified.push(
                            Diagnostic::at(
                                OVERLAY,
                                confirmed.span(),
                                format!(
                                    "`{name}.{}` cannot be confirmed always present: {why}",
                                    m.name
                                ),
                            )
                            .with_hint(
                                "remove `always_present`: callers then read it as an `Option`",
                            ),
                        );
                        false
                    }
                },
            };
            let example = m
                .example
                .as_deref()
                .map(str::trim)
                .filter(|e| !NO_EXAMPLE.contains(e) && *e != doc_text.trim_end_matches('。'))
                .map(str::to_owned);
            members.push(Member {
                name: sp(m.name.clone()),
                ty: sp(ty),
                required: m.required.unwrap_or(false),
                output_required: m.output_required.unwrap_or(false),
                always_present,
                content,
                nullable: m.value_allowed_null.unwrap_or(false),
                doc,
                example,
                disabled: m.disabled.unwrap_or(false),
                unused: prose::says_unused(&doc_text),
                deprecated,
                sensitive,
                length,
                range,
                enumeration,
                default,
                listed_values,
                keep_wire_type: keep_wire_type.map(|k| k.trim().to_owned()),
            });
        }
        let (doc, rust_name) = patch.map_or((None, None), |p| (p.doc, p.rust_name));
        types.push((
            sp(name.clone()),
            TypeDef {
                usage,
                rust_name,
                doc,
                members,
            },
        ));
    }

    for ((name, entry), used) in overlay.members.iter().zip(shared_used) {
        if !used {
            unclassified.push(
                Diagnostic::at(
                    OVERLAY,
                    name.span(),
                    format!(
                        "shared member `{}` of type `{}` matches no upstream member",
                        &**name,
                        entry.ty.as_str()
                    ),
                )
                .with_hint(
                    "upstream renamed or retyped it: remove the entry or fix its name or `type`",
                ),
            );
        }
    }
    if !unclassified.is_empty() {
        return Err(report(Diagnostics(unclassified)));
    }
    if !untyped.is_empty() {
        eprintln!(
            "note: {} members list values upstream but have no enum and no review (`cargo xtask coverage --list` names them)",
            untyped.len()
        );
    }

    // Callback data types are written whole in the overlay; their names must not shadow
    // upstream's.
    let mut collisions = Vec::new();
    for (name, mut def) in std::mem::take(&mut overlay.callbacks.types.0) {
        if api.objects.contains_key(name.as_str()) {
            collisions.push(
                Diagnostic::at(
                    OVERLAY,
                    name.span(),
                    format!(
                        "callback type `{}` has the name of an upstream type",
                        &*name
                    ),
                )
                .with_hint(
                    "callback types are their own: give it another name (`...Data`, `Callback...`)",
                ),
            );
            continue;
        }
        def.usage = Some(Usage::Callback);
        types.push((name, def));
    }
    if !collisions.is_empty() {
        return Err(report(Diagnostics(collisions)));
    }
    types.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let mixed = mixed_sensitivity(&types, &overlay.members);
    if !mixed.is_empty() {
        return Err(report(Diagnostics(mixed)));
    }
    let mut callbacks = std::mem::take(&mut overlay.callbacks.events.0);
    callbacks.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let mut enums = std::mem::take(&mut overlay.enums.0);
    enums.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    Ok(Spec {
        spec_version: sp(ess_codegen::spec::SPEC_VERSION),
        upstream: upstream.into_iter().map(sp).collect(),
        service: Service {
            name: sp(api.metadata.service_short_name.clone()),
            title: Some(api.metadata.service_name_cn.clone()),
            api_version: sp(api.metadata.api_version.clone()),
            signing_service: overlay.service.signing_service,
            endpoints: overlay.service.endpoints,
        },
        errors: ErrorCodes {
            common: overlay.errors.common,
            service: service_codes
                .into_iter()
                .map(sp)
                .chain(overlay.errors.service_additions)
                .collect(),
        },
        enums: NamedMap(enums),
        actions: NamedMap(actions),
        types: NamedMap(types),
        callbacks: NamedMap(callbacks),
    })
}

/// Members of one name and type that are sensitive in some types and not in others, where
/// the shared `members:` entry gives no reason (`sensitivity_varies`): one diagnostic per
/// name, listing both sides. A member means the same wherever it sits unless the overlay
/// says otherwise, so it is redacted everywhere or nowhere.
fn mixed_sensitivity(
    types: &[(Spanned<String>, TypeDef)],
    shared: &ess_codegen::spec::NamedMap<crate::overlay::SharedMemberPatch>,
) -> Vec<Diagnostic> {
    use std::collections::BTreeMap;
    /// The types where a member is sensitive, and those where it is not.
    #[derive(Default)]
    struct Sides<'a> {
        sensitive: Vec<&'a str>,
        plain: Vec<&'a str>,
    }
    let mut by_member: BTreeMap<(&str, &str), Sides<'_>> = BTreeMap::new();
    for (ty, def) in types {
        for m in &def.members {
            let sides = by_member
                .entry((m.name.as_str(), m.ty.as_str()))
                .or_default();
            if m.is_sensitive() {
                sides.sensitive.push(ty.as_str());
            } else {
                sides.plain.push(ty.as_str());
            }
        }
    }
    let mut diagnostics = Vec::new();
    for ((name, ty), Sides { sensitive, plain }) in by_member {
        if sensitive.is_empty() || plain.is_empty() {
            continue;
        }
        let entry = shared
            .iter()
            .find(|(k, v)| k.as_str() == name && v.ty.as_str() == ty);
        if entry.is_some_and(|(_, v)| v.sensitivity_varies.is_some()) {
            continue;
        }
        let message = format!(
            "`{name}` ({ty}) is sensitive in {} but not in {}",
            sensitive.join(", "),
            plain.join(", ")
        );
        let diagnostic = match entry {
            Some((k, _)) => Diagnostic::at(OVERLAY, k.span(), message),
            None => Diagnostic::new(OVERLAY, 0, 0, message),
        };
        diagnostics.push(diagnostic.with_hint(format!(
            "sensitivity follows meaning: under `members: {name}:` (type {ty}) set `sensitive: true` (or false) for every type, or, where the name means different things in different types, say why in `sensitivity_varies:`"
        )));
    }
    diagnostics
}

/// A member whose name looks personal and that neither its type's overlay entry nor a shared
/// entry classifies: reported at the type's overlay entry, or upstream when it has none.
fn unclassified_member(
    upstream_api: &str,
    type_span: Option<&Span>,
    ty: &str,
    member: &str,
) -> Diagnostic {
    let message = format!(
        "member `{member}` of `{ty}` looks like personal data or a secret, and nobody has classified it"
    );
    let diagnostic = match type_span {
        Some(span) => Diagnostic::at(OVERLAY, span, message),
        None => Diagnostic::new(
            &format!("upstream api.json ({upstream_api})"),
            0,
            0,
            message,
        ),
    };
    diagnostic.with_hint(format!(
        "in {OVERLAY}, under `types: {ty}: members: {member}:` (or a shared `members:` entry), add `sensitive: true` if it holds personal data or a secret, or `sensitive: false` once reviewed"
    ))
}

/// Words of the official titles that name a read: query, get, view, poll, verify a
/// signature, verify.
const READ_VERBS: [&str; 6] = ["查询", "获取", "查看", "轮询", "验签", "验证"];

fn stale(name: &Spanned<String>, what: &str, suggestion: Option<&str>) -> Diagnostic {
    let hint = match suggestion {
        Some(s) => format!("did you mean `{s}`? Upstream may have renamed it."),
        None => "upstream no longer has it: remove the entry or move its facts to the new name"
            .to_owned(),
    };
    Diagnostic::at(
        OVERLAY,
        name.span(),
        format!("overlay {what} `{}` matches nothing upstream", &**name),
    )
    .with_hint(hint)
}

/// Removes and returns the entry named `name`.
fn take<T>(map: &mut NamedMap<T>, name: &str) -> Option<T> {
    let index = map.0.iter().position(|(k, _)| k.as_str() == name)?;
    Some(map.0.remove(index).1)
}

/// `` `a`, `b` `` for a diagnostic.
fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a rate limit's citation names a page of ESS's own docs (product 1323 on Tencent
/// Cloud, or the developer site of 腾讯电子签), the only pages whose limits are ESS's.
fn is_ess_doc_page(source: &str) -> bool {
    let url = source.split_whitespace().next().unwrap_or_default();
    ["api", "product"].iter().any(|kind| {
        url.strip_prefix(&format!("https://cloud.tencent.com/document/{kind}/1323/"))
            .is_some_and(|page| !page.is_empty() && page.bytes().all(|b| b.is_ascii_digit()))
    }) || url.starts_with("https://qian.tencent.com/developers/")
}
