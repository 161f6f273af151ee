//! Proc-macro front-end of the ess generator.
//!
//! ```text
//! ess_derive::generate!("spec/ess.yaml");
//! ess_derive::generate!("spec/ess.yaml", actions = ["CreateFlowSignUrl"]);
//! ess_derive::generate!("spec/ess.yaml", cargo_features = true);
//! ```
//!
//! The path is relative to the invoking crate's manifest directory. The expansion opens with
//! the imports the generated items use, so invoke the macro in a module of its own and
//! re-export what you need (`mod api { ess_derive::generate!(..); } pub use api::*;`). All
//! work happens in `ess-codegen`; spec diagnostics become compile errors naming
//! `file:line:col`.

use proc_macro::TokenStream;

mod args;
mod expand;

/// Loads and validates a spec and expands to the client generated from it.
///
/// Options: `actions = ["Name", ...]` generates only those actions (and the types they
/// reach); `cargo_features = true` puts each action behind a cargo feature named after it.
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(input as args::Args);
    expand::generate(&args)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
