//! Structures: the struct with its serde attributes and field docs, constructors and
//! setters for what callers build, accessors for what they read, and a redacting `Debug`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::checks::validate_impl;
use super::{Gate, doc_attrs, doc_line, field_ty, full_ty, ident};
use crate::ir::{FieldIr, FieldTy, Ir, StructIr};
use crate::names;
use crate::spec::Scalar;

/// A field's rustdoc: our words, then the facts (whether callers must set it, bounds, default,
/// sensitivity). Output-only structures leave out "Required" and "Optional": callers read them.
pub(super) fn field_doc(f: &FieldIr, output_only: bool) -> TokenStream {
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
            args.push(quote!(skip_serializing_if = #is_none));
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
        let doc = doc_line(&format!("Sets `{wire}`."));
        quote! {
            #[doc = #doc]
            pub fn #setter(mut self, value: impl Into<#inner>) -> Self {
                self.#id = Some(value.into());
                self
            }
        }
    });
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
    let serialize = quote!(Serialize);
    let deserialize = quote!(Deserialize);
    let (always, roundtrip_only) = match (s.output_only, s.input_only) {
        (true, _) => (deserialize, Some(serialize)),
        (false, true) => (serialize, Some(deserialize)),
        (false, false) => (quote!(#serialize, #deserialize), None),
    };
    let extra = roundtrip_only
        .filter(|_| gate.enabled())
        .map(|extra| quote!(#[cfg_attr(feature = "__roundtrip", derive(#extra))]));
    quote! {
        #[derive(#always)]
        #extra
    }
}
