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
    let has_sensitive = s.fields.iter().any(|f| f.sensitive);
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
    let required_tys: Vec<Ty> = required.iter().map(|f| full_ty(f)).collect();
    let inits: Vec<Init> = s
        .fields
        .iter()
        .zip(&field_ids)
        .map(|(f, id)| Init((!f.optional).then(|| id.clone())))
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
    let setter_names: Vec<Ident> = optional
        .iter()
        .zip(&setter_ids)
        .map(|(f, id)| {
            if matches!(f.ident.as_str(), "new" | "validate" | "validate_into") {
                format_ident!("with_{}", f.ident)
            } else {
                id.clone()
            }
        })
        .collect();
    let setter_tys: Vec<Ty> = optional
        .iter()
        .map(|f| Ty {
            optional: false,
            ..full_ty(f)
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
                        let doc =
                            doc_line(&format!("`{wire}`, empty when the answer leaves it out."));
                        Some(quote! {
                            #[doc = #doc]
                            pub fn #id(&self) -> &[#inner] {
                                self.#id.as_deref().unwrap_or_default()
                            }
                        })
                    }
                    FieldTy::Scalar(Scalar::String) => {
                        let doc = doc_line(&format!("`{wire}`, if the answer has it."));
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
                pub fn new(#(#required_ids: impl Into<#required_tys>),*) -> Self {
                    Self { #(#field_ids: #inits,)* }
                }
                #(
                    #[doc = #setter_docs]
                    #setter_deprecations
                    pub fn #setter_names(mut self, value: impl Into<#setter_tys>) -> Self {
                        self.#setter_ids = Some(value.into());
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

/// A field's value in `new`: the parameter of the same name for a required field
/// (`id.into()`), `None` for an optional one; written straight into the enclosing tokens.
struct Init(Option<Ident>);

impl ToTokens for Init {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match &self.0 {
            Some(id) => {
                tokens.append(id.clone());
                tokens.append(Punct::new('.', Spacing::Alone));
                tokens.append(Ident::new("into", Span::call_site()));
                tokens.append(Group::new(Delimiter::Parenthesis, TokenStream::new()));
            }
            None => tokens.append(Ident::new("None", Span::call_site())),
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
