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

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these actions (and the types they reach); all when `None`.
    pub actions: Option<Vec<String>>,
    /// Put each action's items behind a cargo feature named after it (`create-flow-sign-url`),
    /// and each type behind the features of the actions that reach it.
    pub cargo_features: bool,
}

/// Generates the client code for a validated spec (`file` names it in diagnostics).
pub fn generate(
    spec: &Spec,
    file: &str,
    options: &Options,
) -> Result<proc_macro2::TokenStream, Diagnostics> {
    let mut ir = ir::build(spec, file)?;
    if let Some(actions) = &options.actions {
        let names: Vec<&str> = actions.iter().map(String::as_str).collect();
        let unknown = ir.retain_actions(&names);
        if !unknown.is_empty() {
            let diags = unknown
                .iter()
                .map(|name| {
                    let names = spec.actions.iter().map(|(k, _)| k.as_str());
                    let hint =
                        spec::suggest(name, names, "see the actions under `actions:` in the spec");
                    Diagnostic::new(file, 0, 0, format!("unknown action `{name}`")).with_hint(hint)
                })
                .collect();
            return Err(Diagnostics(diags));
        }
    }
    Ok(expand::expand(&ir, options.cargo_features))
}
