//! Proc-macro front-end of the ess generator: `ess_derive::generate!("spec/ess.yaml")`.
//!
//! The path is relative to the invoking crate's manifest directory. All work happens in
//! `ess-codegen`; spec diagnostics become compile errors naming `file:line:col`.

use proc_macro::TokenStream;

mod expand;

/// Loads and validates a spec and expands to the items generated from it.
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    let path = syn::parse_macro_input!(input as syn::LitStr);
    expand::generate(&path)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
