//! `ess-emulator`: serves a local ESS until interrupted. `ess-emulator --help` lists every
//! flag and the `ESS_EMULATOR_*` variables that set them.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use ess_emulator::{
    CallbackTarget, Credential, DEMO_FLOW_ID, DEMO_ORGANIZATION, DEMO_PERSON, Emulator, FaultRule,
    TEST_SECRET_ID, TEST_SECRET_KEY,
};
use serde_json::Value;

const USAGE: &str = "\
usage: ess-emulator [OPTIONS]

A local stand-in for the Tencent e-sign API (ess 2020-11-11) for tests. Every option can
also come from the environment variable named beside it (the command line wins; a
repeatable option's variable adds one value before the command line's).

  --listen ADDR            ESS_EMULATOR_LISTEN        address to serve on
                                                      (default 127.0.0.1:8080; port 0 picks one)
  --secret-id ID           ESS_EMULATOR_SECRET_ID     a key pair to accept (repeatable);
  --secret-key KEY         ESS_EMULATOR_SECRET_KEY    without one, the published test key
                                                      (SecretId TEST_ID, SecretKey TEST_KEY)
  --token TOKEN            ESS_EMULATOR_TOKEN         the previous key pair is temporary:
                                                      calls must send this X-TC-Token
  --random-key                                        accept a fresh random key instead of
                                                      the published test key
  --fault RULE             ESS_EMULATOR_FAULTS        [ACTION=]KIND[@after][*N], KIND one of
                                                      status:CODE, drop, delay:MS, truncated,
                                                      html, drift, error:CODE (repeatable; the
                                                      variable takes rules separated by commas)
  --clock-offset SECONDS   ESS_EMULATOR_CLOCK_OFFSET  run the business clock (deadlines, link
                                                      expiry) ahead (or behind, negative), at
                                                      most 100 years; signatures still check
                                                      against real time
  --clock-skew SECONDS     ESS_EMULATOR_CLOCK_SKEW    skew the service clock that signatures
                                                      and Date use (to test skew recovery)
  --seed FILE              ESS_EMULATOR_SEED          JSON file of templates and flows to seed:
                                                      {\"templates\": [TemplateInfo...],
                                                       \"flows\": [{\"request\": CreateFlow body,
                                                                   \"started\": true}...]}
  --no-demo                ESS_EMULATOR_DEMO=off      do not seed the demo flow
  --no-rate-limits         ESS_EMULATOR_RATE_LIMITS=off
                                                      do not enforce the spec's rate limits
  --admin on|off           ESS_EMULATOR_ADMIN         serve the admin API under /_emulator/
                                                      (default: on when listening on loopback)
  --idle-timeout SECONDS   ESS_EMULATOR_IDLE_TIMEOUT  close a connection that sends no request
                                                      headers (or body) for this long (default 60)
  --threads N              ESS_EMULATOR_THREADS       worker threads (default: one per core)
  --callback-url URL       ESS_EMULATOR_CALLBACK_URL  send callbacks (FlowStatusChange) to this
  --callback-key KEY       ESS_EMULATOR_CALLBACK_KEY  http URL, encrypted with this 32-character
                                                      key (repeatable); ModifyApplicationCallbackInfo
                                                      registers more at run time
  --callback-token TOKEN   ESS_EMULATOR_CALLBACK_TOKEN
                                                      the previous callback URL's signatures use
                                                      this token
                           ESS_EMULATOR_LOG=info      log each call to stderr: action, code,
                                                      RequestId and latency (never a body, key
                                                      or header value); off by default
  -V, --version                                       print the version
  -h, --help                                          print this help";

/// Each variable and the flag it stands for (valued flags; the switches are below).
const VARIABLES: &[(&str, &str)] = &[
    ("ESS_EMULATOR_LISTEN", "--listen"),
    ("ESS_EMULATOR_SECRET_ID", "--secret-id"),
    ("ESS_EMULATOR_SECRET_KEY", "--secret-key"),
    ("ESS_EMULATOR_TOKEN", "--token"),
    ("ESS_EMULATOR_CLOCK_OFFSET", "--clock-offset"),
    ("ESS_EMULATOR_CLOCK_SKEW", "--clock-skew"),
    ("ESS_EMULATOR_SEED", "--seed"),
    ("ESS_EMULATOR_ADMIN", "--admin"),
    ("ESS_EMULATOR_IDLE_TIMEOUT", "--idle-timeout"),
    ("ESS_EMULATOR_THREADS", "--threads"),
    ("ESS_EMULATOR_CALLBACK_URL", "--callback-url"),
    ("ESS_EMULATOR_CALLBACK_KEY", "--callback-key"),
    ("ESS_EMULATOR_CALLBACK_TOKEN", "--callback-token"),
];

/// The arguments the environment stands for, in the order the flags need.
fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    for (name, flag) in VARIABLES {
        if let Some(value) = var(name) {
            args.extend([(*flag).to_owned(), value]);
        }
    }
    if let Some(rules) = var("ESS_EMULATOR_FAULTS") {
        for rule in rules.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            args.extend(["--fault".to_owned(), rule.to_owned()]);
        }
    }
    for (name, flag) in [
        ("ESS_EMULATOR_DEMO", "--no-demo"),
        ("ESS_EMULATOR_RATE_LIMITS", "--no-rate-limits"),
    ] {
        match var(name).as_deref() {
            None | Some("on") => {}
            Some("off") => args.push(flag.to_owned()),
            Some(other) => return Err(format!("{name} is `on` or `off`, not `{other}`")),
        }
    }
    Ok(args)
}

/// What the command line asks for.
enum Command {
    /// Serve: the emulator, the seed file, and whether the key was the user's own (never
    /// printed) rather than the published or a freshly drawn one (printed for use).
    Serve(Box<ess_emulator::Builder>, Option<String>, bool),
    Help,
    Version,
}

fn usage() -> String {
    USAGE
        .replace("TEST_ID", TEST_SECRET_ID)
        .replace("TEST_KEY", TEST_SECRET_KEY)
}

// The server runs on threads of its own; this runtime only waits for Ctrl-C.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = from_env(|name| std::env::var(name).ok())
        .map(|mut args| {
            args.extend(std::env::args().skip(1));
            args
        })
        .and_then(|args| parse(args.into_iter()));
    let (builder, seed, own_key) = match args {
        Ok(Command::Serve(builder, seed, own_key)) => (*builder, seed, own_key),
        Ok(Command::Help) => return answered(say(format_args!("{}", usage()))),
        Ok(Command::Version) => {
            return answered(say(format_args!(
                "ess-emulator {}",
                env!("CARGO_PKG_VERSION")
            )));
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    if std::env::var("ESS_EMULATOR_LOG").is_ok_and(|v| v.eq_ignore_ascii_case("info")) {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::INFO)
            .with_target(false)
            .init();
    }
    let emulator = match builder.start().await {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = seed
        && let Err(e) = seed_from(&emulator, &path)
    {
        eprintln!("error: cannot seed from {path}: {e}");
        return ExitCode::FAILURE;
    }
    let key = &emulator.credentials()[0];
    // A key the user gave is theirs to keep: never printed (terminals and CI logs keep
    // what they show). The published test key and a drawn one are printed to be used.
    let secret = if own_key {
        "<the SecretKey you gave>"
    } else {
        key.secret_key.as_str()
    };
    // A banner nobody reads (stdout closed) does not stop the serving.
    let _ = say(format_args!(
        "ess-emulator {version}\n\
         listening on {url}\n\
         accepting SecretId {id} with SecretKey {secret}\n\
         point the SDK at it:\n  \
         export ESS_ENDPOINT={url}\n  \
         export TENCENTCLOUD_SECRET_ID={id}\n  \
         export TENCENTCLOUD_SECRET_KEY={secret}",
        version = env!("CARGO_PKG_VERSION"),
        url = emulator.url(),
        id = key.secret_id,
    ));
    if emulator.flow(DEMO_FLOW_ID).is_some() {
        let (person, mobile) = DEMO_PERSON;
        let (employee, employee_mobile, organization) = DEMO_ORGANIZATION;
        let _ = say(format_args!(
            "demo flow {DEMO_FLOW_ID}: person {person} ({mobile}), employee {employee} ({employee_mobile}) of {organization}"
        ));
    }
    tokio::select! {
        _ = emulator.wait() => ExitCode::FAILURE,
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}

/// Writes one line to standard output. Unlike `println!`, a reader that went away
/// (`--help | grep -q ...`, `| head -1`) is an error to handle, not a panic.
fn say(text: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_fmt(text)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The exit status of a command that only prints: a reader that stopped reading once it had
/// what it wanted is success; any other failure to write is not.
fn answered(written: std::io::Result<()>) -> ExitCode {
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Seeds the templates and flows of a seed file (see `--seed`).
fn seed_from(emulator: &Emulator, path: &str) -> Result<(), String> {
    const MAX_SEED_BYTES: u64 = 16 * 1024 * 1024;
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_SEED_BYTES {
        return Err(format!("the file is over {MAX_SEED_BYTES} bytes"));
    }
    let text = std::fs::read(path).map_err(|e| e.to_string())?;
    let seed: Value = serde_json::from_slice(&text).map_err(|e| format!("not JSON: {e}"))?;
    let list = |key: &str| {
        seed.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for (i, template) in list("templates").iter().enumerate() {
        emulator
            .seed_template(template)
            .map_err(|e| format!("templates[{i}]: {e}"))?;
    }
    for (i, flow) in list("flows").iter().enumerate() {
        let started = flow.get("started").and_then(Value::as_bool) == Some(true);
        let request = flow.get("request").cloned().unwrap_or(Value::Null);
        let seeded = emulator
            .seed_flow(&request, started)
            .map_err(|e| format!("flows[{i}]: {e}"))?;
        let _ = say(format_args!("seeded flow {}", seeded.flow_id));
    }
    Ok(())
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut builder = Emulator::builder()
        .listen(SocketAddr::from(([127, 0, 0, 1], 8080)))
        .threads(cores);
    let mut pending_id: Option<String> = None;
    let mut credentials: Vec<Credential> = Vec::new();
    let mut random_key = false;
    let mut seed_demo = true;
    let mut seed = None;
    let mut pending_url: Option<String> = None;
    let mut callbacks: Vec<CallbackTarget> = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--listen" => {
                let text = value("--listen")?;
                let addr = text
                    .parse()
                    .map_err(|_| format!("`{text}` is not an address like 127.0.0.1:8080"))?;
                builder = builder.listen(addr);
            }
            "--secret-id" => pending_id = Some(value("--secret-id")?),
            "--secret-key" => {
                let key = value("--secret-key")?;
                let id = pending_id
                    .take()
                    .ok_or("--secret-key must follow --secret-id")?;
                credentials.push(Credential::new(id, key));
            }
            "--token" => {
                let token = value("--token")?;
                let last = credentials
                    .last_mut()
                    .ok_or("--token must follow --secret-id and --secret-key")?;
                last.token = Some(token);
            }
            "--random-key" => random_key = true,
            "--fault" => builder = builder.fault(value("--fault")?.parse::<FaultRule>()?),
            flag @ ("--clock-offset" | "--clock-skew") => {
                let text = value(flag)?;
                let seconds: i64 = text
                    .parse()
                    .map_err(|_| format!("`{text}` is not a number of seconds"))?;
                ess_emulator::check_clock_offset(seconds).map_err(|e| format!("{flag}: {e}"))?;
                builder = if flag == "--clock-offset" {
                    builder.clock_offset(seconds)
                } else {
                    builder.clock_skew(seconds)
                };
            }
            "--seed" => seed = Some(value("--seed")?),
            "--admin" => {
                builder = match value("--admin")?.as_str() {
                    "on" => builder.admin(true),
                    "off" => builder.admin(false),
                    other => return Err(format!("--admin takes on or off, not `{other}`")),
                }
            }
            "--idle-timeout" => {
                let text = value("--idle-timeout")?;
                let seconds: u64 = text
                    .parse()
                    .ok()
                    .filter(|s| (1..=3600).contains(s))
                    .ok_or_else(|| {
                        format!("--idle-timeout takes 1 to 3600 seconds, not `{text}`")
                    })?;
                builder = builder.idle_timeout(Duration::from_secs(seconds));
            }
            "--threads" => {
                let text = value("--threads")?;
                let threads: usize = text
                    .parse()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or_else(|| format!("--threads takes 1 to 256, not `{text}`"))?;
                builder = builder.threads(threads);
            }
            "--callback-url" => pending_url = Some(value("--callback-url")?),
            "--callback-key" => {
                let key = value("--callback-key")?;
                if key.len() != ess_runtime::callback::KEY_LEN {
                    return Err("--callback-key takes 32 characters (an AES-256 key)".to_owned());
                }
                let url = pending_url
                    .take()
                    .ok_or("--callback-key must follow --callback-url")?;
                callbacks.push(CallbackTarget::new(url, key));
            }
            "--callback-token" => {
                let token = value("--callback-token")?;
                let last = callbacks
                    .pop()
                    .ok_or("--callback-token must follow --callback-url and --callback-key")?;
                callbacks.push(last.token(token));
            }
            "--no-demo" => seed_demo = false,
            "--no-rate-limits" => builder = builder.rate_limits(false),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if pending_id.is_some() {
        return Err("--secret-id needs a --secret-key after it".to_owned());
    }
    if pending_url.is_some() {
        return Err("--callback-url needs a --callback-key after it".to_owned());
    }
    for target in callbacks {
        builder = builder.callback(target);
    }
    let own_key = !credentials.is_empty();
    if credentials.is_empty() {
        credentials.push(if random_key {
            Credential::generate()
        } else {
            Credential::test_default()
        });
    }
    for credential in credentials {
        builder = builder.credential(credential);
    }
    Ok(Command::Serve(
        Box::new(builder.seed_demo(seed_demo)),
        seed,
        own_key,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn the_environment_stands_for_flags_before_the_command_line() {
        let env = |name: &str| match name {
            "ESS_EMULATOR_LISTEN" => Some("127.0.0.1:0".to_owned()),
            "ESS_EMULATOR_FAULTS" => Some("CreateFlow=drop*1, delay:5".to_owned()),
            "ESS_EMULATOR_DEMO" => Some("off".to_owned()),
            _ => None,
        };
        let args = from_env(env).unwrap();
        assert_eq!(
            args,
            [
                "--listen",
                "127.0.0.1:0",
                "--fault",
                "CreateFlow=drop*1",
                "--fault",
                "delay:5",
                "--no-demo"
            ]
        );
        let bad = |name: &str| (name == "ESS_EMULATOR_RATE_LIMITS").then(|| "maybe".to_owned());
        assert!(
            from_env(bad)
                .unwrap_err()
                .contains("ESS_EMULATOR_RATE_LIMITS")
        );
    }

    #[test]
    fn bad_values_get_clear_errors() {
        for (args, says) in [
            (&["--clock-offset", "99999999999999"][..], "out of range"),
            (
                &["--clock-offset", "9223372036854775807"][..],
                "out of range",
            ),
            (
                &["--clock-skew", "-9223372036854775808"][..],
                "out of range",
            ),
            (&["--idle-timeout", "0"][..], "1 to 3600"),
            (&["--admin", "yes"][..], "on or off"),
            (&["--secret-key", "k"][..], "must follow --secret-id"),
            (&["--fault", "delay:99999999"][..], "at most"),
        ] {
            let Err(e) = parsed(args) else {
                panic!("{args:?} parsed")
            };
            assert!(e.contains(says), "{args:?}: {e}");
        }
        assert!(matches!(parsed(&["--help"]), Ok(Command::Help)));
        assert!(matches!(parsed(&["-V"]), Ok(Command::Version)));
        assert!(matches!(parsed(&[]), Ok(Command::Serve(..))));
    }

    #[test]
    fn the_help_names_every_flag_and_variable() {
        let help = usage();
        for (variable, flag) in VARIABLES {
            assert!(help.contains(variable), "{variable}");
            assert!(help.contains(flag), "{flag}");
        }
        for name in [
            "ESS_EMULATOR_FAULTS",
            "ESS_EMULATOR_DEMO",
            "ESS_EMULATOR_RATE_LIMITS",
            "--random-key",
            TEST_SECRET_ID,
            TEST_SECRET_KEY,
        ] {
            assert!(help.contains(name), "{name}");
        }
    }
}
