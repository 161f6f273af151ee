//! Compile tests: every snapshot of generated code compiles (so a broken expansion cannot be
//! blessed), and every diagnostic of the `generate!` macro is a compile error with a clear
//! message (`tests/ui/*.rs` with their `.stderr`).

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// trybuild builds the cases in its own project; the macro reads specs relative to that
/// project's manifest, so the spec fixtures are copied next to it.
fn trybuild_project() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .expect("target dir")
        .join("tests/trybuild/ess-tests")
}

#[test]
fn snapshots_of_generated_code_compile() {
    let snapshots = root().join("../ess-codegen/tests/snapshots");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("expanded");
    fs::create_dir_all(&out).unwrap();
    let t = trybuild::TestCases::new();
    // An insta snapshot: a `---` header block, then the content.
    let body = |path: &Path| -> String {
        let text = fs::read_to_string(path).unwrap();
        text.splitn(3, "---\n")
            .nth(2)
            .expect("insta header")
            .to_owned()
    };
    // The actions' snapshots leave out what they share, which has a snapshot of its own.
    let common = body(&snapshots.join("snapshots__shared.snap"));
    let mut count = 0;
    for entry in fs::read_dir(&snapshots).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "snap") {
            continue;
        }
        let name = path
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace("snapshots__", "");
        let shared = match name.as_str() {
            "shared" => continue,
            // A fixture spec, expanded whole.
            "shapes" => "",
            _ => common.as_str(),
        };
        let file = out.join(format!("{name}.rs"));
        fs::write(
            &file,
            format!(
                "#![allow(dead_code, unused)]\n{shared}\n{}\nfn main() {{}}\n",
                body(&path)
            ),
        )
        .unwrap();
        t.pass(&file);
        count += 1;
    }
    assert!(
        count >= 7,
        "expected the snapshots of ess-codegen, found {count}"
    );
}

#[test]
fn macro_diagnostics() {
    let specs = trybuild_project().join("specs");
    fs::create_dir_all(&specs).unwrap();
    for dir in [
        root().join("ui-specs"),
        root().join("../ess-codegen/tests/fixtures/bad"),
    ] {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            fs::copy(&path, specs.join(path.file_name().unwrap())).unwrap();
        }
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
