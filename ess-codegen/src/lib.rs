//! The ess generator library: the spec model and its validation, and (from the same model)
//! the Rust code of the typed client.
//!
//! [`load_str`] (or [`load_file`]) parses and validates a spec into a [`Validated`] one;
//! [`generate`] turns that into tokens. Front-ends (the `ess-derive` proc macro and
//! `cargo xtask`) call these two; the crate has no `proc_macro` dependency, so everything here
//! is testable as a normal library.

mod expand;
mod ir;
pub mod names;
pub mod spec;

use std::fmt;

pub use spec::{Diagnostic, Diagnostics, Spec, Validated, load_file, load_str};

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these actions (and the types they reach); all when `None`.
    pub actions: Option<Vec<String>>,
    /// Put each action's items behind a cargo feature named after it (`create-flow-sign-url`),
    /// and each type behind the features of the actions that reach it.
    pub cargo_features: bool,
}

/// An action that [`Options::actions`] names and the spec does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAction {
    /// The name as given.
    pub name: String,
    /// The closest action the spec has, or where to look.
    pub hint: String,
}

impl fmt::Display for UnknownAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown action `{}` ({})", self.name, self.hint)
    }
}

impl std::error::Error for UnknownAction {}

/// Generates the client code for a validated spec. The only failure is an action in
/// `options.actions` that the spec does not have; every one is returned.
pub fn generate(
    spec: &Validated,
    options: &Options,
) -> Result<proc_macro2::TokenStream, Vec<UnknownAction>> {
    let mut ir = ir::build(spec);
    if let Some(actions) = &options.actions {
        let names: Vec<&str> = actions.iter().map(String::as_str).collect();
        let unknown = ir.retain_actions(&names);
        if !unknown.is_empty() {
            return Err(unknown
                .into_iter()
                .map(|name| {
                    let names = spec.actions.iter().map(|(k, _)| k.as_str());
                    let hint =
                        spec::suggest(&name, names, "see the actions under `actions:` in the spec");
                    UnknownAction { name, hint }
                })
                .collect());
        }
    }
    Ok(expand::expand(&ir, options.cargo_features))
}
