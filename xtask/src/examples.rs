//! `cargo xtask verify-examples [FILE...]`: round-trips official examples through the
//! generated types. Without FILE, the examples.json of the pinned upstream CLI (extracted into
//! the cache). The checking itself is the `verify-examples` binary of `ess-tests`, so xtask
//! never depends on generated code and can always regenerate it.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

use crate::import::Sources;

/// Runs the verifier on `files` (or the pinned upstream examples) and returns its status.
pub(crate) fn run(root: &Path, files: &[PathBuf]) -> Result<ExitCode> {
    let files = if files.is_empty() {
        let sources = Sources::load(root, None)?;
        let path = crate::upstream::cache_dir(root).join("examples.json");
        std::fs::write(&path, sources.examples_text()?)
            .with_context(|| format!("writing {}", path.display()))?;
        vec![path]
    } else {
        files
            .iter()
            .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()))
            .collect()
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--package",
            "ess-tests",
            "--bin",
            "verify-examples",
            "--",
        ])
        .args(&files)
        .status()
        .context("running the verify-examples binary")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
