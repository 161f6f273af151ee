//! Resolves the spec path, runs ess-codegen, and turns diagnostics into `syn::Error`s.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn generate(path: &syn::LitStr) -> syn::Result<TokenStream> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or_else(|| {
            syn::Error::new(
                path.span(),
                "CARGO_MANIFEST_DIR is not set; run through cargo",
            )
        })?;
    let relative = path.value();
    let full = manifest_dir.join(&relative);
    let text = std::fs::read_to_string(&full)
        .map_err(|e| syn::Error::new(path.span(), format!("cannot read spec `{relative}`: {e}")))?;
    let spec = ess_codegen::load_str(&relative, &text).map_err(|diags| {
        let mut errors = diags
            .iter()
            .map(|d| syn::Error::new(path.span(), d.to_string()));
        let mut first = errors.next().expect("diagnostics are never empty");
        first.extend(errors);
        first
    })?;
    let full = full.display().to_string();
    let service = spec.service.name.as_str();
    let api_version = spec.service.api_version.as_str();
    let actions = spec.actions.iter().map(|(name, _)| name.as_str());
    Ok(quote! {
        // Rebuild when the spec changes.
        const _: &str = include_str!(#full);

        /// Short name of the service.
        pub const SERVICE: &str = #service;
        /// API version sent with every request.
        pub const API_VERSION: &str = #api_version;
        /// Every action of the spec, by wire name.
        pub const ACTIONS: &[&str] = &[#(#actions),*];
    })
}
