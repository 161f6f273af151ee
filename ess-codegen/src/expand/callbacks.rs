//! The callback events: `CallbackEvent`, a variant per MsgType of the spec holding its typed
//! data (or its raw JSON where the spec gives no data type), and `Unknown` for the rest, with
//! the runtime's `CallbackEvent` trait so `CallbackKeys::receive` decodes into it.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Gate, doc_attrs, ident};
use crate::ir::{CALLBACKS, Ir};

/// The `CallbackEvent` enum and its impls; nothing when the spec has no callbacks.
pub(super) fn callback_event_item(ir: &Ir, gate: &Gate) -> TokenStream {
    if ir.callbacks.is_empty() {
        return TokenStream::new();
    }
    let cfg = gate.any(std::iter::once(CALLBACKS));
    let variants = ir.callbacks.iter().map(|c| {
        let variant = ident(&c.wire);
        let mut text = c
            .doc
            .clone()
            .unwrap_or_else(|| format!("A `{}` event.", c.wire));
        if c.deprecated {
            text.push_str("\n\nDeprecated upstream.");
        }
        if c.data.is_none() {
            text.push_str("\n\nIts data's members are not documented: kept as raw JSON.");
        }
        let docs = doc_attrs(&text);
        match &c.data {
            Some(data) => {
                let data = ident(data);
                quote!(#docs #variant(Box<#data>),)
            }
            None => quote!(#docs #variant(::ess_runtime::callback::RawEvent),),
        }
    });
    let arms = ir.callbacks.iter().map(|c| {
        let variant = ident(&c.wire);
        let wire = &c.wire;
        match &c.data {
            Some(_) => quote! {
                #wire => Self::#variant(Box::new(::ess_runtime::callback::decode_data(data)?)),
            },
            None => quote! {
                #wire => Self::#variant(::ess_runtime::callback::RawEvent::new(data)?),
            },
        }
    });
    let names = ir.callbacks.iter().map(|c| {
        let variant = ident(&c.wire);
        let wire = &c.wire;
        quote!(Self::#variant(_) => #wire,)
    });
    quote! {
        /// An event ESS posted to one of the application's callback URLs, decoded by
        /// [`CallbackKeys::receive`](::ess_runtime::callback::CallbackKeys::receive). One
        /// variant per MsgType the spec knows; [`Unknown`](Self::Unknown) keeps any other
        /// with its data as raw JSON, so a MsgType Tencent adds never fails a receiver.
        #cfg
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum CallbackEvent {
            #(#variants)*
            /// A MsgType this crate does not know.
            Unknown {
                /// The MsgType as sent.
                msg_type: String,
                /// Its data.
                data: ::ess_runtime::callback::RawEvent,
            },
        }

        #cfg
        impl CallbackEvent {
            /// The MsgType as sent.
            pub fn msg_type(&self) -> &str {
                match self {
                    #(#names)*
                    Self::Unknown { msg_type, .. } => msg_type,
                }
            }
        }

        #cfg
        impl ::ess_runtime::callback::CallbackEvent for CallbackEvent {
            fn decode(
                msg_type: &str,
                data: &str,
            ) -> Result<Self, ::ess_runtime::callback::CallbackError> {
                Ok(match msg_type {
                    #(#arms)*
                    _ => Self::Unknown {
                        msg_type: msg_type.to_owned(),
                        data: ::ess_runtime::callback::RawEvent::new(data)?,
                    },
                })
            }
        }
    }
}
