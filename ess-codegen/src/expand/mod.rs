//! IR -> tokens: the Rust code users see, one file per kind of item (`enums`, `structs`,
//! `checks` for `Validate`, `client` for the client and the action impls); this file holds
//! the assembly and the pieces they share. The items assume a module of their own: they open
//! with `use` lines for the names in [`names::IMPORTED_RUNTIME`] and [`names::IMPORTED_SERDE`]
//! and name prelude items plainly; validation keeps every generated type name off those names
//! (upstream's type `Option` gets a `rust_name`).

mod callbacks;
mod checks;
mod client;
mod enums;
mod structs;

use std::collections::BTreeMap;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt, quote};

use crate::ir::{CALLBACKS, FieldIr, FieldTy, Ir};
use crate::names;
use crate::spec::{Scalar, Value};
use callbacks::callback_event_item;
use client::{action_impl, client_item, error_code_item, job_impls, roundtrip_item};
use enums::enum_item;
use structs::struct_item;

/// All items generated from `ir`; with `cargo_features`, each behind its actions' features.
pub(crate) fn expand(ir: &Ir, cargo_features: bool) -> TokenStream {
    let gate = &Gate::new(ir, cargo_features);
    let service = &ir.service;
    let api_version = &ir.api_version;
    let enums = ir.enums.iter().map(|e| {
        let cfg = gate.any(e.used_by.iter().map(String::as_str));
        enum_item(e, &cfg)
    });
    let structs = ir.structs.iter().map(|s| struct_item(ir, s, gate));
    let actions = ir.actions.iter().map(|a| {
        let action = action_impl(ir, a, gate);
        let jobs = job_impls(a, gate);
        quote!(#action #jobs)
    });
    let error_code = error_code_item(ir);
    let client = client_item(ir, gate);
    let callbacks = callback_event_item(ir, gate);
    // Test tooling, for ess-generated's `__roundtrip` feature only: never in users' builds.
    let roundtrip = gate.enabled().then(|| roundtrip_item(ir, gate));
    let action_names = ir.actions.iter().map(|a| {
        let cfg = gate.one(&a.wire);
        let wire = &a.wire;
        quote!(#cfg #wire)
    });
    let runtime = names::IMPORTED_RUNTIME.iter().map(|n| ident(n));
    let serde = names::IMPORTED_SERDE.iter().map(|n| ident(n));
    quote! {
        // An import is unused when the enabled actions need none of its items.
        #[allow(unused_imports)]
        use ::ess_runtime::__private::serde::{#(#serde),*};
        #[allow(unused_imports)]
        use ::ess_runtime::{call, check, wait, #(#runtime),*};
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
        #callbacks
        #(#enums)*
        #(#structs)*
    }
}

/// Emits `#[cfg(feature = ..)]` gates when cargo features are on. Each action's feature
/// name is made a literal once: an item used by many actions names many of them.
struct Gate<'a> {
    /// Feature literals by action wire name; `None` without cargo features.
    features: Option<BTreeMap<&'a str, Literal>>,
}

impl<'a> Gate<'a> {
    fn new(ir: &'a Ir, cargo_features: bool) -> Self {
        let features = cargo_features.then(|| {
            ir.actions
                .iter()
                .map(|a| (a.wire.as_str(), Literal::string(&a.feature)))
                .chain(
                    (!ir.callbacks.is_empty())
                        .then(|| (CALLBACKS, Literal::string(names::CALLBACKS_FEATURE))),
                )
                .collect()
        });
        Self { features }
    }

    fn enabled(&self) -> bool {
        self.features.is_some()
    }

    /// The gate of one action (by wire name).
    fn one(&self, action: &str) -> TokenStream {
        self.any(std::iter::once(action))
    }

    /// The gate of an item that any of `actions` (by wire name) needs.
    fn any<'b>(&self, actions: impl Iterator<Item = &'b str>) -> TokenStream {
        let Some(features) = &self.features else {
            return TokenStream::new();
        };
        let features: Vec<&Literal> = actions.filter_map(|a| features.get(a)).collect();
        match features.as_slice() {
            [] => TokenStream::new(),
            [one] => quote!(#[cfg(feature = #one)]),
            many => quote!(#[cfg(any(#(feature = #many),*))]),
        }
    }
}

fn ident(name: &str) -> Ident {
    if names::is_keyword(name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// `#[doc = ".."]` attributes, one per line of `text`, each line after a space as a `///`
/// comment would have it.
fn doc_attrs(text: &str) -> Docs {
    Docs(text.lines().map(doc_line).collect())
}

/// Doc attributes, written straight into the tokens they are interpolated in rather than
/// into a stream of their own that is then copied there (docs are a quarter of the generated
/// tokens).
struct Docs(Vec<Literal>);

impl ToTokens for Docs {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for line in &self.0 {
            let attr: TokenStream = [
                TokenTree::Ident(Ident::new("doc", Span::call_site())),
                TokenTree::Punct(Punct::new('=', Spacing::Alone)),
                TokenTree::Literal(line.clone()),
            ]
            .into_iter()
            .collect();
            tokens.append(Punct::new('#', Spacing::Alone));
            tokens.append(Group::new(Delimiter::Bracket, attr));
        }
    }
}

/// One doc line (`line` after a space, unless it is empty) as a string literal. Written raw
/// (`r" .."`) when it can be: a raw literal needs no escaping, and `Literal::string` escaping
/// the docs (a third of the generated code, much of it Chinese) char by char was a sixth of
/// the generator's instructions in process. Inside rustc the two cost about the same (the
/// compiler lexes what the macro does not escape). prettyplease prints either form as `///`.
fn doc_line(line: &str) -> Literal {
    let space = if line.is_empty() { "" } else { " " };
    let hashes = if line.contains('\r') {
        None
    } else if !line.contains('"') {
        Some("")
    } else if !line.contains("\"#") {
        Some("#")
    } else {
        None
    };
    let raw = hashes.and_then(|hashes| {
        let mut repr = String::with_capacity(line.len() + 2 * hashes.len() + 4);
        for part in ["r", hashes, "\"", space, line, "\"", hashes] {
            repr.push_str(part);
        }
        repr.parse().ok()
    });
    raw.unwrap_or_else(|| Literal::string(&format!("{space}{line}")))
}

fn scalar_ty(s: Scalar) -> Ident {
    let name = match s {
        Scalar::String => "String",
        Scalar::Int64 => "i64",
        Scalar::Uint64 => "u64",
        Scalar::Float => "f64",
        Scalar::Bool => "bool",
    };
    Ident::new(name, Span::call_site())
}

/// A field's type (`Vec<Name>`, or with `Box` and `Option` as the field has them), written
/// straight into the tokens it is interpolated in. Types appear in every field, setter and
/// constructor; a `quote!` per layer made a token stream of its own for each, only to copy
/// it into the enclosing one.
#[derive(Clone, Copy)]
struct Ty<'a> {
    ty: &'a FieldTy,
    boxed: bool,
    optional: bool,
}

impl ToTokens for Ty<'_> {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let mut closing = 0;
        for (wrapper, on) in [("Option", self.optional), ("Box", self.boxed)] {
            if on {
                tokens.append(Ident::new(wrapper, Span::call_site()));
                tokens.append(Punct::new('<', Spacing::Alone));
                closing += 1;
            }
        }
        let mut ty = self.ty;
        let name = loop {
            match ty {
                FieldTy::List(inner) => {
                    tokens.append(Ident::new("Vec", Span::call_site()));
                    tokens.append(Punct::new('<', Spacing::Alone));
                    closing += 1;
                    ty = inner;
                }
                FieldTy::Scalar(s) => break scalar_ty(*s),
                FieldTy::Enum(n) | FieldTy::Struct(n) => break ident(n),
            }
        };
        tokens.append(name);
        for _ in 0..closing {
            tokens.append(Punct::new('>', Spacing::Alone));
        }
    }
}

/// The item type of a field (`Vec<Name>`, without `Box` or `Option`).
fn field_ty(ty: &FieldTy) -> Ty<'_> {
    Ty {
        ty,
        boxed: false,
        optional: false,
    }
}

/// The field's full type (with `Box` and `Option`).
fn full_ty(f: &FieldIr) -> Ty<'_> {
    Ty {
        ty: &f.ty,
        boxed: f.boxed,
        optional: f.optional,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_lines_keep_their_text_in_either_literal_form() {
        for line in [
            "",
            "plain",
            "签署 `FlowId`",
            "a \"quoted\" word",
            "ends in \"#",
            "back\\slash \\n",
            "carriage\rreturn",
            "\"#\"##",
        ] {
            let literal = doc_line(line).to_string();
            let parsed: syn::LitStr = syn::parse_str(&literal).expect(&literal);
            let expected = if line.is_empty() {
                String::new()
            } else {
                format!(" {line}")
            };
            assert_eq!(parsed.value(), expected, "{literal}");
        }
        assert!(doc_line("plain").to_string().starts_with("r\""));
    }

    #[test]
    fn types_write_the_tokens_quote_would() {
        let list = FieldTy::List(Box::new(FieldTy::List(Box::new(FieldTy::Struct(
            "Approver".to_owned(),
        )))));
        let full = Ty {
            ty: &list,
            boxed: true,
            optional: true,
        };
        // As nested `quote!(Vec<#inner>)` wrote it: each `>` a punct of its own.
        let mut expected = quote!(Approver);
        for wrapper in ["Vec", "Vec", "Box", "Option"] {
            let wrapper = Ident::new(wrapper, Span::call_site());
            expected = quote!(#wrapper<#expected>);
        }
        assert_eq!(full.to_token_stream().to_string(), expected.to_string());
        let scalar = FieldTy::Scalar(Scalar::Uint64);
        assert_eq!(field_ty(&scalar).to_token_stream().to_string(), "u64");
        let docs = doc_attrs("One.\n\nTwo.").to_token_stream().to_string();
        assert_eq!(
            docs.replace("r\"", "\""),
            quote!(#[doc = " One."] #[doc = ""] #[doc = " Two."]).to_string()
        );
    }
}
