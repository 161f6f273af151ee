//! The client and what hangs off the actions: `Action` impls, `ErrorCode`, the `Client`
//! methods, and the round-trip dispatch the workspace's tests use.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{Gate, doc_attrs, doc_line, field_ty, ident};
use crate::ir::{ActionIr, FieldTy, Ir, PaginationIr, WaiterIr};
use crate::spec::{OffsetKind, Scalar};

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

/// `Paginated` for a list action's request, `Waitable` for a waiter's.
pub(super) fn job_impls(a: &ActionIr, gate: &Gate) -> TokenStream {
    let cfg = gate.one(&a.wire);
    let request = ident(&a.request);
    let paging = a.pagination.as_ref().map(|p| {
        let item = field_ty(&p.item);
        let kind = match p.offset {
            OffsetKind::Page => quote!(OffsetKind::Page),
            OffsetKind::Item => quote!(OffsetKind::Item),
        };
        let offset = ident(&p.offset_field.ident);
        let signed = matches!(p.offset_field.ty, FieldTy::Scalar(Scalar::Int64));
        let (read, write) = match (signed, p.offset_field.optional) {
            (true, true) => (
                quote!(self.#offset.map_or(0, |o| u64::try_from(o).unwrap_or(0))),
                quote!(Some(i64::try_from(offset).unwrap_or(i64::MAX))),
            ),
            (true, false) => (
                quote!(u64::try_from(self.#offset).unwrap_or(0)),
                quote!(i64::try_from(offset).unwrap_or(i64::MAX)),
            ),
            (false, true) => (quote!(self.#offset.unwrap_or(0)), quote!(Some(offset))),
            (false, false) => (quote!(self.#offset), quote!(offset)),
        };
        let items = ident(&p.items.ident);
        let (count, into) = if p.items.optional {
            (
                quote!(page.#items.as_ref().map_or(0, Vec::len)),
                quote!(page.#items.unwrap_or_default()),
            )
        } else {
            (quote!(page.#items.len()), quote!(page.#items))
        };
        let total = match &p.total {
            None => quote!(None),
            Some(f) => {
                let total = ident(&f.ident);
                match (f.optional, matches!(f.ty, FieldTy::Scalar(Scalar::Int64))) {
                    (true, true) => quote!(page.#total.and_then(|t| u64::try_from(t).ok())),
                    (true, false) => quote!(page.#total),
                    (false, true) => quote!(u64::try_from(page.#total).ok()),
                    (false, false) => quote!(Some(page.#total)),
                }
            }
        };
        quote! {
            #cfg
            impl Paginated for #request {
                type Item = #item;
                const OFFSET: OffsetKind = #kind;
                fn offset(&self) -> u64 {
                    #read
                }
                fn set_offset(&mut self, offset: u64) {
                    self.#offset = #write;
                }
                fn item_count(page: &Self::Response) -> usize {
                    #count
                }
                fn into_items(page: Self::Response) -> Vec<Self::Item> {
                    #into
                }
                fn total(page: &Self::Response) -> Option<u64> {
                    #total
                }
            }
        }
    });
    let waiter = a.waiter.as_ref().map(|w| {
        let mut chain = quote!(::core::iter::once(answer));
        for step in &w.steps {
            let f = ident(&step.ident);
            chain = match (step.list, step.optional) {
                (true, true) => quote!(#chain.flat_map(|x| x.#f.iter().flatten())),
                (true, false) => quote!(#chain.flat_map(|x| x.#f.iter())),
                (false, true) => quote!(#chain.filter_map(|x| x.#f.as_ref())),
                (false, false) => quote!(#chain.map(|x| &x.#f)),
            };
        }
        let status = ident(&w.status.ident);
        chain = if w.status.optional {
            quote!(#chain.map(|x| x.#status.as_ref()))
        } else {
            quote!(#chain.map(|x| Some(&x.#status)))
        };
        let enumeration = ident(&w.enumeration);
        let arm = |variants: &[String], state: TokenStream| {
            (!variants.is_empty()).then(|| {
                let v = variants.iter().map(|v| ident(v));
                quote!(Some(#(#enumeration::#v)|*) => WaitState::#state,)
            })
        };
        let success = arm(&w.success, quote!(Succeeded));
        let failure = arm(&w.failure, quote!(Failed));
        quote! {
            #cfg
            impl Waitable for #request {
                fn wait_state(answer: &Self::Response) -> WaitState {
                    WaitState::all(#chain.map(|status| match status {
                        #success
                        #failure
                        _ => WaitState::Pending,
                    }))
                }
            }
        }
    });
    quote!(#paging #waiter)
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
        let pages = a.pagination.as_ref().map(|p| pages_method(&cfg, a, p));
        let waiter = a.waiter.as_ref().map(|w| waiter_method(&cfg, a, w));
        quote! {
            #cfg
            #doc
            #deprecated
            pub async fn #method(&self, request: &#request) -> Result<#response, Error<ErrorCode>> {
                call(&self.transport, request).await
            }
            #pages
            #waiter
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

/// `<method>_pages`: a paginator over a list action.
fn pages_method(cfg: &TokenStream, a: &ActionIr, p: &PaginationIr) -> TokenStream {
    let method = ident(&format!("{}_pages", a.method));
    let request = ident(&a.request);
    let counts = match p.offset {
        OffsetKind::Page => "a page index from 0",
        OffsetKind::Item => "items to skip",
    };
    let mut doc = format!(
        "The pages of [`{}`](Self::{}), from the request's `Offset` ({counts}, as upstream documents it): one call per page, each validated, rate-limited and bounded by its own deadline. `.items()` streams the `{}` of every page, `.pages()` the answers, and `next_page()` reads one at a time.\n\nIt stops after an empty page",
        a.wire, a.method, p.items.wire,
    );
    match &p.total {
        Some(total) => doc.push_str(&format!(
            " or once the items received reach `{}`, the total of every page.",
            total.wire
        )),
        None => doc.push_str(
            " (upstream documents no total, so the last page is known by the empty one after it).",
        ),
    }
    let doc = doc_attrs(&doc);
    quote! {
        #cfg
        #doc
        pub fn #method(&self, request: #request) -> Paginator<'_, T, #request> {
            Paginator::new(&self.transport, request)
        }
    }
}

/// `wait_for_<name>`: polls a describe action until its status ends the job.
fn waiter_method(cfg: &TokenStream, a: &ActionIr, w: &WaiterIr) -> TokenStream {
    let method = ident(&format!("wait_for_{}", w.name));
    let request = ident(&a.request);
    let response = ident(&a.response);
    let mut status = String::new();
    for step in &w.steps {
        status.push_str(&step.wire);
        status.push_str(if step.list { "[]." } else { "." });
    }
    status.push_str(&w.status.wire);
    let list = |variants: &[String]| -> String {
        let named: Vec<String> = variants
            .iter()
            .map(|v| format!("[`{0}::{v}`]({0}::{v})", w.enumeration))
            .collect();
        named.join(", ")
    };
    let mut doc = format!(
        "Waits for the job [`{}`](Self::{}) reports on, sending `request` until `{status}` ends it:\n\n- succeeded: {}",
        a.wire,
        a.method,
        list(&w.success),
    );
    if !w.failure.is_empty() {
        doc.push_str(&format!("\n- failed: {}", list(&w.failure)));
    }
    doc.push_str("\n- still running: ");
    if !w.pending.is_empty() {
        doc.push_str(&format!("{}, and ", list(&w.pending)));
    }
    doc.push_str("any value this version does not list");
    if w.steps.iter().any(|s| s.list) {
        doc.push_str("\n\nWith several items in the answer, it succeeds once every one has and fails once any has.");
    }
    doc.push_str("\n\nPolls back off exponentially, with jitter (`options`); the timeout ends the wait with `Error::WaitTimeout`, also in the middle of a poll. A poll that fails ends it with that error.");
    if !w.started_by.is_empty() {
        let starts: Vec<String> = w
            .started_by
            .iter()
            .map(|s| format!("`{s}` (`{}`)", crate::names::snake(s)))
            .collect();
        doc.push_str(&format!(" The job is started by {}.", starts.join(" or ")));
    }
    let doc = doc_attrs(&doc);
    quote! {
        #cfg
        #doc
        pub async fn #method(
            &self,
            request: &#request,
            options: WaitOptions,
        ) -> Result<Waited<#response>, Error<ErrorCode>> {
            wait(&self.transport, request, options).await
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
    let decode_arms = ir.actions.iter().map(|a| {
        let cfg = gate.one(&a.wire);
        let wire = &a.wire;
        let response = ident(&a.response);
        quote! {
            #cfg
            #wire => Some(match ::ess_runtime::decode::<#response>(body) {
                Ok(decoded) => Ok(format!("{decoded:?} {decoded:#?}")),
                Err(error) => Err(format!("{error} {error:?}")),
            }),
        }
    });
    quote! {
        /// Decodes an answer of `action` (`{"Response": ...}`) as a call does, drift repairs
        /// included: its `Debug` output, or the error's `Display` and `Debug`; `None` for an
        /// unknown action. Used to check that neither shows personal data.
        #[cfg(feature = "__roundtrip")]
        #[doc(hidden)]
        pub fn __decode_answer(action: &str, body: &[u8]) -> Option<Result<String, String>> {
            match action {
                #(#decode_arms)*
                _ => {
                    let _ = body;
                    None
                }
            }
        }

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
