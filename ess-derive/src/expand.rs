//! Resolves the spec path, runs ess-codegen, and turns diagnostics into compile errors.

use std::path::PathBuf;
use std::time::Instant;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::args::Args;

/// Set (to anything) to print how long loading and generating took, on stderr. Cargo does not
/// track it: touch the invoking crate to see the line again.
const TIMINGS: &str = "ESS_DERIVE_TIMINGS";

pub(crate) fn generate(args: &Args) -> syn::Result<TokenStream> {
    let path = &args.path;
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
    let text = std::fs::read_to_string(&full).map_err(|e| {
        syn::Error::new(
            path.span(),
            format!(
                "cannot read spec `{relative}`: {e} (paths are relative to the crate's Cargo.toml)"
            ),
        )
    })?;
    let started = Instant::now();
    let spec = ess_codegen::load_str(&relative, &text).map_err(|d| to_error(path.span(), &d))?;
    let loaded = started.elapsed();
    let options = ess_codegen::Options {
        actions: args
            .actions
            .as_ref()
            .map(|list| list.iter().map(|a| a.value()).collect()),
        cargo_features: args.cargo_features,
    };
    let code = ess_codegen::generate(&spec, &options).map_err(|unknown| {
        // Each unknown action at its own literal.
        let errors = unknown.iter().map(|action| {
            let span = args
                .actions
                .iter()
                .flatten()
                .find(|lit| lit.value() == action.name)
                .map_or(path.span(), |lit| lit.span());
            let message = format!(
                "{relative}: unknown action `{}`\n= hint: {}",
                action.name, action.hint
            );
            syn::Error::new(span, message)
        });
        combined(path.span(), errors, "unknown action")
    })?;
    if std::env::var_os(TIMINGS).is_some() {
        // One line for `cargo xtask bench --compile`: the generator as users run it, inside
        // rustc, where every token crosses the proc-macro bridge.
        eprintln!(
            "ess-derive timings: {relative}: loaded and checked in {:.1} ms, generated in {:.1} ms",
            loaded.as_secs_f64() * 1e3,
            (started.elapsed() - loaded).as_secs_f64() * 1e3,
        );
    }
    let full = full.display().to_string();
    Ok(quote! {
        // Rebuild when the spec changes.
        const _: &str = include_str!(#full);
        #code
    })
}

/// One compile error per diagnostic, all at `span`.
fn to_error(span: Span, diags: &ess_codegen::Diagnostics) -> syn::Error {
    let errors = diags.iter().map(|d| syn::Error::new(span, d.unlabelled()));
    combined(span, errors, "invalid spec")
}

/// Several errors as one `syn::Error` (each still its own compile error); `fallback` at
/// `span` when there are none.
fn combined(
    span: Span,
    errors: impl IntoIterator<Item = syn::Error>,
    fallback: &str,
) -> syn::Error {
    let mut errors = errors.into_iter();
    let mut first = errors
        .next()
        .unwrap_or_else(|| syn::Error::new(span, fallback));
    first.extend(errors);
    first
}
