//! Enumerations: the enum with its unknown-value variant, its wire conversions and its
//! serde impls (through the runtime's macro).

use proc_macro2::{Ident, TokenStream};
use quote::{ToTokens, quote};

use super::{doc_attrs, ident, literal, scalar_ty};
use crate::ir::EnumIr;
use crate::spec::Scalar;

/// An enumeration and its impls, each behind `cfg` (the features of the actions that use it).
pub(super) fn enum_item(e: &EnumIr, cfg: &TokenStream) -> TokenStream {
    let name = ident(&e.name);
    let doc = doc_attrs(e.doc.as_deref().unwrap_or("An enumeration of the ess API."));
    let raw = scalar_ty(e.scalar).into_token_stream();
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
                #[inline]
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
                #[inline]
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
            #[inline]
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
