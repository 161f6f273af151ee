//! `cargo xtask`: the maintainer commands of ess.
//!
//! - `cargo xtask import [--check] [--from DIR]`: rebuild spec/ess.yaml from the pinned
//!   upstream packages (spec/upstream.toml) and the hand-kept spec/overlay.yaml, and report
//!   what changed for users (target/spec-changes.md).
//! - `cargo xtask expand [--action NAME]... [--cargo-features]`: print the generated code.
//! - `cargo xtask verify-examples [FILE...]`: round-trip official examples through the types.
//! - `cargo xtask bench [--compile | --limiter]`: the performance budgets, measured against
//!   their anchors (`--limiter`: only the shared rate limit's cost per acquire).
//! - `cargo xtask coverage [--list]`: doc and personal-data classification coverage of the spec.

mod api;
mod bench;
mod changes;
mod coverage;
mod emit;
mod examples;
mod expand;
mod features;
mod import;
mod overlay;
mod presence;
mod privacy;
mod prose;
mod upstream;
mod values;
mod yaml;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  import [--check] [--from DIR]   rebuild spec/ess.yaml from spec/upstream.toml and spec/overlay.yaml
                                  --check  fail if the committed spec/ess.yaml is stale
                                  --from   read the pinned wheels from DIR instead of PyPI
  expand [--action NAME]... [--cargo-features]
                                  print the code ess_derive::generate! emits from spec/ess.yaml with
                                  the same options (formatted); ess-generated uses --cargo-features
  verify-examples [FILE...]       round-trip the official examples (default: the pinned upstream
                                  examples.json) through the generated types
  bench [--compile | --limiter]   measure the performance budgets (design.md section 8) side by
                                  side with their anchors (nginx + wrk, the official Python SDK;
                                  with --compile: aws-sdk-ssm 1.133); exits 1 if one is missed;
                                  --limiter: only the Redis limiter's cost per acquire
  coverage [--list]               how much of spec/ess.yaml is documented and classified; fails
                                  below spec/coverage.toml; --list names what is missing
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return Ok(ExitCode::FAILURE);
    };
    match command.as_str() {
        "import" => {
            let mut options = import::Options::default();
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                match arg.as_str() {
                    "--check" => options.check = true,
                    "--from" => {
                        let dir = rest
                            .next()
                            .ok_or_else(|| anyhow::anyhow!("--from needs a directory"))?;
                        options.from = Some(PathBuf::from(dir));
                    }
                    other => anyhow::bail!("unknown option `{other}` for import\n\n{USAGE}"),
                }
            }
            import::run(&workspace_root(), &options)
        }
        "expand" => {
            let mut actions = Vec::new();
            let mut cargo_features = false;
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                match arg.as_str() {
                    "--action" => {
                        let name = rest
                            .next()
                            .ok_or_else(|| anyhow::anyhow!("--action needs an action name"))?;
                        actions.push(name.clone());
                    }
                    "--cargo-features" => cargo_features = true,
                    other => anyhow::bail!("unknown option `{other}` for expand\n\n{USAGE}"),
                }
            }
            expand::run(&workspace_root(), &actions, cargo_features)
        }
        "verify-examples" => {
            let files: Vec<PathBuf> = rest.iter().map(PathBuf::from).collect();
            if let Some(flag) = files.iter().find(|f| f.to_string_lossy().starts_with('-')) {
                anyhow::bail!(
                    "unknown option `{}` for verify-examples\n\n{USAGE}",
                    flag.display()
                );
            }
            examples::run(&workspace_root(), &files)
        }
        "bench" => {
            let mode = match rest {
                [] => bench::Mode::Runtime,
                [flag] if flag == "--compile" => bench::Mode::Compile,
                [flag] if flag == "--limiter" => bench::Mode::Limiter,
                _ => anyhow::bail!("usage: cargo xtask bench [--compile | --limiter]\n\n{USAGE}"),
            };
            bench::run(&workspace_root(), mode)
        }
        "coverage" => {
            let list = one_flag(rest, "coverage", "--list")?;
            coverage::run(&workspace_root(), list)
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => anyhow::bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

/// Arguments of a command that takes at most `flag`: whether it was given.
fn one_flag(rest: &[String], command: &str, flag: &str) -> anyhow::Result<bool> {
    match rest {
        [] => Ok(false),
        [arg] if arg == flag => Ok(true),
        _ => anyhow::bail!("usage: cargo xtask {command} [{flag}]\n\n{USAGE}"),
    }
}

/// The workspace root (the parent of this crate's manifest directory).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
