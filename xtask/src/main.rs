//! `cargo xtask`: the maintainer commands of ess.
//!
//! - `cargo xtask import [--check] [--from DIR]`: rebuild spec/ess.yaml from the pinned
//!   upstream packages (spec/upstream.toml) and the hand-kept spec/overlay.yaml.

mod api;
mod emit;
mod import;
mod overlay;
mod prose;
mod upstream;
mod yaml;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  import [--check] [--from DIR]   rebuild spec/ess.yaml from spec/upstream.toml and spec/overlay.yaml
                                  --check  fail if the committed spec/ess.yaml is stale
                                  --from   read the pinned wheels from DIR instead of PyPI
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
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => anyhow::bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

/// The workspace root (the parent of this crate's manifest directory).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
