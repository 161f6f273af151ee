//! `ess-emulator`: serves a local ESS until interrupted.
//!
//! ```text
//! ess-emulator [--listen 127.0.0.1:PORT] [--secret-id ID --secret-key KEY [--token T]]...
//!              [--fault RULE]... [--clock-offset SECONDS] [--no-demo] [--no-rate-limits]
//!              [--callback-url URL --callback-key KEY [--callback-token T]]...
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use ess_emulator::{
    CallbackTarget, Credential, DEMO_FLOW_ID, DEMO_ORGANIZATION, DEMO_PERSON, Emulator, FaultRule,
};

const USAGE: &str = "\
usage: ess-emulator [--listen ADDR] [--secret-id ID --secret-key KEY [--token TOKEN]]...
                    [--fault RULE]... [--clock-offset SECONDS] [--no-demo] [--no-rate-limits]
                    [--callback-url URL --callback-key KEY [--callback-token TOKEN]]...

  --listen ADDR          address to serve on (default 127.0.0.1:8080; port 0 picks one)
  --secret-id, --secret-key
                         a key pair to accept (repeatable); without one, a key is generated
  --token TOKEN          the previous key pair is temporary: calls must send this X-TC-Token
  --fault RULE           [ACTION=]KIND[@after][*N], KIND one of status:CODE, drop, delay:MS,
                         truncated, html, drift, error:CODE (e.g. CreateFlow=status:502@after*1)
  --clock-offset SECONDS run the emulator's clock ahead (or behind, negative) of this machine's
  --no-demo              do not seed the demo flow
  --no-rate-limits       do not enforce the spec's rate limits
  --callback-url, --callback-key
                         send callbacks (FlowStatusChange) to this http URL, encrypted with
                         this 32-character key (repeatable); ModifyApplicationCallbackInfo
                         registers more at run time
  --callback-token TOKEN the previous callback URL's signatures use this token";

// The server runs on threads of its own; this runtime only waits for Ctrl-C.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let builder = match parse(std::env::args().skip(1)) {
        Ok(Some(builder)) => builder,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let emulator = match builder.start().await {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("error: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let key = &emulator.credentials()[0];
    println!("listening on {}", emulator.url());
    println!(
        "accepting SecretId {} with SecretKey {}",
        key.secret_id, key.secret_key
    );
    println!("point the SDK at it:");
    println!("  export ESS_ENDPOINT={}", emulator.url());
    println!("  export TENCENTCLOUD_SECRET_ID={}", key.secret_id);
    println!("  export TENCENTCLOUD_SECRET_KEY={}", key.secret_key);
    let (person, mobile) = DEMO_PERSON;
    let (employee, employee_mobile, organization) = DEMO_ORGANIZATION;
    println!(
        "demo flow {DEMO_FLOW_ID}: person {person} ({mobile}), employee {employee} ({employee_mobile}) of {organization}"
    );
    tokio::select! {
        _ = emulator.wait() => ExitCode::FAILURE,
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<ess_emulator::Builder>, String> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut builder = Emulator::builder()
        .listen(SocketAddr::from(([127, 0, 0, 1], 8080)))
        .threads(cores);
    let mut pending_id: Option<String> = None;
    let mut credentials: Vec<Credential> = Vec::new();
    let mut seed_demo = true;
    let mut pending_url: Option<String> = None;
    let mut callbacks: Vec<CallbackTarget> = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
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
            "--fault" => builder = builder.fault(value("--fault")?.parse::<FaultRule>()?),
            "--clock-offset" => {
                let text = value("--clock-offset")?;
                let seconds = text
                    .parse()
                    .map_err(|_| format!("`{text}` is not a number of seconds"))?;
                builder = builder.clock_offset(seconds);
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
    for credential in credentials {
        builder = builder.credential(credential);
    }
    Ok(Some(builder.seed_demo(seed_demo)))
}
