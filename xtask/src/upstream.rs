//! The pinned upstream packages (spec/upstream.toml): fetching the wheels from PyPI with pip
//! into a cache under target/, checking their sha256, and reading files out of them.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// spec/upstream.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pins {
    /// The official CLI wheel, which carries api.json and examples.json.
    pub(crate) api: Pin,
    /// The official Python SDK wheel for ess, which carries errorcodes.py.
    pub(crate) errors: Pin,
}

/// One pinned wheel and the files read from it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pin {
    /// PyPI project name.
    pub(crate) package: String,
    /// Exact version.
    pub(crate) version: String,
    /// sha256 of the wheel file.
    pub(crate) sha256: String,
    /// Paths inside the wheel, by role.
    pub(crate) files: std::collections::BTreeMap<String, String>,
}

impl Pin {
    /// `package==version`.
    pub(crate) fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }

    /// The wheel file name prefix, as pip names it (`tencentcloud_sdk_python_ess-3.1.155-`).
    fn wheel_prefix(&self) -> String {
        format!(
            "{}-{}-",
            self.package.replace(['-', '.'], "_"),
            self.version
        )
    }

    /// The path of `role` inside the wheel.
    pub(crate) fn file(&self, role: &str) -> Result<&str> {
        self.files.get(role).map(String::as_str).with_context(|| {
            format!(
                "spec/upstream.toml: [{}] has no `files.{role}`",
                self.package
            )
        })
    }
}

/// A wheel on disk, checked against its pin.
pub(crate) struct Wheel {
    path: PathBuf,
}

impl Wheel {
    /// Reads one file out of the wheel as UTF-8.
    pub(crate) fn read(&self, inner: &str) -> Result<String> {
        let file = fs::File::open(&self.path)
            .with_context(|| format!("opening {}", self.path.display()))?;
        let mut archive = zip::ZipArchive::new(file)
            .with_context(|| format!("reading {}", self.path.display()))?;
        let mut entry = archive
            .by_name(inner)
            .with_context(|| format!("{} has no `{inner}`", self.path.display()))?;
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .with_context(|| format!("reading `{inner}` from {}", self.path.display()))?;
        Ok(text)
    }
}

/// Finds the pinned wheel in `from` (when given) or the cache, downloading it with pip into the
/// cache when missing, and checks its sha256.
pub(crate) fn wheel(pin: &Pin, from: Option<&Path>, cache: &Path) -> Result<Wheel> {
    let path = match from {
        Some(dir) => find_wheel(dir, pin)?
            .with_context(|| format!("no wheel for {} in {}", pin.requirement(), dir.display()))?,
        None => match find_wheel(cache, pin)? {
            Some(path) => path,
            None => download(pin, cache)?,
        },
    };
    let actual = sha256_file(&path)?;
    if !actual.eq_ignore_ascii_case(&pin.sha256) {
        bail!(
            "sha256 mismatch for {} ({}):\n  pinned   {}\n  actual   {actual}\n\
             If the pin is right, the file is corrupt: delete it and run again. If the version was \
             bumped, put the new wheel's sha256 in spec/upstream.toml.",
            pin.requirement(),
            path.display(),
            pin.sha256
        );
    }
    Ok(Wheel { path })
}

fn find_wheel(dir: &Path, pin: &Pin) -> Result<Option<PathBuf>> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let prefix = pin.wheel_prefix();
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
        .collect();
    found.sort();
    Ok(found.into_iter().next())
}

fn download(pin: &Pin, cache: &Path) -> Result<PathBuf> {
    // A staging directory per call: concurrent imports (or tests) never share one, and the
    // final rename into the cache is atomic.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let staging = cache.join(format!(".download-{}-{call}", std::process::id()));
    fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    eprintln!(
        "fetching {} from PyPI (once; cached in {})",
        pin.requirement(),
        cache.display()
    );
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
        ])
        .arg(&staging)
        .arg(pin.requirement())
        .status()
        .with_context(|| {
            format!("running `{python} -m pip download` (is Python with pip installed?)")
        })?;
    if !status.success() {
        bail!(
            "`pip download {}` failed ({status}); use --from DIR with a local copy of the wheel",
            pin.requirement()
        );
    }
    let wheel = find_wheel(&staging, pin)?
        .with_context(|| format!("pip downloaded no wheel named {}*.whl", pin.wheel_prefix()))?;
    let target = cache.join(wheel.file_name().context("wheel has a file name")?);
    fs::rename(&wheel, &target)
        .with_context(|| format!("moving the wheel to {}", target.display()))?;
    fs::remove_dir_all(&staging).ok();
    Ok(target)
}

/// The lowercase hex sha256 of a file.
pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(sha256_hex(&bytes))
}

/// The lowercase hex sha256 of bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Where downloaded wheels are kept between runs.
pub(crate) fn cache_dir(root: &Path) -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("upstream-cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin() -> Pin {
        toml::from_str(
            "package = \"tccli\"\nversion = \"3.1.155.1\"\nsha256 = \"6dee67f262ffc89412dbdf194f6b945148fff0739f185553bb6fedd138d354b4\"\nfiles.api_json = \"x\"\n",
        )
        .unwrap()
    }

    #[test]
    fn a_wheel_whose_sha256_differs_from_the_pin_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("tccli-3.1.155.1-py2.py3-none-any.whl"),
            b"not the real wheel",
        )
        .unwrap();
        let err = wheel(&pin(), Some(dir.path()), dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("sha256 mismatch for tccli==3.1.155.1"),
            "{err}"
        );
        assert!(err.contains(&sha256_hex(b"not the real wheel")), "{err}");
    }

    #[test]
    fn from_dir_without_the_wheel_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = wheel(&pin(), Some(dir.path()), dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no wheel for tccli==3.1.155.1"), "{err}");
    }

    #[test]
    fn wheel_names_follow_pip() {
        let mut p = pin();
        p.package = "tencentcloud-sdk-python-ess".into();
        p.version = "3.1.155".into();
        assert_eq!(p.wheel_prefix(), "tencentcloud_sdk_python_ess-3.1.155-");
    }
}
