//! `cargo xtask bench`: the performance budgets of design.md section 8, measured side by side
//! with their anchors in one run on this machine (ratios, not absolute numbers, are what
//! carries over between runs on shared machines).
//!
//! The runtime part serves a fixed CreateFlowSignUrl answer from nginx on loopback, over
//! https (TLS 1.3, a certificate of a test CA the client trusts as a user would) and then
//! over plain http, and measures `wrk` (the ceiling), our client through the public API
//! (release build), the official Python SDK, peak RSS, and the emulator with 32 clients. The
//! budgets hold for https, the path production takes; plain http is reported. The shared
//! rate limit's cost per acquire on loopback Redis is reported beside the process's own
//! window. `--compile` measures
//! build times against aws-sdk-ssm 1.133 and the generator over the whole spec.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The answer nginx serves: a CreateFlowSignUrl response with one signer (our own data).
const ANSWER: &str = r#"{"Response":{"FlowApproverUrlInfos":[{"SignUrl":"https://essurl.example/s/yD0000000000000000000000000001","ApproverType":1,"ApproverName":"张三","ApproverMobile":"13800000000","LongUrl":"https://quick.example/sign/yD0000000000000000000000000001?FlowId=yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm"}],"RequestId":"2e4c7a52-9d7b-4c5e-8f0e-1a2b3c4d5e6f"}}"#;

/// The request body our client sends for that call, for wrk and the Python SDK to send too.
const REQUEST: &str = r#"{"FlowId":"yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm","FlowApproverInfos":[{"ApproverType":1,"ApproverName":"张三","ApproverMobile":"13800000000"}]}"#;

const PYTHON_PACKAGES: [&str; 2] = [
    "tencentcloud-sdk-python-common==3.1.155",
    "tencentcloud-sdk-python-ess==3.1.155",
];

/// One budget check: what, our figure, the anchor, and whether it holds.
struct Row {
    what: String,
    ess: String,
    anchor: String,
    ratio: String,
    budget: String,
    ok: bool,
}

/// What `cargo xtask bench` measures.
pub(crate) enum Mode {
    /// The runtime budgets (the default).
    Runtime,
    /// Build times (`--compile`).
    Compile,
    /// Only the shared rate limit's cost per acquire (`--limiter`), which the runtime run
    /// also reports.
    Limiter,
}

pub(crate) fn run(root: &Path, mode: Mode) -> Result<ExitCode> {
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let mut rows = Vec::new();
    match mode {
        Mode::Compile => compile_rows(root, &dir, &mut rows)?,
        Mode::Runtime => runtime_rows(root, &dir, &mut rows)?,
        Mode::Limiter => limiter_row(root, &mut rows)?,
    }
    println!("\n{}", table(&rows));
    println!("machine: {}", machine());
    let missed = rows.iter().filter(|r| !r.ok).count();
    if missed > 0 {
        println!("{missed} budget(s) missed");
        Ok(ExitCode::FAILURE)
    } else {
        println!("every budget met");
        Ok(ExitCode::SUCCESS)
    }
}

fn runtime_rows(root: &Path, dir: &Path, rows: &mut Vec<Row>) -> Result<()> {
    ensure_tool("nginx", "nginx-light")?;
    ensure_tool("wrk", "wrk")?;
    println!("building the release client and emulator...");
    cargo(
        root,
        &[
            "build",
            "--release",
            "-q",
            "-p",
            "ess-generated",
            "--example",
            "client_bench",
            "--example",
            "emulator_load",
        ],
    )?;
    cargo(
        root,
        &[
            "build",
            "--release",
            "-q",
            "-p",
            "ess-emulator",
            "--bin",
            "ess-emulator",
        ],
    )?;
    let python = python_venv(root)?;
    let release = root.join("target/release/examples");
    // The path production takes first: https (TLS 1.3) to nginx with a certificate of a
    // test CA that the client trusts the way a user adds a root. Then plain http, reported.
    let ca = TestCa::make(dir)?;
    let https = {
        let nginx = Nginx::start(dir, Some(&ca))?;
        println!("nginx serves a fixed answer at {} (TLS 1.3)", nginx.url);
        leg(root, dir, &release, &python, &nginx.url, Some(&ca.ca_pem))?
    };
    let http = {
        let nginx = Nginx::start(dir, None)?;
        println!("nginx serves a fixed answer at {}", nginx.url);
        leg(root, dir, &release, &python, &nginx.url, None)?
    };
    let emulator = emulator_load(root)?;
    https.rows("https", true, rows);
    http.rows("plain http", false, rows);
    rows.push(Row {
        what: "emulator, 32 clients, verified calls/s".into(),
        ess: format!("{emulator:.0}"),
        anchor: "-".into(),
        ratio: "-".into(),
        budget: ">= 20000".into(),
        ok: emulator >= 20_000.0,
    });
    limiter_row(root, rows)?;
    println!("the callback receiver (cargo bench -p ess-generated --bench callback)...");
    let callback_ms = criterion_ms(
        root,
        "ess-generated",
        "callback",
        "callback_receive_flow_status_change_2_approvers",
    )?;
    let callback_us = callback_ms * 1000.0;
    rows.push(Row {
        what: "callback: verify + decrypt + decode, FlowStatusChange, 2 approvers".into(),
        ess: format!("{callback_us:.1} us"),
        anchor: "-".into(),
        ratio: "-".into(),
        budget: "< 20 us".into(),
        ok: callback_us < 20.0,
    });
    Ok(())
}

/// The figures of one protocol: the anchors, our client, the Python SDK, peak RSS.
struct Leg {
    wrk1: f64,
    wrk32: f64,
    sequential: Load,
    concurrent: Load,
    sequential_ratio: f64,
    concurrent_ratio: f64,
    rss: Load,
    python: Load,
}

/// Runs the anchors, our client and the Python SDK against `url`, trusting `ca` for https.
fn leg(
    root: &Path,
    dir: &Path,
    release: &Path,
    python: &Path,
    url: &str,
    ca: Option<&Path>,
) -> Result<Leg> {
    // The machine is shared and its speed drifts: each round runs an anchor and our client
    // back to back for about as long, the ratio of that pair is the round's figure, and the
    // median round is the result.
    let (mut wrk1, mut wrk32, mut sequential, mut concurrent) = (vec![], vec![], vec![], vec![]);
    for round in 1..=ROUNDS {
        println!("round {round} of {ROUNDS}");
        wrk1.push(wrk(dir, url, 1, 1)?);
        sequential.push(bench_client(release, url, ca, 40_000, 1)?);
        wrk32.push(wrk(dir, url, 2, 32)?);
        concurrent.push(bench_client(release, url, ca, 120_000, 32)?);
    }
    let sequential_ratio = median_ratio(&sequential, &wrk1);
    let concurrent_ratio = median_ratio(&concurrent, &wrk32);
    println!(
        "per-round ratios: sequential {}; 32 in flight {}",
        round_ratios(&sequential, &wrk1),
        round_ratios(&concurrent, &wrk32)
    );
    Ok(Leg {
        wrk1: median(wrk1),
        wrk32: median(wrk32),
        sequential: median_load(sequential),
        concurrent: median_load(concurrent),
        sequential_ratio,
        concurrent_ratio,
        rss: bench_client(release, url, ca, 10_000, 1)?,
        python: python_sdk(root, python, url, ca)?,
    })
}

impl Leg {
    /// The table rows of this leg; budgets hold only where `budgeted` (https).
    fn rows(&self, protocol: &str, budgeted: bool, rows: &mut Vec<Row>) {
        let budget = |text: &str, met: bool| -> (String, bool) {
            if budgeted {
                (text.to_owned(), met)
            } else {
                ("reported".to_owned(), true)
            }
        };
        let sequential_rate = self.sequential.rate();
        let (text, ok) = budget(">= 0.85", self.sequential_ratio >= 0.85);
        rows.push(Row {
            what: format!("{protocol}: sequential calls/s"),
            ess: format!(
                "{sequential_rate:.0} ({:.1} us CPU/call)",
                self.sequential.cpu_us
            ),
            anchor: format!("wrk -t1 -c1: {:.0}", self.wrk1),
            ratio: format!("{:.2}", self.sequential_ratio),
            budget: text,
            ok,
        });
        let (text, ok) = budget(">= 0.6", self.concurrent_ratio >= 0.6);
        rows.push(Row {
            what: format!("{protocol}: 32 in flight, calls/s"),
            ess: format!(
                "{:.0} ({:.1} us CPU/call)",
                self.concurrent.rate(),
                self.concurrent.cpu_us
            ),
            anchor: format!("wrk -t2 -c32: {:.0}", self.wrk32),
            ratio: format!("{:.2}", self.concurrent_ratio),
            budget: text,
            ok,
        });
        let (text, ok) = budget(">= 7x", sequential_rate >= 7.0 * self.python.rate());
        rows.push(Row {
            what: format!("{protocol}: sequential vs the official Python SDK"),
            ess: format!("{sequential_rate:.0}"),
            anchor: format!(
                "Python SDK (keep-alive): {:.0} ({:.0} us CPU/call)",
                self.python.rate(),
                self.python.cpu_us
            ),
            ratio: format!("{:.1}x", sequential_rate / self.python.rate()),
            budget: text,
            ok,
        });
        let rss_mb = self.rss.peak_rss_kib as f64 / 1024.0;
        let (text, ok) = budget("< 20 MB", self.rss.peak_rss_kib > 0 && rss_mb < 20.0);
        rows.push(Row {
            what: format!("{protocol}: peak RSS, 10,000 sequential calls"),
            ess: format!("{rss_mb:.1} MB"),
            anchor: "-".into(),
            ratio: "-".into(),
            budget: text,
            ok,
        });
    }
}

/// A throwaway CA and a certificate it issued for 127.0.0.1 (TLS server auth), made with
/// the openssl command line.
struct TestCa {
    ca_pem: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl TestCa {
    fn make(dir: &Path) -> Result<TestCa> {
        let dir = dir.join("tls");
        std::fs::create_dir_all(&dir)?;
        let path = |name: &str| dir.join(name);
        std::fs::write(
            path("leaf.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )?;
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let steps: [Vec<&str>; 3] = [
            [
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=ess bench CA",
                ],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ]
            .concat(),
            [
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "leaf.key",
                    "-out",
                    "leaf.csr",
                    "-subj",
                    "/CN=127.0.0.1",
                ],
            ]
            .concat(),
            vec![
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "2",
                "-extfile",
                "leaf.ext",
            ],
        ];
        for args in steps {
            let output = Command::new("openssl")
                .args(&args)
                .current_dir(&dir)
                .output()
                .context("running openssl (is it installed?)")?;
            if !output.status.success() {
                bail!(
                    "openssl {} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
        Ok(TestCa {
            ca_pem: path("ca.pem"),
            cert: path("leaf.pem"),
            key: path("leaf.key"),
        })
    }
}

fn compile_rows(root: &Path, dir: &Path, rows: &mut Vec<Row>) -> Result<()> {
    // The generator, as the proc macro runs it (optimized, jemalloc as in rustc, output
    // handed over rather than dropped): criterion's estimate.
    println!("the generator over the whole spec (cargo bench -p ess-codegen)...");
    let generator = criterion_ms(
        root,
        "ess-codegen",
        "spec",
        "load_validate_generate_ess_yaml",
    )?;
    rows.push(Row {
        what: "generator, whole spec (parse, validate, generate; in process)".into(),
        ess: format!("{generator:.1} ms"),
        anchor: "-".into(),
        ratio: "-".into(),
        // No absolute budget (design.md section 8): absolute times vary by host, and the
        // generator's time counts inside the compile ratios below.
        budget: "reported".into(),
        ok: true,
    });

    // The same work inside rustc, as `generate!` runs when ess-generated builds.
    println!("the generator inside rustc (ess-generated's proc macro, dev profile)...");
    let lib = root.join("ess-generated/src/lib.rs");
    let (load, generate) = macro_ms(root, &lib)?;
    rows.push(Row {
        what: "generator inside rustc (proc macro, dev profile)".into(),
        ess: format!(
            "{:.1} ms ({load:.1} load, {generate:.1} generate)",
            load + generate
        ),
        anchor: "-".into(),
        ratio: "-".into(),
        budget: "-".into(),
        ok: true,
    });

    // aws-sdk-ssm 1.133 in a scratch project: its own unit, dependencies built first.
    let ssm = dir.join("ssm");
    std::fs::create_dir_all(ssm.join("src"))?;
    std::fs::write(
        ssm.join("Cargo.toml"),
        "[package]\nname = \"ssm-anchor\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\naws-sdk-ssm = \"=1.133.0\"\n\n[workspace]\n",
    )?;
    std::fs::write(ssm.join("src/lib.rs"), "pub use aws_sdk_ssm;\n")?;
    println!("building aws-sdk-ssm 1.133 and its dependencies (once)...");
    cargo(&ssm, &["build", "-q"])?;
    cargo(&ssm, &["clean", "-q", "-p", "aws-sdk-ssm"])?;
    let ssm_time = unit_time(&ssm, "aws-sdk-ssm", &[], None)?;

    println!("building ess-generated...");
    cargo(root, &["build", "-q", "-p", "ess-generated"])?;
    let all = unit_time(root, "ess-generated", &[], Some(&lib))?;
    let features = [
        "--no-default-features",
        "--features",
        "create-flow-sign-url,rustls-aws-lc-rs",
    ];
    cargo(
        root,
        &[&["build", "-q", "-p", "ess-generated"][..], &features].concat(),
    )?;
    let one = unit_time(root, "ess-generated", &features, Some(&lib))?;
    rows.push(Row {
        what: "ess-generated, all actions (dev, own unit)".into(),
        ess: format!("{all:.2} s"),
        anchor: format!("aws-sdk-ssm 1.133: {ssm_time:.1} s"),
        ratio: format!("1/{:.0}", ssm_time / all),
        budget: "<= 1/17".into(),
        ok: all * 17.0 <= ssm_time,
    });
    rows.push(Row {
        what: "ess-generated, CreateFlowSignUrl only".into(),
        ess: format!("{one:.2} s"),
        anchor: format!("aws-sdk-ssm 1.133: {ssm_time:.1} s"),
        ratio: format!("1/{:.0}", ssm_time / one),
        budget: "<= 1/100".into(),
        ok: one * 100.0 <= ssm_time,
    });
    Ok(())
}

/// The proc macro's own report of loading and generating the whole spec inside rustc
/// (`ESS_DERIVE_TIMINGS`), in milliseconds: the median of five rebuilds of ess-generated.
fn macro_ms(root: &Path, lib: &Path) -> Result<(f64, f64)> {
    let mut runs = Vec::new();
    for _ in 0..5 {
        touch(lib)?;
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "-q", "-p", "ess-generated"])
            .env("ESS_DERIVE_TIMINGS", "1")
            .current_dir(root)
            .output()
            .context("building ess-generated")?;
        let text = String::from_utf8_lossy(&output.stderr);
        let parsed = text.lines().find_map(macro_timings);
        runs.push(parsed.with_context(|| format!("no timings from ess-derive:\n{text}"))?);
    }
    // Cargo replays a fresh unit's stderr: rebuild without the variable so later builds do
    // not print the timings line again.
    touch(lib)?;
    runs.sort_by(|a, b| (a.0 + a.1).total_cmp(&(b.0 + b.1)));
    Ok(runs[runs.len() / 2])
}

/// The load and generate milliseconds of ess-derive's timings line
/// (`ess-derive timings: ess.yaml: loaded and checked in 21.5 ms, generated in 98.0 ms`).
fn macro_timings(line: &str) -> Option<(f64, f64)> {
    let rest = line.split_once("ess-derive timings:")?.1;
    let (load, rest) = rest
        .split_once("loaded and checked in ")?
        .1
        .split_once(" ms")?;
    let generate = rest.split_once("generated in ")?.1.strip_suffix(" ms")?;
    Some((load.parse().ok()?, generate.parse().ok()?))
}

/// The median time of a criterion benchmark, in milliseconds.
fn criterion_ms(root: &Path, package: &str, bench: &str, name: &str) -> Result<f64> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["bench", "-q", "-p", package, "--bench", bench, "--", name])
        .current_dir(root)
        .output()
        .context("running cargo bench")?;
    let text = String::from_utf8_lossy(&output.stdout);
    // `time:   [64.1 ms 65.6 ms 67.2 ms]`: the middle value is the estimate.
    let estimate = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("time:"))
        .and_then(|t| {
            let parts: Vec<&str> = t
                .trim()
                .trim_matches(['[', ']'])
                .split_whitespace()
                .collect();
            let value: f64 = parts.get(2)?.parse().ok()?;
            Some(match *parts.get(3)? {
                "s" => value * 1000.0,
                "ms" => value,
                "µs" | "us" => value / 1000.0,
                _ => return None,
            })
        });
    estimate.with_context(|| format!("no `time:` line from cargo bench:\n{text}"))
}

/// A package's own unit time from cargo's timing report, after touching `touch` (a source
/// of the package) so that only it rebuilds; without it, the unit must be clean already.
fn unit_time(project: &Path, package: &str, extra: &[&str], touch: Option<&Path>) -> Result<f64> {
    if let Some(file) = touch {
        self::touch(file)?;
    }
    cargo(
        project,
        &[&["build", "-q", "--timings", "-p", package][..], extra].concat(),
    )?;
    let report = std::fs::read_to_string(project.join("target/cargo-timings/cargo-timing.html"))?;
    let data = report
        .split_once("const UNIT_DATA = ")
        .and_then(|(_, rest)| rest.split_once("];"))
        .map(|(units, _)| format!("{units}]"))
        .context("no UNIT_DATA in cargo's timing report")?;
    let units: Vec<serde_json::Value> = serde_json::from_str(&data)?;
    units
        .iter()
        .filter(|u| u["name"] == package && u["mode"] != "run-custom-build")
        .filter_map(|u| u["duration"].as_f64())
        .reduce(f64::max)
        .filter(|d| *d > 0.0)
        .with_context(|| format!("`{package}` was not rebuilt"))
}

/// Marks `file` modified now, so cargo rebuilds the package it belongs to.
fn touch(file: &Path) -> Result<()> {
    std::fs::File::options()
        .write(true)
        .open(file)?
        .set_modified(std::time::SystemTime::now())?;
    Ok(())
}

fn cargo(dir: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed", args.join(" "));
    }
    Ok(())
}

/// Installs a Debian package when its tool is missing (and we may), or says what to do.
fn ensure_tool(tool: &str, package: &str) -> Result<()> {
    let present = |t: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if present(tool) {
        return Ok(());
    }
    println!("{tool} is missing: installing the Debian package {package}...");
    let installed = Command::new("sh")
        .args(["-c", &format!("(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {package}) >/dev/null")])
        .status()
        .is_ok_and(|s| s.success());
    if !installed || !present(tool) {
        bail!("`{tool}` is needed: install it (Debian: `apt-get install {package}`) and run again");
    }
    Ok(())
}

/// nginx serving [`ANSWER`] on a free loopback port, stopped when dropped.
struct Nginx {
    child: Child,
    url: String,
}

impl Nginx {
    /// nginx on a free port: https with `tls` (TLS 1.3 only), plain http without.
    fn start(dir: &Path, tls: Option<&TestCa>) -> Result<Nginx> {
        let port = free_port()?;
        let prefix = dir.join(if tls.is_some() {
            "nginx-https"
        } else {
            "nginx"
        });
        std::fs::create_dir_all(prefix.join("logs"))?;
        let p = prefix.display();
        let (listen_tls, tls_conf) = match tls {
            Some(ca) => (
                " ssl",
                format!(
                    "    ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_protocols TLSv1.3;\n",
                    ca.cert.display(),
                    ca.key.display()
                ),
            ),
            None => ("", String::new()),
        };
        let conf = format!(
            "worker_processes auto;\ndaemon off;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  keepalive_requests 10000000;\n  keepalive_timeout 60s;\n\
               client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n  fastcgi_temp_path {p}/fastcgi;\n\
               uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n\
               server {{\n    listen 127.0.0.1:{port}{listen_tls};\n{tls_conf}    location / {{\n      default_type application/json;\n\
                 return 200 '{ANSWER}';\n    }}\n  }}\n}}\n"
        );
        let conf_path = prefix.join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("nginx did not start; see {p}/logs/error.log");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Nginx { child, url })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, so the master stops its workers too (SIGKILL would orphan them).
        let stopped = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// wrk's requests per second, POSTing the same body.
fn wrk(dir: &Path, url: &str, threads: u32, connections: u32) -> Result<f64> {
    let script = dir.join("post.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{REQUEST}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        ),
    )?;
    println!("  wrk -t{threads} -c{connections}...");
    let output = Command::new("wrk")
        .args([
            &format!("-t{threads}"),
            &format!("-c{connections}"),
            "-d2s",
            "-s",
        ])
        .arg(&script)
        .arg(format!("{url}/"))
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))
}

/// Rounds of anchor and client measurements, alternating.
const ROUNDS: usize = 5;

/// The median over rounds of our rate divided by the anchor's in the same round.
fn median_ratio(ours: &[Load], anchor: &[f64]) -> f64 {
    median(ours.iter().zip(anchor).map(|(o, a)| o.rate() / a).collect())
}

fn round_ratios(ours: &[Load], anchor: &[f64]) -> String {
    let ratios: Vec<String> = ours
        .iter()
        .zip(anchor)
        .map(|(o, a)| format!("{:.2}", o.rate() / a))
        .collect();
    ratios.join(" ")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The run with the median rate.
fn median_load(mut runs: Vec<Load>) -> Load {
    runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    runs.swap_remove(runs.len() / 2)
}

/// What a load run reports.
struct Load {
    calls: f64,
    seconds: f64,
    cpu_us: f64,
    peak_rss_kib: u64,
}

impl Load {
    fn rate(&self) -> f64 {
        self.calls / self.seconds
    }
}

fn bench_client(
    release: &Path,
    url: &str,
    ca: Option<&Path>,
    calls: u32,
    in_flight: u32,
) -> Result<Load> {
    println!("  our client: {calls} calls, {in_flight} in flight...");
    let mut command = Command::new(release.join("client_bench"));
    command.args(["--url", url, "--calls", &calls.to_string()]);
    command.args(["--in-flight", &in_flight.to_string()]);
    if let Some(ca) = ca {
        command.arg("--ca").arg(ca);
    }
    run_load(command, "client_bench")
}

/// Runs a load command that prints one line of JSON (calls, seconds, cpu_us_per_call and,
/// optionally, peak_rss_kib).
fn run_load(mut command: Command, what: &str) -> Result<Load> {
    let output = command
        .output()
        .with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let line: serde_json::Value = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("{what} printed no JSON line"))?;
    let number = |key: &str| line[key].as_f64().unwrap_or(0.0);
    Ok(Load {
        calls: number("calls"),
        seconds: number("seconds"),
        cpu_us: number("cpu_us_per_call"),
        peak_rss_kib: line["peak_rss_kib"].as_u64().unwrap_or(0),
    })
}

/// A venv under target/ with the official SDK (created the first time).
fn python_venv(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/py-bench");
    let python = venv.join("bin/python");
    let marker = venv.join("installed.txt");
    let wanted = PYTHON_PACKAGES.join("\n");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return Ok(python);
    }
    println!("creating a Python venv with the official SDK...");
    let ok = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PYTHON_PACKAGES)
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        bail!(
            "cannot create a venv with {PYTHON_PACKAGES:?} (Python 3 with venv and pip, and PyPI, are needed)"
        );
    }
    std::fs::write(&marker, wanted)?;
    Ok(python)
}

fn python_sdk(root: &Path, python: &Path, url: &str, ca: Option<&Path>) -> Result<Load> {
    println!("the official Python SDK: 3000 sequential calls...");
    let mut command = Command::new(python);
    command.arg(root.join("xtask/bench/python_sdk.py"));
    command.args([url, "3000", REQUEST]);
    if let Some(ca) = ca {
        command.arg(ca);
    }
    run_load(command, "the Python SDK run")
}

/// Verified calls per second of the release emulator binary, driven by 32 release clients.
fn emulator_load(root: &Path) -> Result<f64> {
    println!("the emulator, 32 clients...");
    let mut emulator = Command::new(root.join("target/release/ess-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--secret-id",
            "AKIDbench",
            "--secret-key",
            "bench-key",
            "--no-rate-limits",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the emulator")?;
    let stdout = emulator.stdout.take().context("the emulator's stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(30));
    let result = url
        .context("the emulator did not say where it listens")
        .and_then(|url| {
            let output = Command::new(root.join("target/release/examples/emulator_load"))
                .args([
                    "--url",
                    &url,
                    "--secret-id",
                    "AKIDbench",
                    "--secret-key",
                    "bench-key",
                    "--seconds",
                    "5",
                ])
                .output()
                .context("running emulator_load")?;
            let text = String::from_utf8_lossy(&output.stdout);
            text.split("calls/s")
                .next()
                .and_then(|head| head.rsplit(' ').nth(1))
                .and_then(|n| n.parse().ok())
                .with_context(|| format!("no calls/s in:\n{text}"))
        });
    let _ = emulator.kill();
    let _ = emulator.wait();
    result
}

fn limiter_row(root: &Path, rows: &mut Vec<Row>) -> Result<()> {
    let (redis_us, local_us) = limiter_cost(root)?;
    rows.push(Row {
        what: "shared rate limit: one acquire on the Redis limiter (loopback)".into(),
        ess: format!("{redis_us:.1} us"),
        anchor: format!("own window: {local_us:.2} us"),
        ratio: "-".into(),
        budget: "reported".into(),
        ok: true,
    });
    Ok(())
}

/// Microseconds per acquire of the Redis limiter (a redis-server of its own on loopback) and
/// of the process's own window, sequential, none waiting.
fn limiter_cost(root: &Path) -> Result<(f64, f64)> {
    ensure_tool("redis-server", "redis-server")?;
    println!("the shared rate limiter: acquires on loopback Redis...");
    cargo(
        root,
        &[
            "build",
            "--release",
            "-q",
            "-p",
            "ess-runtime",
            "--features",
            "redis",
            "--example",
            "limiter_bench",
        ],
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut redis = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .context("starting redis-server")?;
    let url = format!("redis://127.0.0.1:{port}");
    let mut result = None;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        let output = Command::new(root.join("target/release/examples/limiter_bench"))
            .args([&url, "20000"])
            .output()
            .context("running limiter_bench")?;
        if output.status.success() {
            result = Some(String::from_utf8_lossy(&output.stdout).into_owned());
            break;
        }
    }
    let _ = redis.kill();
    let _ = redis.wait();
    let text = result.context("limiter_bench never reached redis-server")?;
    // "redis 106.1 us, local 0.216 us per acquire (20000 each)"
    let number = |after: &str| -> Option<f64> {
        text.split(after)
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    match (number("redis "), number("local ")) {
        (Some(redis), Some(local)) => Ok((redis, local)),
        _ => bail!("no figures in limiter_bench's output:\n{text}"),
    }
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| measurement | ess | anchor (same run) | ratio | budget | met |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.what,
            r.ess,
            r.anchor,
            r.ratio,
            r.budget,
            if r.ok { "yes" } else { "**no**" }
        );
    }
    out
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {cpu}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_proc_macros_timings_line() {
        // As ess-derive prints it (ess-derive/src/expand.rs).
        let line =
            "ess-derive timings: ess.yaml: loaded and checked in 32.7 ms, generated in 110.4 ms";
        assert_eq!(macro_timings(line), Some((32.7, 110.4)));
        assert_eq!(macro_timings("   Compiling ess-generated v0.1.0"), None);
        assert_eq!(
            macro_timings("ess-derive timings: ess.yaml: loaded and checked in ? ms"),
            None
        );
    }
}
