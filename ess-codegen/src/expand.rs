//! IR -> tokens: the Rust code users see. The items assume a module of their own: they open
//! with the imports they use ([`names::IMPORTED`]) and name prelude items plainly, and
//! validation keeps every generated type name off those names (upstream's type `Option` gets a
//! `rust_name`).

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{ActionIr, EnumIr, FieldIr, FieldTy, Ir, RequirementIr, StructIr};
use crate::names;
use crate::spec::{Scalar, Value};

/// All items generated from `ir`; with `cargo_features`, each behind its actions' features.
pub(crate) fn expand(ir: &Ir, cargo_features: bool) -> TokenStream {
    let gate = Gate(cargo_features);
    let service = &ir.service;
    let api_version = &ir.api_version;
    let enums = ir.enums.iter().map(|e| {
        let cfg = gate.any(e.used_by.iter().map(|a| feature_of(ir, a)));
        enum_item(e, &cfg)
    });
    let structs = ir.structs.iter().map(|s| struct_item(ir, s, gate));
    let actions = ir.actions.iter().map(|a| action_impl(ir, a, gate));
    let error_code = error_code_item(ir);
    let client = client_item(ir, gate);
    // Test tooling, for ess-generated's `__roundtrip` feature only: never in users' builds.
    let roundtrip = gate.0.then(|| roundtrip_item(ir, gate));
    let action_names = ir.actions.iter().map(|a| {
        let cfg = gate.one(&a.feature);
        let wire = &a.wire;
        quote!(#cfg #wire)
    });
    quote! {
        // Each import is unused when the enabled actions need none of its items.
        #[allow(unused_imports)]
        use ::ess_runtime::__private::serde::{Deserialize, Serialize};
        #[allow(unused_imports)]
        use ::ess_runtime::{
            check, Action, EndpointHosts, Path, Redacted, UnknownValue, Validate, Violation,
        };
        use ::ess_runtime::{call, Config, Error, HttpTransport, Transport};
        use ::std::fmt;

        /// Short name of the service.
        pub const SERVICE: &str = #service;
        /// API version sent with every request.
        pub const API_VERSION: &str = #api_version;
        /// Every action of the spec, by wire name.
        pub const ACTIONS: &[&str] = &[#(#action_names),*];
        #error_code
        #client
        #roundtrip
        #(#actions)*
        #(#enums)*
        #(#structs)*
    }
}

/// Emits `#[cfg(feature = ..)]` gates when cargo features are on.
#[derive(Clone, Copy)]
struct Gate(bool);

impl Gate {
    fn one(self, feature: &str) -> TokenStream {
        if self.0 {
            quote!(#[cfg(feature = #feature)])
        } else {
            TokenStream::new()
        }
    }

    fn any<'a>(self, features: impl Iterator<Item = &'a str>) -> TokenStream {
        if !self.0 {
            return TokenStream::new();
        }
        let features: Vec<&str> = features.collect();
        match features.as_slice() {
            [] => TokenStream::new(),
            [one] => quote!(#[cfg(feature = #one)]),
            many => quote!(#[cfg(any(#(feature = #many),*))]),
        }
    }
}

fn feature_of<'a>(ir: &'a Ir, action: &str) -> &'a str {
    ir.actions
        .iter()
        .find(|a| a.wire == action)
        .map_or("", |a| a.feature.as_str())
}

fn ident(name: &str) -> Ident {
    if names::is_keyword(name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

fn doc_attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote! { #(#[doc = #lines])* }
}

fn scalar_ty(s: Scalar) -> TokenStream {
    match s {
        Scalar::String => quote!(String),
        Scalar::Int64 => quote!(i64),
        Scalar::Uint64 => quote!(u64),
        Scalar::Float => quote!(f64),
        Scalar::Bool => quote!(bool),
    }
}

fn field_ty(ty: &FieldTy) -> TokenStream {
    match ty {
        FieldTy::Scalar(s) => scalar_ty(*s),
        FieldTy::Enum(n) | FieldTy::Struct(n) => {
            let n = ident(n);
            quote!(#n)
        }
        FieldTy::List(inner) => {
            let inner = field_ty(inner);
            quote!(Vec<#inner>)
        }
    }
}

/// The field's full type (with `Box` and `Option`).
fn full_ty(f: &FieldIr) -> TokenStream {
    let mut ty = field_ty(&f.ty);
    if f.boxed {
        ty = quote!(Box<#ty>);
    }
    if f.optional {
        ty = quote!(Option<#ty>);
    }
    ty
}

/// A value as a Rust literal (integers suffixed with their type).
fn literal(value: &Value) -> TokenStream {
    let literal = match value {
        Value::String(text) => Literal::string(text),
        Value::Int64(n) => Literal::i64_suffixed(*n),
        Value::Uint64(n) => Literal::u64_suffixed(*n),
        Value::Float(x) => Literal::f64_suffixed(*x),
        Value::Bool(b) => return quote!(#b),
    };
    quote!(#literal)
}

/// An enumeration and its impls, each behind `cfg` (the features of the actions that use it).
fn enum_item(e: &EnumIr, cfg: &TokenStream) -> TokenStream {
    let name = ident(&e.name);
    let doc = doc_attrs(e.doc.as_deref().unwrap_or("An enumeration of the ess API."));
    let raw = scalar_ty(e.scalar);
    let variants: Vec<Ident> = e.values.iter().map(|v| ident(&v.variant)).collect();
    let docs = e.values.iter().map(|v| {
        let wire = &v.wire;
        let text = match &v.doc {
            Some(d) => format!("{d}\n\nWire value `{wire}`."),
            None => format!("Wire value `{wire}`."),
        };
        doc_attrs(&text)
    });
    let wire_values: Vec<TokenStream> = e.values.iter().map(|v| literal(&v.value)).collect();
    let (to_wire, from_wire_arms, wire_ty, serde_kind) = if e.scalar == Scalar::String {
        (
            quote! {
                /// The value as sent on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(Self::#variants => #wire_values,)*
                        Self::Unknown(value) => value.get(),
                    }
                }
            },
            quote! { #(#wire_values => Self::#variants,)* _ => Self::Unknown(UnknownValue::__new(value.to_owned())), },
            quote!(&str),
            quote!(str),
        )
    } else {
        (
            quote! {
                /// The value as sent on the wire.
                pub fn value(&self) -> #raw {
                    match self {
                        #(Self::#variants => #wire_values,)*
                        Self::Unknown(value) => *value.get(),
                    }
                }
            },
            quote! { #(#wire_values => Self::#variants,)* _ => Self::Unknown(UnknownValue::__new(value)), },
            raw.clone(),
            raw.clone(),
        )
    };
    quote! {
        #cfg
        #doc
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(#docs #variants,)*
            /// A value this version of the spec does not list; kept as sent (`value()` or
            /// `as_str()` reads it). Only `From` makes one, so it never stands for a value a
            /// named variant covers.
            Unknown(UnknownValue<#raw>),
        }

        #cfg
        impl #name {
            #to_wire

            /// Whether the spec lists this value.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        #cfg
        impl From<#wire_ty> for #name {
            fn from(value: #wire_ty) -> Self {
                match value {
                    #from_wire_arms
                }
            }
        }

        #cfg
        ::ess_runtime::__wire_enum_serde!(#name, #serde_kind);
    }
}

/// A field's rustdoc: our words, then the facts (whether callers must set it, bounds, default,
/// sensitivity). Output-only structures leave out "Required" and "Optional": callers read them.
fn field_doc(f: &FieldIr, output_only: bool) -> TokenStream {
    let mut facts = Vec::new();
    if !output_only {
        facts.push(if f.doc.required {
            "Required.".to_owned()
        } else {
            "Optional.".to_owned()
        });
    }
    if let Some((min, max)) = f.length {
        let unit = if matches!(f.ty, FieldTy::List(_)) {
            "items"
        } else {
            "characters"
        };
        facts.push(match (min, max) {
            (Some(a), Some(b)) if a == b => format!("Exactly {a} {unit}."),
            (Some(a), Some(b)) => format!("{a} to {b} {unit}."),
            (Some(a), None) => format!("At least {a} {unit}."),
            (_, Some(b)) => format!("At most {b} {unit}."),
            _ => String::new(),
        });
    }
    if let Some((min, max)) = &f.range {
        facts.push(match (min, max) {
            (Some(a), Some(b)) => format!("Range {a} to {b}."),
            (Some(a), None) => format!("At least {a}."),
            (_, Some(b)) => format!("At most {b}."),
            _ => String::new(),
        });
    }
    if let Some(d) = &f.doc.default {
        facts.push(format!("Default `{d}`."));
    }
    if f.sensitive {
        facts.push("Sensitive: `Debug` prints `<redacted>`.".to_owned());
    }
    if f.doc.disabled {
        facts.push("Not open for use yet.".to_owned());
    }
    if f.doc.deprecated {
        facts.push("Deprecated.".to_owned());
    }
    facts.retain(|fact| !fact.is_empty());
    let mut paragraphs: Vec<String> = f.doc.text.iter().cloned().collect();
    if !facts.is_empty() {
        paragraphs.push(facts.join(" "));
    }
    if let Some(e) = &f.doc.example {
        paragraphs.push(format!("Example: `{}`", e.replace('`', "'")));
    }
    if paragraphs.is_empty() {
        paragraphs.push(format!("The `{}` member.", f.wire));
    }
    doc_attrs(&paragraphs.join("\n\n"))
}

fn struct_item(ir: &Ir, s: &StructIr, gate: Gate) -> TokenStream {
    let cfg = gate.any(s.used_by.iter().map(|a| feature_of(ir, a)));
    let name = ident(&s.name);
    let mut doc = match (&s.doc, &s.request_of, &s.response_of) {
        (Some(doc), _, _) => doc.clone(),
        (None, Some(action), _) => format!("Input of {action}."),
        (None, None, Some(action)) => format!("Output of {action}."),
        (None, None, None) => format!("The `{}` structure of the ess API.", s.name),
    };
    if let Some(action) = &s.request_of {
        let method = names::snake(action);
        doc.push_str(&format!(
            "\n\nRequest of [`Client::{method}`]; built with `new` and setters."
        ));
    } else if let Some(action) = &s.response_of {
        let method = names::snake(action);
        doc.push_str(&format!("\n\nReturned by [`Client::{method}`]."));
    }
    let doc = doc_attrs(&doc);
    let fields = s.fields.iter().map(|f| {
        let id = ident(&f.ident);
        let ty = full_ty(f);
        let wire = &f.wire;
        let doc = field_doc(f, s.output_only);
        // The container renames to PascalCase; only fields it gets wrong carry a rename.
        let mut args = Vec::new();
        if names::serde_pascal(&f.ident) != *wire {
            args.push(quote!(rename = #wire));
        }
        // A missing `Option` member deserializes as `None` without `default`.
        if f.optional {
            args.push(quote!(skip_serializing_if = "Option::is_none"));
        }
        let serde = (!args.is_empty()).then(|| quote!(#[serde(#(#args),*)]));
        quote! { #doc #serde pub #id: #ty }
    });
    let has_sensitive = s.fields.iter().any(|f| f.sensitive);
    let mut derives = vec![quote!(Clone), quote!(PartialEq)];
    if !has_sensitive {
        derives.push(quote!(Debug));
    }
    if s.all_optional {
        derives.push(quote!(Default));
    }
    let wire = wire_derives(s, gate);
    let required: Vec<&FieldIr> = s.fields.iter().filter(|f| !f.optional).collect();
    let new_params = required.iter().map(|f| {
        let id = ident(&f.ident);
        let ty = full_ty(f);
        quote!(#id: impl Into<#ty>)
    });
    let new_fields = s.fields.iter().map(|f| {
        let id = ident(&f.ident);
        if f.optional {
            quote!(#id: None)
        } else {
            quote!(#id: #id.into())
        }
    });
    let setters = s.fields.iter().filter(|f| f.optional).map(|f| {
        let id = ident(&f.ident);
        let setter = if matches!(f.ident.as_str(), "new" | "validate" | "validate_into") {
            format_ident!("with_{}", f.ident)
        } else {
            id.clone()
        };
        let mut inner = field_ty(&f.ty);
        if f.boxed {
            inner = quote!(Box<#inner>);
        }
        let wire = &f.wire;
        let doc = format!(" Sets `{wire}`.");
        quote! {
            #[doc = #doc]
            pub fn #setter(mut self, value: impl Into<#inner>) -> Self {
                self.#id = Some(value.into());
                self
            }
        }
    });
    let new_doc = if required.is_empty() {
        " A value with every member unset.".to_owned()
    } else {
        let names: Vec<String> = required.iter().map(|f| format!("`{}`", f.wire)).collect();
        format!(
            " A value with the required {}; every other member unset.",
            names.join(", ")
        )
    };
    let many_args = (required.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let debug = has_sensitive.then(|| {
        let item = debug_impl(s);
        quote!(#cfg #item)
    });
    let validate = (s.needs_validation || s.request_of.is_some()).then(|| {
        let item = validate_impl(ir, s);
        quote!(#cfg #item)
    });
    // Callers only read output-only structures; the service builds them. Lists and strings
    // get accessors, so reading an answer needs no `unwrap_or_default` chains.
    let accessors: Vec<TokenStream> = if s.output_only {
        s.fields
            .iter()
            .filter(|f| f.optional && !f.boxed)
            .filter_map(|f| {
                let id = ident(&f.ident);
                let wire = &f.wire;
                match &f.ty {
                    FieldTy::List(inner) => {
                        let inner = field_ty(inner);
                        let doc = format!(" `{wire}`, empty when the answer leaves it out.");
                        Some(quote! {
                            #[doc = #doc]
                            pub fn #id(&self) -> &[#inner] {
                                self.#id.as_deref().unwrap_or_default()
                            }
                        })
                    }
                    FieldTy::Scalar(Scalar::String) => {
                        let doc = format!(" `{wire}`, if the answer has it.");
                        Some(quote! {
                            #[doc = #doc]
                            pub fn #id(&self) -> Option<&str> {
                                self.#id.as_deref()
                            }
                        })
                    }
                    _ => None,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let accessors = (!accessors.is_empty()).then(|| {
        quote! {
            #cfg
            impl #name {
                #(#accessors)*
            }
        }
    });
    let builders = (!s.output_only).then(|| {
        quote! {
            #cfg
            impl #name {
                #[doc = #new_doc]
                #many_args
                pub fn new(#(#new_params),*) -> Self {
                    Self { #(#new_fields,)* }
                }
                #(#setters)*
            }
        }
    });
    quote! {
        #cfg
        #doc
        #[derive(#(#derives,)*)]
        #wire
        #[serde(crate = "::ess_runtime::__private::serde", rename_all = "PascalCase")]
        #[non_exhaustive]
        pub struct #name {
            #(#fields,)*
        }

        #builders
        #accessors

        #debug
        #validate
    }
}

fn debug_impl(s: &StructIr) -> TokenStream {
    let name = ident(&s.name);
    let label = &s.name;
    let fields = s.fields.iter().map(|f| {
        let id = ident(&f.ident);
        let label = &f.ident;
        if f.sensitive {
            quote!(.field(#label, &Redacted(&self.#id)))
        } else {
            quote!(.field(#label, &self.#id))
        }
    });
    quote! {
        impl fmt::Debug for #name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(#label) #(#fields)* .finish()
            }
        }
    }
}

fn validate_impl(ir: &Ir, s: &StructIr) -> TokenStream {
    let name = ident(&s.name);
    let needs = |n: &str| ir.structs.iter().any(|x| x.name == n && x.needs_validation);
    let checks = s.fields.iter().map(|f| field_checks(f, &needs));
    let requirements = s
        .request_of
        .as_ref()
        .and_then(|action| ir.actions.iter().find(|a| &a.wire == action))
        .map(|a| {
            a.requirements
                .iter()
                .map(|r| requirement_checks(a, r))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let uses_path = s.needs_validation || !requirements.is_empty();
    let (path, out) = if uses_path {
        (quote!(path), quote!(out))
    } else {
        (quote!(_path), quote!(_out))
    };
    quote! {
        impl Validate for #name {
            fn validate_into(&self, #path: &Path<'_>, #out: &mut Vec<Violation>) {
                #(#checks)*
                #(#requirements)*
            }
        }
    }
}

/// Checks of one field: its own constraints, enum membership, and nested structures.
fn field_checks(f: &FieldIr, needs: &dyn Fn(&str) -> bool) -> TokenStream {
    let id = ident(&f.ident);
    let wire = &f.wire;
    let mut body = Vec::new();
    if let Some((min, max)) = f.length {
        let min = opt_usize(min);
        let max = opt_usize(max);
        let (len, unit) = match &f.ty {
            FieldTy::List(_) => (quote!(value.len()), "items"),
            _ => (quote!(value.chars().count()), "characters"),
        };
        body.push(quote!(check::length(out, &path.member(#wire), #len, #min, #max, #unit);));
    }
    if let Some((min, max)) = &f.range {
        let min = opt_lit(min.as_ref());
        let max = opt_lit(max.as_ref());
        body.push(quote!(check::range(out, &path.member(#wire), *value, #min, #max);));
    }
    match &f.ty {
        FieldTy::Enum(e) => body.push(quote! {
            if !value.is_known() {
                check::unknown_value(out, &path.member(#wire), #e);
            }
        }),
        FieldTy::List(inner) => {
            if let FieldTy::Enum(e) = &**inner {
                body.push(quote! {
                    for (index, item) in value.iter().enumerate() {
                        if !item.is_known() {
                            check::unknown_value(out, &path.member(#wire).index(index), #e);
                        }
                    }
                });
            }
        }
        _ => {}
    }
    if f.ty.inner_struct().is_some_and(needs) {
        body.push(quote!(Validate::validate_into(value, &path.member(#wire), out);));
    }
    if body.is_empty() {
        return TokenStream::new();
    }
    if f.optional {
        quote! { if let Some(value) = &self.#id { #(#body)* } }
    } else {
        quote! { { let value = &self.#id; #(#body)* } }
    }
}

/// The serde derives of a struct: `Serialize` for what requests carry, `Deserialize` for
/// what responses carry. The other direction, which only the workspace's round-trip checks
/// use, exists with the `__roundtrip` feature (in cargo-features mode): compiling serde
/// code no caller runs is most of a build.
fn wire_derives(s: &StructIr, gate: Gate) -> TokenStream {
    let serialize = quote!(Serialize);
    let deserialize = quote!(Deserialize);
    let (always, roundtrip_only) = match (s.output_only, s.input_only) {
        (true, _) => (deserialize, Some(serialize)),
        (false, true) => (serialize, Some(deserialize)),
        (false, false) => (quote!(#serialize, #deserialize), None),
    };
    let extra = roundtrip_only
        .filter(|_| gate.0)
        .map(|extra| quote!(#[cfg_attr(feature = "__roundtrip", derive(#extra))]));
    quote! {
        #[derive(#always)]
        #extra
    }
}

fn opt_usize(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => {
            let v = Literal::usize_unsuffixed(v as usize);
            quote!(Some(#v))
        }
        None => quote!(None),
    }
}

fn opt_lit(v: Option<&Value>) -> TokenStream {
    match v {
        Some(v) => {
            let lit = literal(v);
            quote!(Some(#lit))
        }
        None => quote!(None),
    }
}

/// Code checking one per-action requirement (`FlowApproverInfos[]` needs `ApproverName`, ...).
fn requirement_checks(action: &ActionIr, req: &RequirementIr) -> TokenStream {
    let action_name = &action.wire;
    // Innermost: the checks on `target` at path `here`.
    // A required non-string member is always present (its type says so): nothing to check.
    let members = req
        .members
        .iter()
        .filter_map(|(id, wire, optional, is_string)| {
            let id = ident(id);
            let present = match (optional, is_string) {
                (true, true) => quote!(target.#id.as_ref().is_some_and(|v| !v.is_empty())),
                (true, false) => quote!(target.#id.is_some()),
                (false, true) => quote!(!target.#id.is_empty()),
                (false, false) => return None,
            };
            Some(quote!(check::required(out, &here.member(#wire), #present, #action_name);))
        });
    let mut inner = quote! { #(#members)* };
    if let Some((id, optional, scalar, values, is_enum)) = &req.when {
        let id = ident(id);
        let values = values.iter().map(literal);
        let get = match (is_enum, scalar) {
            (true, Scalar::String) => quote!(v.as_str()),
            (true, _) => quote!(v.value()),
            (false, Scalar::String) => quote!(v.as_str()),
            (false, _) => quote!(*v),
        };
        let test = quote!([#(#values),*].contains(&#get));
        let cond = if *optional {
            quote!(target.#id.as_ref().is_some_and(|v| #test))
        } else {
            quote!({ let v = &target.#id; #test })
        };
        inner = quote! { if #cond { #inner } };
    }
    // Wrap from the innermost step outwards.
    let mut code = inner;
    for (depth, step) in req.steps.iter().enumerate().rev() {
        let id = ident(&step.ident);
        let wire = &step.wire;
        let parent = if depth == 0 {
            quote!(self)
        } else {
            quote!(parent)
        };
        let parent_path = if depth == 0 {
            quote!(path)
        } else {
            quote!(parent_here)
        };
        let body = if step.list {
            quote! {
                let list = #parent_path.member(#wire);
                for (index, target) in items.iter().enumerate() {
                    let here = list.index(index);
                    #code
                }
            }
        } else {
            quote! {
                let target = items;
                let here = #parent_path.member(#wire);
                #code
            }
        };
        code = if step.optional {
            quote! { if let Some(items) = &#parent.#id { #body } }
        } else {
            quote! { { let items = &#parent.#id; #body } }
        };
        if depth > 0 {
            code = quote! { { let parent = target; let parent_here = here; #code } };
        }
    }
    code
}

fn action_impl(ir: &Ir, a: &ActionIr, gate: Gate) -> TokenStream {
    let cfg = gate.one(&a.feature);
    let request = ident(&a.request);
    let response = ident(&a.response);
    let wire = &a.wire;
    let (group, production, test) = &a.endpoint;
    let rate = match a.rate_limit {
        Some(r) => quote!(Some(#r)),
        None => quote!(None),
    };
    let retry = a.retry_safe;
    let client_token = a.client_token.as_deref().map(|field| {
        let field = ident(field);
        quote! {
            const CLIENT_TOKEN: bool = true;
            fn with_client_token(&self, token: &str) -> Option<Self> {
                if self.#field.as_deref().is_some_and(|t| !t.is_empty()) {
                    return None;
                }
                let mut filled = self.clone();
                filled.#field = Some(token.to_owned());
                Some(filled)
            }
        }
    });
    let signing_service = &ir.signing_service;
    let api_version = &ir.api_version;
    let errors = &a.errors;
    let variants = a
        .errors
        .iter()
        .filter_map(|code| ir.error_codes.iter().find(|e| &e.code == code))
        .map(|e| ident(&e.variant));
    quote! {
        #cfg
        impl Action for #request {
            const NAME: &'static str = #wire;
            const SERVICE: &'static str = #signing_service;
            const VERSION: &'static str = #api_version;
            const ENDPOINT: EndpointHosts = EndpointHosts {
                group: #group,
                production: #production,
                test: #test,
            };
            const RATE_LIMIT: Option<u32> = #rate;
            const RETRY_SAFE: bool = #retry;
            const ERRORS: &'static [&'static str] = &[#(#errors),*];
            type Response = #response;
            type Code = ErrorCode;
            #client_token
        }

        #cfg
        impl #request {
            /// The error codes this action may return.
            pub const ERROR_CODES: &'static [ErrorCode] = &[#(ErrorCode::#variants),*];
        }
    }
}

fn error_code_item(ir: &Ir) -> TokenStream {
    let variants: Vec<Ident> = ir.error_codes.iter().map(|e| ident(&e.variant)).collect();
    let codes: Vec<&str> = ir.error_codes.iter().map(|e| e.code.as_str()).collect();
    let docs = codes.iter().map(|c| format!(" `{c}`"));
    quote! {
        /// Every error code the service may answer with (common API 3.0 codes and ess codes).
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            #(#[doc = #docs] #variants,)*
            /// A code this version of the spec does not list; kept as sent (`as_str()` reads
            /// it). Only `From` makes one, so it never stands for a code a variant covers.
            Unknown(UnknownValue<String>),
        }

        impl ErrorCode {
            /// Whether the spec lists this code.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            /// The code as the service spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#variants => #codes,)*
                    Self::Unknown(code) => code.get(),
                }
            }
        }

        impl From<&str> for ErrorCode {
            fn from(code: &str) -> Self {
                match code {
                    #(#codes => Self::#variants,)*
                    other => Self::Unknown(UnknownValue::__new(other.to_owned())),
                }
            }
        }

        impl fmt::Display for ErrorCode {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for ErrorCode {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    }
}

fn client_item(ir: &Ir, gate: Gate) -> TokenStream {
    let methods = ir.actions.iter().map(|a| {
        let cfg = gate.one(&a.feature);
        let method = ident(&a.method);
        let request = ident(&a.request);
        let response = ident(&a.response);
        let mut doc = format!("{} (`{}`)", a.title, a.wire);
        if let Some(d) = &a.doc {
            doc.push_str("\n\n");
            doc.push_str(d);
        }
        doc.push('\n');
        if let Some(r) = a.rate_limit {
            doc.push_str(&format!("\n- Rate limit: {r} requests per second."));
        }
        doc.push_str(match (a.retry_safe, a.client_token.is_some()) {
            (true, true) => "\n- Retried after failures that may have executed: the client fills in a `ClientToken` (if you leave it empty) and keeps it across attempts, so the service runs it once.",
            (true, false) => "\n- Retried after failures that may have executed (5xx, `InternalError`, a lost connection): a repeat is harmless.",
            (false, _) => "\n- Never re-sent after a failure that may have executed (5xx, `InternalError`, a lost connection): that could run it twice.",
        });
        if !a.errors.is_empty() {
            let codes: Vec<String> = a.errors.iter().map(|c| format!("`{c}`")).collect();
            doc.push_str(&format!("\n- Errors: {}.", codes.join(", ")));
        }
        doc.push_str(&format!(
            "\n\n[API Explorer](https://console.cloud.tencent.com/api/explorer?Product={}&Version={}&Action={})",
            ir.service, ir.api_version, a.wire
        ));
        let doc = doc_attrs(&doc);
        let deprecated = a.deprecated.then(|| quote!(#[deprecated(note = "deprecated by the service")]));
        quote! {
            #cfg
            #doc
            #deprecated
            pub async fn #method(&self, request: &#request) -> Result<#response, Error<ErrorCode>> {
                call(&self.transport, request).await
            }
        }
    });
    quote! {
        /// The ess client: one method per action. Cloning shares the transport (its connection
        /// pool, rate limiter and signing-key cache).
        #[derive(Clone, Debug)]
        pub struct Client<T = HttpTransport> {
            transport: T,
        }

        impl Client<HttpTransport> {
            /// A client sending signed HTTP requests as `config` says.
            pub fn from_config(config: Config) -> Result<Self, Error<ErrorCode>> {
                HttpTransport::new(config)
                    .map(Self::new)
                    .map_err(Error::typed)
            }

            /// A client with default settings: credentials from `TENCENTCLOUD_SECRET_ID` /
            /// `TENCENTCLOUD_SECRET_KEY` (or `~/.tencentcloud/credentials`), the endpoint from
            /// `ESS_ENDPOINT` (production when unset).
            pub fn from_env() -> Result<Self, Error<ErrorCode>> {
                Config::from_env()
                    .map_err(Error::typed)
                    .and_then(Self::from_config)
            }
        }

        impl<T> Client<T> {
            /// A client sending through `transport`.
            pub fn new(transport: T) -> Self {
                Self { transport }
            }

            /// The transport.
            pub fn transport(&self) -> &T {
                &self.transport
            }
        }

        impl<T: Transport + Sync> Client<T> {
            #(#methods)*
        }
    }
}

/// Dispatch by action name, for `cargo xtask verify-examples`.
fn roundtrip_item(ir: &Ir, gate: Gate) -> TokenStream {
    let arms = ir.actions.iter().map(|a| {
        let cfg = gate.one(&a.feature);
        let wire = &a.wire;
        let request = ident(&a.request);
        let response = ident(&a.response);
        quote! {
            #cfg
            #wire => Some(if response {
                ::ess_runtime::__private::roundtrip::<#response>(value)
            } else {
                ::ess_runtime::__private::roundtrip::<#request>(value)
            }),
        }
    });
    quote! {
        /// Deserializes a request (or response) body of `action` into its generated type and
        /// serializes it back; `None` for an unknown action. Used to check official examples.
        #[cfg(feature = "__roundtrip")]
        #[doc(hidden)]
        pub fn __roundtrip(
            action: &str,
            response: bool,
            value: ::ess_runtime::__private::serde_json::Value,
        ) -> Option<Result<::ess_runtime::__private::serde_json::Value, String>> {
            match action {
                #(#arms)*
                _ => {
                    let _ = (response, value);
                    None
                }
            }
        }
    }
}
