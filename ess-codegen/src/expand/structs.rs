//! Structures: the struct with its serde attributes and field docs, constructors and
//! setters for what callers build, accessors for what they read, and a redacting `Debug`.

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream};
use quote::{ToTokens, TokenStreamExt, format_ident, quote};

use super::checks::validate_impl;
use super::{Docs, Gate, Ty, doc_attrs, doc_line, field_ty, full_ty, ident};
use crate::ir::{FieldIr, FieldTy, Ir, StructIr};
use crate::names;
use crate::spec::Scalar;

/// A field's rustdoc: our words, then the facts (whether callers must set it, bounds, default,
/// sensitivity). Output-only structures leave out "Required" and "Optional": callers read them.
pub(super) fn field_doc(f: &FieldIr, output_only: bool) -> Docs {
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
    if f.doc.always_present {
        facts.push("Always present in answers.".to_owned());
    }
    if f.content {
        facts.push("File content: `Debug` prints its length, not the content.".to_owned());
    }
    if f.sensitive {
        facts.push("Sensitive: `Debug` prints `<redacted>`.".to_owned());
    }
    if f.doc.disabled {
        facts.push("Not open for use yet.".to_owned());
    }
    if f.doc.unused {
        facts.push("Unused: upstream states that the service no longer reads it.".to_owned());
    }
    if f.doc.deprecated {
        facts.push("Deprecated.".to_owned());
    }
    facts.retain(|fact| !fact.is_empty());
    let mut paragraphs: Vec<String> = f.doc.text.iter().cloned().collect();
    if !f.doc.listed.is_empty() {
        let values: Vec<String> = f.doc.listed.iter().map(|v| format!("`{v}`")).collect();
        let mut line = format!("Upstream lists the values {}.", values.join(", "));
        if let Some(why) = &f.doc.kept {
            line.push_str(&format!(" Kept as the wire type: {why}"));
        }
        paragraphs.push(line);
    }
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

pub(super) fn struct_item(ir: &Ir, s: &StructIr, gate: &Gate) -> TokenStream {
    let cfg = gate.any(s.used_by.iter().map(String::as_str));
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
    // Made once: a literal written inside `quote!` is lexed again on every use.
    let is_none = Literal::string("Option::is_none");
    // Each part of the fields in a list of its own, so that one `quote!` below writes them
    // all without a token stream per field.
    let field_docs: Vec<Docs> = s
        .fields
        .iter()
        .map(|f| field_doc(f, s.output_only))
        .collect();
    let field_serde: Vec<FieldSerde> = s
        .fields
        .iter()
        .map(|f| FieldSerde {
            // The container renames to PascalCase; only fields it gets wrong carry a rename.
            rename: (names::serde_pascal(&f.ident) != f.wire).then_some(f.wire.as_str()),
            // A missing `Option` member deserializes as `None` without `default`.
            skip_none: f.optional.then_some(&is_none),
        })
        .collect();
    let field_ids: Vec<Ident> = s.fields.iter().map(|f| ident(&f.ident)).collect();
    let field_tys: Vec<Ty> = s.fields.iter().map(full_ty).collect();
    // Secrets and file content get a `Debug` of their own.
    let has_sensitive = s.fields.iter().any(|f| f.sensitive || f.content);
    let mut derives = vec!["Clone", "PartialEq"];
    if !has_sensitive {
        derives.push("Debug");
    }
    if s.all_optional {
        derives.push("Default");
    }
    let derives = derives
        .into_iter()
        .map(|d| Ident::new(d, Span::call_site()));
    let serde_crate = Literal::string("::ess_runtime::__private::serde");
    let pascal = Literal::string("PascalCase");
    let wire = wire_derives(s, gate);
    let required: Vec<&FieldIr> = s.fields.iter().filter(|f| !f.optional).collect();
    let required_ids: Vec<Ident> = required.iter().map(|f| ident(&f.ident)).collect();
    let required_tys: Vec<Param> = required.iter().map(|f| Param(full_ty(f))).collect();
    let inits: Vec<Init> = s
        .fields
        .iter()
        .zip(&field_ids)
        .map(|(f, id)| Init {
            field: id.clone(),
            param: !f.optional,
            into: !is_number(&f.ty),
        })
        .collect();
    let optional: Vec<&FieldIr> = s.fields.iter().filter(|f| f.optional).collect();
    let setter_docs: Vec<Literal> = optional
        .iter()
        .map(|f| doc_line(&format!("Sets `{}`.", f.wire)))
        .collect();
    let setter_ids: Vec<Ident> = optional.iter().map(|f| ident(&f.ident)).collect();
    // A member the service ignores or has not opened: setting it does nothing, so the
    // compiler says so where it is set.
    let setter_deprecations: Vec<Option<TokenStream>> = optional
        .iter()
        .map(|f| {
            let note = if f.doc.unused {
                "the service no longer reads this member (upstream says so); setting it has no effect"
            } else if f.doc.disabled {
                "upstream declares this member but has not opened it for use"
            } else {
                return None;
            };
            Some(quote!(#[deprecated(note = #note)]))
        })
        .collect();
    // Where responses reach the type too, a member's name is its getter, so its setter is
    // `with_x`; elsewhere the setter takes the member's name.
    let read_too = !s.input_only;
    let setter_names: Vec<Ident> = optional
        .iter()
        .zip(&setter_ids)
        .map(|(f, id)| {
            if read_too || matches!(f.ident.as_str(), "new" | "validate" | "validate_into") {
                format_ident!("with_{}", f.ident)
            } else {
                id.clone()
            }
        })
        .collect();
    let setter_values: Vec<TokenStream> = optional
        .iter()
        .map(|f| {
            if is_number(&f.ty) {
                quote!(value)
            } else {
                quote!(value.into())
            }
        })
        .collect();
    let setter_tys: Vec<Param> = optional
        .iter()
        .map(|f| {
            Param(Ty {
                optional: false,
                ..full_ty(f)
            })
        })
        .collect();
    let new_doc = if required.is_empty() {
        doc_line("A value with every member unset.")
    } else {
        let names: Vec<String> = required.iter().map(|f| format!("`{}`", f.wire)).collect();
        doc_line(&format!(
            "A value with the required {}; every other member unset.",
            names.join(", ")
        ))
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
    // Every type a response reaches reads the same way: one getter per member, named after
    // it, so reading an answer needs no `Option` chains for lists and no field access.
    let accessors: Vec<TokenStream> = if read_too {
        s.fields.iter().map(getter).collect()
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
                #[inline]
                pub fn new(#(#required_ids: #required_tys),*) -> Self {
                    Self { #(#inits,)* }
                }
                #(
                    #[doc = #setter_docs]
                    #setter_deprecations
                    #[inline]
                    pub fn #setter_names(mut self, value: #setter_tys) -> Self {
                        self.#setter_ids = Some(#setter_values);
                        self
                    }
                )*
            }
        }
    });
    quote! {
        #cfg
        #doc
        #[derive(#(#derives,)*)]
        #wire
        #[serde(crate = #serde_crate, rename_all = #pascal)]
        #[non_exhaustive]
        pub struct #name {
            #(#field_docs #field_serde pub #field_ids: #field_tys,)*
        }

        #builders
        #accessors

        #debug
        #validate
    }
}

/// A field's `#[serde(..)]` attribute, if it needs one, written straight into the enclosing
/// tokens: the rename of a wire name `rename_all` misses, and `skip_serializing_if` for an
/// `Option`.
struct FieldSerde<'a> {
    rename: Option<&'a str>,
    skip_none: Option<&'a Literal>,
}

impl ToTokens for FieldSerde<'_> {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let mut args = TokenStream::new();
        let mut arg = |name: &str, value: Literal| {
            if !args.is_empty() {
                args.append(Punct::new(',', Spacing::Alone));
            }
            args.append(Ident::new(name, Span::call_site()));
            args.append(Punct::new('=', Spacing::Alone));
            args.append(value);
        };
        if let Some(wire) = self.rename {
            arg("rename", Literal::string(wire));
        }
        if let Some(is_none) = self.skip_none {
            arg("skip_serializing_if", is_none.clone());
        }
        if args.is_empty() {
            return;
        }
        let mut attr = TokenStream::new();
        attr.append(Ident::new("serde", Span::call_site()));
        attr.append(Group::new(Delimiter::Parenthesis, args));
        tokens.append(Punct::new('#', Spacing::Alone));
        tokens.append(Group::new(Delimiter::Bracket, attr));
    }
}

/// A field's initializer in `new`: the parameter of the same name for a required field
/// (`id: id.into()`, or just `id` where the parameter has the field's own type), `None` for an
/// optional one; written straight into the enclosing tokens.
struct Init {
    field: Ident,
    param: bool,
    into: bool,
}

impl ToTokens for Init {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append(self.field.clone());
        if self.param && !self.into {
            return;
        }
        tokens.append(Punct::new(':', Spacing::Alone));
        if !self.param {
            tokens.append(Ident::new("None", Span::call_site()));
            return;
        }
        tokens.append(self.field.clone());
        tokens.append(Punct::new('.', Spacing::Alone));
        tokens.append(Ident::new("into", Span::call_site()));
        tokens.append(Group::new(Delimiter::Parenthesis, TokenStream::new()));
    }
}

/// Whether a field holds a number: its setter takes the number itself, since `impl Into<u64>`
/// refuses an integer literal (`u64: From<i32>` does not hold, and inference falls back to
/// `i32`).
fn is_number(ty: &FieldTy) -> bool {
    matches!(
        ty,
        FieldTy::Scalar(Scalar::Int64 | Scalar::Uint64 | Scalar::Float)
    )
}

/// The type a constructor or setter takes for a field: the number itself, or `impl Into<T>`.
struct Param<'a>(Ty<'a>);

impl ToTokens for Param<'_> {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        if !is_number(self.0.ty) {
            tokens.append(Ident::new("impl", Span::call_site()));
            tokens.append(Ident::new("Into", Span::call_site()));
            tokens.append(Punct::new('<', Spacing::Alone));
            self.0.to_tokens(tokens);
            tokens.append(Punct::new('>', Spacing::Alone));
        } else {
            self.0.to_tokens(tokens);
        }
    }
}

/// The getter of a field: lists as slices (empty when absent), text as `&str`, numbers and
/// flags by value, enums and structures by reference; `Option` only where the member may be
/// absent from an answer.
fn getter(f: &FieldIr) -> TokenStream {
    let id = ident(&f.ident);
    let name = if matches!(f.ident.as_str(), "new" | "validate" | "validate_into") {
        format_ident!("{}_value", f.ident)
    } else {
        id.clone()
    };
    let wire = &f.wire;
    let (ret, body, doc) = match (&f.ty, f.optional) {
        (FieldTy::List(inner), optional) => {
            let inner = field_ty(inner);
            let body = if optional {
                quote!(self.#id.as_deref().unwrap_or_default())
            } else {
                quote!(&self.#id)
            };
            (
                quote!(&[#inner]),
                body,
                format!("`{wire}`, empty when the answer leaves it out."),
            )
        }
        (FieldTy::Scalar(Scalar::String), true) => (
            quote!(Option<&str>),
            quote!(self.#id.as_deref()),
            format!("`{wire}`, if the answer has it."),
        ),
        (FieldTy::Scalar(Scalar::String), false) => {
            (quote!(&str), quote!(&self.#id), format!("`{wire}`."))
        }
        (FieldTy::Scalar(scalar), true) => {
            let ty = super::scalar_ty(*scalar);
            (
                quote!(Option<#ty>),
                quote!(self.#id),
                format!("`{wire}`, if the answer has it."),
            )
        }
        (FieldTy::Scalar(scalar), false) => {
            let ty = super::scalar_ty(*scalar);
            (quote!(#ty), quote!(self.#id), format!("`{wire}`."))
        }
        (FieldTy::Enum(n) | FieldTy::Struct(n), true) => {
            let ty = ident(n);
            let body = if f.boxed {
                quote!(self.#id.as_deref())
            } else {
                quote!(self.#id.as_ref())
            };
            (
                quote!(Option<&#ty>),
                body,
                format!("`{wire}`, if the answer has it."),
            )
        }
        (FieldTy::Enum(n) | FieldTy::Struct(n), false) => {
            let ty = ident(n);
            (quote!(&#ty), quote!(&self.#id), format!("`{wire}`."))
        }
    };
    let doc = doc_line(&doc);
    // `#[inline]`: not compiled in this crate unless called; a caller compiles the few it uses.
    quote! {
        #[doc = #doc]
        #[inline]
        pub fn #name(&self) -> #ret {
            #body
        }
    }
}

pub(super) fn debug_impl(s: &StructIr) -> TokenStream {
    let name = ident(&s.name);
    let label = &s.name;
    let fields = s.fields.iter().map(|f| {
        let id = ident(&f.ident);
        let label = &f.ident;
        if f.sensitive {
            quote!(.field(#label, &Redacted(&self.#id)))
        } else if f.content {
            quote!(.field(#label, &Elided(&self.#id)))
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

/// The serde derives of a struct: `Serialize` for what requests carry, `Deserialize` for
/// what responses carry. The other direction, which only the workspace's round-trip checks
/// use, exists with the `__roundtrip` feature (in cargo-features mode): compiling serde
/// code no caller runs is most of a build.
pub(super) fn wire_derives(s: &StructIr, gate: &Gate) -> TokenStream {
    let serialize = Ident::new("Serialize", Span::call_site());
    let deserialize = Ident::new("Deserialize", Span::call_site());
    let (always, roundtrip_only) = match (s.output_only, s.input_only) {
        (true, _) => (vec![deserialize], Some(serialize)),
        (false, true) => (vec![serialize], Some(deserialize)),
        (false, false) => (vec![serialize, deserialize], None),
    };
    let roundtrip = Literal::string("__roundtrip");
    let extra = roundtrip_only
        .filter(|_| gate.enabled())
        .map(|extra| quote!(#[cfg_attr(feature = #roundtrip, derive(#extra))]));
    quote! {
        #[derive(#(#always),*)]
        #extra
    }
}
