//! `cargo xtask expand [--action NAME]... [--cargo-features]`: prints the code
//! `ess_derive::generate!` emits for spec/ess.yaml with the same options (the same tokens),
//! formatted with prettyplease. ess-generated uses `--cargo-features`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow};

const SPEC: &str = "spec/ess.yaml";

/// Prints the expansion of the whole spec, or of `actions` with the types they reach.
pub(crate) fn run(root: &Path, actions: &[String], cargo_features: bool) -> Result<ExitCode> {
    print!("{}", expand(root, actions, cargo_features)?);
    Ok(ExitCode::SUCCESS)
}

/// The formatted expansion, as `generate!("spec/ess.yaml", actions = [..], cargo_features = ..)`.
pub(crate) fn expand(root: &Path, actions: &[String], cargo_features: bool) -> Result<String> {
    let text =
        std::fs::read_to_string(root.join(SPEC)).map_err(|e| anyhow!("reading {SPEC}: {e}"))?;
    let spec = ess_codegen::load_str(SPEC, &text).map_err(|d| anyhow!("{d}"))?;
    let options = ess_codegen::Options {
        actions: (!actions.is_empty()).then(|| actions.to_vec()),
        cargo_features,
    };
    let tokens = ess_codegen::generate(&spec, &options).map_err(|unknown| {
        let lines: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        anyhow!("{}", lines.join("\n"))
    })?;
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| anyhow!("generated code does not parse: {e}"))?;
    Ok(prettyplease::unparse(&file))
}
