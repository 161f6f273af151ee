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
    let code = ess_codegen::generate(&spec, &relative).map_err(|diags| {
        let mut errors = diags
            .iter()
            .map(|d| syn::Error::new(path.span(), d.to_string()));
        let mut first = errors.next().expect("diagnostics are never empty");
        first.extend(errors);
        first
    })?;
    let full = full.display().to_string();
    Ok(quote! {
        // Rebuild when the spec changes.
        const _: &str = include_str!(#full);
        #code
    })
}
