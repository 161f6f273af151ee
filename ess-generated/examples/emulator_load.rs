//! Measures the emulator's throughput: `--clients` separately built clients (32 by default)
//! each make DescribeFlowInfo calls back to back, signed by the client and verified by the
//! emulator, for `--seconds` seconds. Build it in release:
//!
//! ```text
//! cargo run --release -p ess-generated --example emulator_load -- [--clients 32] [--seconds 10]
//!     [--url URL --secret-id ID --secret-key KEY]
//! ```
//!
//! Without `--url` the emulator runs in this process (sharing its cores with the clients,
//! as it would in a user's test).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ess_generated::{Client, Config, Credentials, DescribeFlowInfoRequest, Endpoint};

mod support {
    pub(crate) mod proc_stats;
}

use support::proc_stats::cpu_seconds;

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

#[tokio::main]
async fn main() -> Result<()> {
    let mut clients = 32usize;
    let mut seconds = 10u64;
    let (mut url, mut secret_id, mut secret_key) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--clients" => clients = value.parse()?,
            "--seconds" => seconds = value.parse()?,
            "--url" => url = Some(value),
            "--secret-id" => secret_id = Some(value),
            "--secret-key" => secret_key = Some(value),
            _ => return Err(format!("unknown argument {arg}").into()),
        }
    }
    let mut local = None;
    let (url, secret_id, secret_key) = match (url, secret_id, secret_key) {
        (Some(u), Some(i), Some(k)) => (u, i, k),
        (None, None, None) => {
            let emulator = ess_emulator::Emulator::start().await?;
            let key = emulator.credentials()[0].clone();
            let url = emulator.url().to_owned();
            local = Some(emulator);
            (url, key.secret_id, key.secret_key)
        }
        _ => return Err("give all of --url, --secret-id and --secret-key, or none".into()),
    };
    let calls = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        // The emulator's capacity is measured, not the client's pacing (DescribeFlowInfo's
        // documented limit is 50 a second; the emulator runs with its limits off too).
        let config = Config::builder(Credentials::new(&secret_id, &secret_key)?)
            .endpoint(Endpoint::Url(url.clone()))
            .rate_limit(false)
            .build()?;
        let client = Client::from_config(config)?;
        let (calls, stop) = (calls.clone(), stop.clone());
        tasks.spawn(async move {
            let request = DescribeFlowInfoRequest::new()
                .flow_ids(vec![ess_emulator::DEMO_FLOW_ID.to_owned()]);
            while !stop.load(Ordering::Relaxed) {
                client.describe_flow_info(&request).await?;
                calls.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, ess_generated::Error>(())
        });
    }
    // Warm up (connections, caches), then measure.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start_calls, started, start_cpu) =
        (calls.load(Ordering::Relaxed), Instant::now(), cpu_seconds());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let done = calls.load(Ordering::Relaxed) - start_calls;
    let (elapsed, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - start_cpu);
    stop.store(true, Ordering::Relaxed);
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    let rate = done as f64 / elapsed;
    println!(
        "{clients} clients, {done} verified calls in {elapsed:.1} s: {rate:.0} calls/s, {:.1} us of CPU per call (this process{})",
        cpu / done as f64 * 1e6,
        if local.is_some() {
            ", emulator included"
        } else {
            ""
        }
    );
    if let Some(emulator) = local {
        emulator.stop().await;
    }
    Ok(())
}
