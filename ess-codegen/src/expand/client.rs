//! The client and what hangs off the actions: `Action` impls, `ErrorCode`, the `Client`
//! methods, and the round-trip dispatch the workspace's tests use.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{Gate, doc_attrs, doc_line, ident};
use crate::ir::{ActionIr, Ir};

pub(super) fn action_impl(ir: &Ir, a: &ActionIr, gate: &Gate) -> TokenStream {
    let cfg = gate.one(&a.wire);
    let request = ident(&a.request);
    let response = ident(&a.response);
    let wire = &a.wire;
    let (group, production, test) = &a.endpoint;
    let rate = match a.rate_limit {
        Some(r) => quote!(Some(#r)),
        None => quote!(None),
    };
    let retry = a.retry_safe;
    let signing_service = &ir.signing_service;
    let api_version = &ir.api_version;
    let variants = a.errors.iter().map(|&i| ident(&ir.error_codes[i].variant));
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
            type Response = #response;
            type Code = ErrorCode;
        }

        #cfg
        impl #request {
            /// The error codes this action may return.
            pub const ERROR_CODES: &'static [ErrorCode] = &[#(ErrorCode::#variants),*];
        }
    }
}

pub(super) fn error_code_item(ir: &Ir) -> TokenStream {
    let variants: Vec<Ident> = ir.error_codes.iter().map(|e| ident(&e.variant)).collect();
    let codes: Vec<&str> = ir.error_codes.iter().map(|e| e.code.as_str()).collect();
    let docs = codes.iter().map(|c| doc_line(&format!("`{c}`")));
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

pub(super) fn client_item(ir: &Ir, gate: &Gate) -> TokenStream {
    let methods = ir.actions.iter().map(|a| {
        let cfg = gate.one(&a.wire);
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
        doc.push_str(if a.retry_safe {
            "\n- Retried after failures that may have executed (5xx, `InternalError`, a lost connection): a repeat is harmless."
        } else {
            "\n- Never re-sent after a failure that may have executed (5xx, `InternalError`, a lost connection): that could run it twice. Such an error answers `may_have_executed()` with `true`; look the result up before trying again."
        });
        if !a.errors.is_empty() {
            let codes: Vec<String> = a
                .errors
                .iter()
                .map(|&i| format!("`{}`", ir.error_codes[i].code))
                .collect();
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

            /// The same client for calls with their own limits, sharing its connections,
            /// rate limiter and keys: `client.with_options(CallOptions::new().deadline(..))
            /// .upload_files(&request)` for an upload that needs more than the client's
            /// deadline.
            pub fn with_options(&self, options: CallOptions) -> Client<WithOptions<'_, T>> {
                Client::new(WithOptions::new(&self.transport, options))
            }
        }

        impl<T: Transport + Sync> Client<T> {
            #(#methods)*
        }
    }
}

/// Dispatch by action name, for `cargo xtask verify-examples`.
pub(super) fn roundtrip_item(ir: &Ir, gate: &Gate) -> TokenStream {
    let arms = ir.actions.iter().map(|a| {
        let cfg = gate.one(&a.wire);
        let wire = &a.wire;
        let request = ident(&a.request);
        let response = ident(&a.response);
        quote! {
            #cfg
            #wire => Some(if response {
                ::ess_runtime::__private::roundtrip::<#response>(value).map(|v| (v, Vec::new()))
            } else {
                ::ess_runtime::__private::roundtrip_request::<#request>(value)
            }),
        }
    });
    quote! {
        /// Deserializes a request (or response) body of `action` into its generated type and
        /// serializes it back, with what validation refuses in a request; `None` for an
        /// unknown action. Used to check official examples.
        #[cfg(feature = "__roundtrip")]
        #[doc(hidden)]
        pub fn __roundtrip(
            action: &str,
            response: bool,
            value: ::ess_runtime::__private::serde_json::Value,
        ) -> Option<Result<(::ess_runtime::__private::serde_json::Value, Vec<String>), String>> {
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
