//! Writes a [`Spec`] as the YAML text of spec/ess.yaml.

use ess_codegen::spec::{
    Action, CallbackDef, EnumDef, Length, Member, NamedMap, OffsetKind, Pagination, Range,
    Requirement, Spanned, Spec, Status, TypeDef, Usage, Waiter,
};

use crate::yaml::{MapBuilder, Node, document};

/// The text of spec/ess.yaml for `spec`, after `header` comment lines.
pub(crate) fn spec_text(spec: &Spec, header: &[String]) -> String {
    let service = &spec.service;
    let endpoints = named(&service.endpoints, |e| {
        MapBuilder::new()
            .str("production", e.production.as_str())
            .str("test", e.test.as_str())
            .build()
    });
    let root = MapBuilder::new()
        .node("spec_version", raw(*spec.spec_version))
        .node("upstream", strings(&spec.upstream))
        .node(
            "service",
            MapBuilder::new()
                .str("name", service.name.as_str())
                .opt_str("title", service.title.clone())
                .str("api_version", service.api_version.as_str())
                .str("signing_service", service.signing_service.as_str())
                .node("endpoints", endpoints)
                .build(),
        )
        .node(
            "errors",
            MapBuilder::new()
                .node("common", strings(&spec.errors.common))
                .node("service", strings(&spec.errors.service))
                .build(),
        )
        .node("enums", named(&spec.enums, enum_def))
        .node("actions", named(&spec.actions, action))
        .node("types", named(&spec.types, type_def))
        .opt_node(
            "callbacks",
            (!spec.callbacks.is_empty()).then(|| named(&spec.callbacks, callback)),
        )
        .build();
    document(header, &root)
}

fn named<T>(map: &NamedMap<T>, f: impl Fn(&T) -> Node) -> Node {
    Node::Map(map.iter().map(|(k, v)| (k.to_string(), f(v))).collect())
}

fn raw(value: impl ToString) -> Node {
    Node::Raw(value.to_string())
}

fn strings(list: &[Spanned<String>]) -> Node {
    Node::Seq(list.iter().map(|s| Node::Str(s.to_string())).collect())
}

fn flow_strings(list: &[Spanned<String>]) -> Node {
    Node::FlowSeq(list.iter().map(|s| Node::Str(s.to_string())).collect())
}

fn enum_def(def: &EnumDef) -> Node {
    let values = def
        .values
        .iter()
        .map(|v| {
            MapBuilder::new()
                .str("value", v.value.as_str())
                .str("name", v.name.as_str())
                .opt_str("doc", v.doc.clone())
                .build()
        })
        .collect();
    MapBuilder::new()
        .str("type", def.ty.as_str())
        .opt_str("doc", def.doc.clone())
        .node("values", Node::Seq(values))
        .build()
}

fn action(action: &Action) -> Node {
    let status = match *action.status {
        Status::Online => "online",
        Status::Deprecated => "deprecated",
    };
    MapBuilder::new()
        .str("title", action.title.as_str())
        .opt_str("doc", action.doc.clone())
        .str("input", action.input.as_str())
        .str("output", action.output.as_str())
        .str("status", status)
        .opt_str("endpoint", action.endpoint.as_ref().map(|e| e.to_string()))
        .opt_node("rate_limit", action.rate_limit.as_ref().map(|r| raw(**r)))
        .flag("retry_safe", action.retry_safe)
        .opt_node(
            "errors",
            (!action.errors.is_empty()).then(|| strings(&action.errors)),
        )
        .opt_node(
            "requirements",
            (!action.requirements.is_empty())
                .then(|| Node::Seq(action.requirements.iter().map(requirement).collect())),
        )
        .opt_node("pagination", action.pagination.as_ref().map(pagination))
        .opt_node("waiter", action.waiter.as_ref().map(waiter))
        .build()
}

fn pagination(p: &Pagination) -> Node {
    let offset = match *p.offset {
        OffsetKind::Page => "page",
        OffsetKind::Item => "item",
    };
    MapBuilder::new()
        .str("offset", offset)
        .str("items", p.items.as_str())
        .opt_str("total", p.total.as_ref().map(|t| t.to_string()))
        .build_flow()
}

fn waiter(w: &Waiter) -> Node {
    let values = |list: &[Spanned<String>]| (!list.is_empty()).then(|| flow_strings(list));
    MapBuilder::new()
        .str("name", w.name.as_str())
        .opt_node(
            "started_by",
            (!w.started_by.is_empty()).then(|| flow_strings(&w.started_by)),
        )
        .str("status", w.status.as_str())
        .node("success", flow_strings(&w.success))
        .opt_node("failure", values(&w.failure))
        .opt_node("pending", values(&w.pending))
        .build()
}

fn callback(def: &CallbackDef) -> Node {
    MapBuilder::new()
        .opt_str("doc", def.doc.clone())
        .opt_str("data", def.data.as_ref().map(|d| d.to_string()))
        .flag("deprecated", def.deprecated)
        .build()
}

fn requirement(req: &Requirement) -> Node {
    MapBuilder::new()
        .str("path", req.path.as_str())
        .opt_node(
            "when",
            req.when.as_ref().map(|w| {
                MapBuilder::new()
                    .str("member", w.member.as_str())
                    .node("in", flow_strings(&w.values))
                    .build_flow()
            }),
        )
        .opt_node(
            "members",
            (!req.members.is_empty()).then(|| flow_strings(&req.members)),
        )
        .opt_node(
            "any_of",
            (!req.any_of.is_empty())
                .then(|| Node::Seq(req.any_of.iter().map(|g| flow_strings(g)).collect())),
        )
        .build()
}

fn type_def(def: &TypeDef) -> Node {
    let usage = def.usage.map(|u| match u {
        Usage::In => "in",
        Usage::Out => "out",
        Usage::Both => "both",
        Usage::Callback => "callback",
    });
    MapBuilder::new()
        .opt_str("usage", usage)
        .opt_str("rust_name", def.rust_name.as_ref().map(|r| r.to_string()))
        .opt_str("doc", def.doc.clone())
        .node(
            "members",
            Node::Seq(def.members.iter().map(member).collect()),
        )
        .build()
}

fn member(m: &Member) -> Node {
    MapBuilder::new()
        .str("name", m.name.as_str())
        .str("type", m.ty.as_str())
        .flag("required", m.required)
        .flag("output_required", m.output_required)
        .flag("always_present", m.always_present)
        .flag("content", m.content)
        .flag("nullable", m.nullable)
        .flag("disabled", m.disabled)
        .flag("unused", m.unused)
        .flag("deprecated", m.deprecated)
        .opt_node("sensitive", m.sensitive.map(raw))
        .opt_node("length", m.length.as_deref().map(length))
        .opt_node("range", m.range.as_deref().map(range))
        .opt_str("enum", m.enumeration.as_ref().map(|e| e.to_string()))
        .opt_str("default", m.default.as_ref().map(|d| d.to_string()))
        .opt_node(
            "listed_values",
            (!m.listed_values.is_empty()).then(|| {
                Node::FlowSeq(
                    m.listed_values
                        .iter()
                        .map(|v| Node::Str(v.clone()))
                        .collect(),
                )
            }),
        )
        .opt_str("keep_wire_type", m.keep_wire_type.clone())
        .opt_str("example", m.example.clone())
        .opt_str("doc", m.doc.clone())
        .build()
}

fn length(l: &Length) -> Node {
    MapBuilder::new()
        .opt_node("exact", l.exact.map(raw))
        .opt_node("min", l.min.map(raw))
        .opt_node("max", l.max.map(raw))
        .build_flow()
}

fn range(r: &Range) -> Node {
    MapBuilder::new()
        .opt_node("min", r.min.as_ref().map(|v| raw(v.as_str())))
        .opt_node("max", r.max.as_ref().map(|v| raw(v.as_str())))
        .build_flow()
}
