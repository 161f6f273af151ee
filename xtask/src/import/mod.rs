//! `cargo xtask import`: upstream api.json + errorcodes.py + spec/overlay.yaml -> spec/ess.yaml.
//!
//! The spec is built in memory as the same model ess-codegen reads: upstream facts carry no
//! position, overlay facts carry their overlay.yaml position, so validation of the merged
//! model points at the overlay line to fix (`merge`). The written text is loaded back as a
//! last check, and compared with the committed spec for the change report.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use ess_codegen::spec::{Diagnostics, Span, Spanned, Spec, parse_yaml, validate};

mod merge;
#[cfg(test)]
mod tests;

use crate::api::{parse_api, parse_error_codes};
use crate::overlay::Overlay;
use crate::presence::Presence;
use crate::upstream::{self, Pins};
use crate::{changes, emit, prose};
use merge::merge;

/// Command-line options.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// Compare instead of writing.
    pub(crate) check: bool,
    /// Read the pinned wheels from here instead of the cache/PyPI.
    pub(crate) from: Option<PathBuf>,
}

const OVERLAY: &str = "spec/overlay.yaml";
const PINS: &str = "spec/upstream.toml";
const SPEC: &str = "spec/ess.yaml";
const GENERATED_MANIFEST: &str = "ess-generated/Cargo.toml";
/// Where the change report goes, for pasting into a changelog or pull request.
const CHANGES: &str = "target/spec-changes.md";

/// Values upstream writes where it has no example.
const NO_EXAMPLE: &[&str] = &["", "无", "null", "None"];

/// Runs the import.
pub(crate) fn run(root: &Path, options: &Options) -> Result<ExitCode> {
    let sources = Sources::load(root, options.from.as_deref())?;
    let text = generate(&sources)?;
    let spec = ess_codegen::load_str(SPEC, &text).map_err(report)?;
    report_changes(root, &spec, &text)?;
    let manifest_path = root.join(GENERATED_MANIFEST);
    let manifest = fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {GENERATED_MANIFEST}"))?;
    let outputs = [
        (SPEC, root.join(SPEC), text),
        (
            GENERATED_MANIFEST,
            manifest_path,
            crate::features::manifest_with_features(&manifest, &spec),
        ),
    ];
    let mut stale = false;
    for (name, path, expected) in &outputs {
        let current = fs::read_to_string(path).unwrap_or_default();
        if current == *expected {
            println!("{name} is up to date ({})", sources.summary());
        } else if options.check {
            stale = true;
            eprintln!(
                "{name} is stale: it differs from what spec/upstream.toml and {OVERLAY} produce."
            );
            if let Some((line, old, new)) = first_difference(&current, expected) {
                eprintln!(
                    "first difference at line {line}:\n  committed: {old}\n  expected:  {new}"
                );
            }
        } else {
            fs::write(path, expected).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {name} ({})", sources.summary());
        }
    }
    if stale {
        eprintln!("run `cargo xtask import` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints what the new spec changes for users, and writes it to [`CHANGES`].
fn report_changes(root: &Path, spec: &Spec, text: &str) -> Result<()> {
    let committed = fs::read_to_string(root.join(SPEC)).unwrap_or_default();
    if committed == text {
        return Ok(());
    }
    let Ok(old) = ess_codegen::load_str(SPEC, &committed) else {
        println!("the committed {SPEC} does not load, so there is no change report");
        return Ok(());
    };
    let markdown = changes::diff(&old, spec).markdown();
    print!("{markdown}");
    let path = root.join(CHANGES);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(&path, &markdown).with_context(|| format!("writing {CHANGES}"))?;
    println!("(the change report is in {CHANGES})");
    Ok(())
}

/// Everything import reads.
pub(crate) struct Sources {
    pins: Pins,
    pins_text: String,
    overlay_text: String,
    api_text: String,
    error_codes_text: String,
    examples_json: Option<String>,
}

impl Sources {
    /// Reads the pins and overlay from `root` and the pinned upstream files.
    pub(crate) fn load(root: &Path, from: Option<&Path>) -> Result<Sources> {
        let pins_text =
            fs::read_to_string(root.join(PINS)).with_context(|| format!("reading {PINS}"))?;
        let pins: Pins = toml::from_str(&pins_text).with_context(|| format!("parsing {PINS}"))?;
        let overlay_text =
            fs::read_to_string(root.join(OVERLAY)).with_context(|| format!("reading {OVERLAY}"))?;
        let cache = upstream::cache_dir(root);
        let api_wheel = upstream::wheel(&pins.api, from, &cache)?;
        let api_text = api_wheel.read(pins.api.file("api_json")?)?;
        let examples_json = match pins.api.files.get("examples_json") {
            Some(path) => Some(api_wheel.read(path)?),
            None => None,
        };
        let errors_wheel = upstream::wheel(&pins.errors, from, &cache)?;
        let error_codes_text = errors_wheel.read(pins.errors.file("error_codes")?)?;
        Ok(Sources {
            pins,
            pins_text,
            overlay_text,
            api_text,
            error_codes_text,
            examples_json,
        })
    }

    /// The pinned CLI's examples.json.
    pub(crate) fn examples_text(&self) -> Result<String> {
        self.examples_json
            .clone()
            .context("the pinned CLI wheel has no examples.json")
    }

    fn summary(&self) -> String {
        format!(
            "from {} and {}",
            self.pins.api.requirement(),
            self.pins.errors.requirement()
        )
    }
}

/// Builds the text of spec/ess.yaml.
pub(crate) fn generate(sources: &Sources) -> Result<String> {
    let api = parse_api(&sources.api_text)?;
    let service_codes = parse_error_codes(&sources.error_codes_text)?;
    let overlay: Overlay = parse_yaml(OVERLAY, &sources.overlay_text).map_err(report)?;
    let upstream_names = vec![
        sources.pins.api.requirement(),
        sources.pins.errors.requirement(),
    ];
    let presence = Presence::count(&api, sources.examples_json.as_deref())?;
    let spec = merge(&api, service_codes, overlay, upstream_names, &presence)?;

    let mut diags = validate(&spec, OVERLAY);
    for d in &mut diags {
        if d.line == 0 {
            d.file = format!("upstream api.json ({})", sources.pins.api.requirement());
        }
    }
    if !diags.is_empty() {
        return Err(report(Diagnostics(diags)));
    }

    let header = vec![
        "Generated by `cargo xtask import`; do not edit by hand.".to_owned(),
        format!("Edit {OVERLAY} (our facts and docs) or {PINS} (pinned upstream), then re-run it."),
        format!(
            "Inputs: {PINS} sha256 {}",
            upstream::sha256_hex(sources.pins_text.as_bytes())
        ),
        format!(
            "        {OVERLAY} sha256 {}",
            upstream::sha256_hex(sources.overlay_text.as_bytes())
        ),
    ];
    let text = emit::spec_text(&spec, &header);

    let leaks = prose::leaks(&api, &sources.overlay_text);
    if !leaks.is_empty() {
        bail!(
            "the generated spec would copy upstream prose ({} fragments), e.g.:\n  {}\nwrite our own words in {OVERLAY} instead",
            leaks.len(),
            leaks
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    if let Err(diags) = ess_codegen::load_str(SPEC, &text) {
        bail!("internal error: the written spec does not load back:\n{diags}");
    }
    Ok(text)
}

fn report(diags: Diagnostics) -> anyhow::Error {
    anyhow::anyhow!("{diags}")
}

fn sp<T>(value: T) -> Spanned<T> {
    Spanned::new(Span::new_blank(), value)
}

/// The first line where `old` and `new` differ: its number and both versions.
fn first_difference<'a>(old: &'a str, new: &'a str) -> Option<(usize, &'a str, &'a str)> {
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    for n in 1.. {
        match (old_lines.next(), new_lines.next()) {
            (None, None) => return None,
            (a, b) if a != b => {
                return Some((
                    n,
                    a.unwrap_or("<end of file>"),
                    b.unwrap_or("<end of file>"),
                ));
            }
            _ => {}
        }
    }
    None
}
