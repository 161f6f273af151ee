//! Interop: Tencent's official Python SDK and CLI (tccli), pinned, drive the emulator binary
//! and are accepted; a wrong key, an unknown SecretId, a tampered body and a stale timestamp
//! are refused with the service's codes; Python drives the admin API (a fault, a seeded
//! template, a flow signed over HTTP, received calls, an override, reset)
//! (tests/interop/official_clients.py lists the cases).
//!
//! The test builds its Python environment itself the first time
//! (`ess_tests::official_python`: a venv under target/ with the pinned packages from PyPI), so
//! `cargo test` needs only Python 3 with venv and pip; it fails, never skips, when that cannot
//! be done.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const SECRET_ID: &str = "AKIDinteropEmulator0123456789";
const SECRET_KEY: &str = "interop-secret-key-0123456789";

fn venv_bin() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir");
    ess_tests::official_python(target)
}

/// The emulator binary, killed when dropped.
struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_binary() -> Running {
    start_binary_with(&[], Stdio::inherit())
}

/// The binary with the interop key, `env` set and its standard error to `stderr`, once it
/// accepts connections.
fn start_binary_with(env: &[(&str, &str)], stderr: Stdio) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ess-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--secret-id",
            SECRET_ID,
            "--secret-key",
            SECRET_KEY,
        ])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start ess-emulator");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the emulator prints `listening on URL` once it accepts connections");
    Running { child, url }
}

/// Runs `tests/interop/SCRIPT` with the venv's Python; its standard output, once it exited
/// successfully.
fn run_script(bin: &Path, script: &str, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(script);
    let output = Command::new(bin.join("python"))
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    stdout
}

#[test]
fn the_official_python_sdk_and_cli_are_accepted_and_refused_like_by_the_service() {
    let bin = venv_bin();
    let emulator = start_binary();
    assert!(
        emulator.url.starts_with("http://127.0.0.1:"),
        "{}",
        emulator.url
    );
    let tccli = bin.join("tccli");
    let stdout = run_script(
        &bin,
        "official_clients.py",
        &[
            &emulator.url,
            SECRET_ID,
            SECRET_KEY,
            &tccli.to_string_lossy(),
        ],
    );
    assert!(
        stdout.contains("official clients: 20 ok, 0 failing"),
        "{stdout}"
    );
}

#[test]
fn every_official_request_example_sent_by_the_official_sdk_is_well_formed() {
    let bin = venv_bin();
    let emulator = start_binary();
    let stdout = run_script(
        &bin,
        "official_examples.py",
        &[&emulator.url, SECRET_ID, SECRET_KEY],
    );
    // Every example was sent (the pinned tccli carries 367).
    assert!(stdout.contains("367 passed, 0 failed"), "{stdout}");
}

/// The binary's banner up to its demo-flow line, started with `args` and `env`.
fn banner(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ess-emulator"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("ESS_EMULATOR_")) {
        command.env_remove(name);
    }
    let mut child = command
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ess-emulator");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let lines: Vec<String> = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .take_while(|l| !l.starts_with("demo flow"))
            .collect();
        let _ = tx.send(lines.join("\n"));
    });
    let banner = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    banner.expect("the banner")
}

#[test]
fn without_a_key_the_binary_accepts_the_published_test_key_and_says_how_to_use_it() {
    let text = banner(&["--listen", "127.0.0.1:0"], &[]);
    for expected in [
        &format!("ess-emulator {}", env!("CARGO_PKG_VERSION")),
        "listening on http://127.0.0.1:",
        "export ESS_ENDPOINT=http://127.0.0.1:",
        &format!(
            "export TENCENTCLOUD_SECRET_ID={}",
            ess_emulator::TEST_SECRET_ID
        ),
        &format!(
            "export TENCENTCLOUD_SECRET_KEY={}",
            ess_emulator::TEST_SECRET_KEY
        ),
    ] {
        assert!(text.contains(expected), "`{expected}` missing:\n{text}");
    }
    let random = banner(&["--listen", "127.0.0.1:0", "--random-key"], &[]);
    assert!(
        random.contains("export TENCENTCLOUD_SECRET_ID=AKIDemu"),
        "{random}"
    );
}

#[test]
fn the_environment_configures_the_binary_and_a_seed_file_seeds_it() {
    let dir = tempfile_dir();
    let seed = dir.join("seed.json");
    let flow = serde_json::json!({
        "templates": [{"TemplateId": "tpl-1"}],
        "flows": [{"started": true, "request": {
            "Operator": {"UserId": "u-1"},
            "FlowName": "seeded",
            "Approvers": [{"ApproverType": 1, "ApproverName": "a", "ApproverMobile": "13800000000"}]
        }}]
    });
    std::fs::write(&seed, flow.to_string()).unwrap();
    let text = banner(
        &[],
        &[
            ("ESS_EMULATOR_LISTEN", "127.0.0.1:0"),
            ("ESS_EMULATOR_SECRET_ID", "AKIDfromTheEnvironment"),
            ("ESS_EMULATOR_SECRET_KEY", "key-from-the-environment"),
            ("ESS_EMULATOR_SEED", seed.to_str().unwrap()),
        ],
    );
    for expected in [
        "listening on http://127.0.0.1:",
        "seeded flow yD",
        "accepting SecretId AKIDfromTheEnvironment with SecretKey <the SecretKey you gave>",
    ] {
        assert!(text.contains(expected), "`{expected}` missing:\n{text}");
    }
    // The user's own key is theirs: the banner never prints it.
    assert!(!text.contains("key-from-the-environment"), "{text}");
}

/// A fresh directory under the test's temporary directory.
fn tempfile_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("emulator-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_binary_prints_its_version_and_help() {
    let run = |arg: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_ess-emulator"))
            .arg(arg)
            .output()
            .expect("run ess-emulator");
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert_eq!(
        run("--version").trim(),
        format!("ess-emulator {}", env!("CARGO_PKG_VERSION"))
    );
    let help = run("--help");
    assert!(
        help.contains("ESS_EMULATOR_LISTEN") && help.contains("--seed FILE"),
        "{help}"
    );
}

#[test]
fn a_reader_that_stops_reading_is_not_a_crash() {
    // `ess-emulator --help | grep -q ...` closes the pipe after the first match: the write
    // that follows fails with EPIPE, which `println!` would turn into a panic (exit 101).
    for arg in ["--help", "--version"] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_ess-emulator"))
            .arg(arg)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run ess-emulator");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stderr.is_empty(),
            "{arg}: {:?}\n{stderr}",
            output.status
        );
    }
}

#[test]
fn the_binary_explains_its_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_ess-emulator"))
        .args(["--fault", "explode"])
        .output()
        .expect("run ess-emulator");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown fault `explode`") && stderr.contains("usage:"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_request_log_names_each_call_and_never_a_value() {
    let mut running = start_binary_with(&[("ESS_EMULATOR_LOG", "info")], Stdio::piped());
    let mut stderr = running.child.stderr.take().expect("stderr");
    let client = ess_tests::client(&running.url, SECRET_ID, SECRET_KEY);
    let (name, mobile) = ess_emulator::DEMO_PERSON;
    let signer = ess_generated::FlowCreateApprover::new(ess_generated::ApproverType::Person)
        .approver_name(name)
        .approver_mobile(mobile);
    let request = ess_generated::CreateFlowSignUrlRequest::new(ess_emulator::DEMO_FLOW_ID)
        .flow_approver_infos(vec![signer]);
    client.create_flow_sign_url(&request).await.unwrap();
    // Stopped (killed when dropped), its log read to the end.
    drop(running);
    let mut log = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut log).expect("the log");
    let line = log
        .lines()
        .find(|l| l.contains("action=CreateFlowSignUrl"))
        .unwrap_or_else(|| panic!("no line for the call:\n{log}"));
    for field in ["code=ok", "request_id=", "latency_us="] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
    for secret in [SECRET_KEY, name, mobile, "/s/"] {
        assert!(!log.contains(secret), "the log shows {secret}:\n{log}");
    }
}
