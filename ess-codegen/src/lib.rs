//! The ess generator library: the spec model and its validation, and (from the same model)
//! the Rust code of the typed client.
//!
//! Front-ends (the `ess-derive` proc macro and `cargo xtask`) call into this crate; it has no
//! `proc_macro` dependency, so everything here is testable as a normal library.

pub mod expand;
pub mod ir;
pub mod names;
pub mod spec;

pub use spec::{Diagnostic, Diagnostics, Spec, load_file, load_str};

/// Generates the client code for a validated spec (`file` names it in diagnostics).
pub fn generate(spec: &Spec, file: &str) -> Result<proc_macro2::TokenStream, Diagnostics> {
    let ir = ir::build(spec, file)?;
    Ok(expand::expand(&ir))
}
