//! Measures the client through its public API: CreateFlowSignUrl with one signer, signed and
//! validated, the client-side rate limiter off, against a fixed-response server at `--url`.
//! `cargo xtask bench` runs it in release; by hand:
//!
//! ```text
//! cargo run --release -p ess-generated --example client_bench -- --url URL \
//!     [--calls 20000] [--in-flight 1] [--secret-id ID --secret-key KEY] [--ca CA.pem]
//! ```
//!
//! `--ca` trusts a test CA for an https URL the way a user adds a root
//! (`ConfigBuilder::add_root_certificates_pem`).
//!
//! ```text
//! ```
//!
//! One call in flight runs on a current-thread runtime (like `wrk -t1 -c1`, one event loop);
//! more run on the multi-thread runtime. It prints one line of JSON: calls, seconds, calls
//! per second, CPU microseconds per call and peak RSS in KiB (from /proc; 0 where that is
//! unavailable).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ess_generated::{
    ApproverType, Client, Config, CreateFlowSignUrlRequest, Credentials, Endpoint,
    FlowCreateApprover, RetryPolicy,
};

mod support {
    pub(crate) mod proc_stats;
}

use support::proc_stats::{cpu_seconds, peak_rss_kib};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn main() -> Result<()> {
    let in_flight = std::env::args()
        .skip_while(|a| a != "--in-flight")
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1);
    let runtime = if in_flight <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(bench())
}

async fn bench() -> Result<()> {
    let (mut url, mut calls, mut in_flight, mut ca) = (None, 20_000usize, 1usize, None);
    let (mut secret_id, mut secret_key) = ("AKIDbench".to_owned(), "bench-secret-key".to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--url" => url = Some(value),
            "--calls" => calls = value.parse()?,
            "--in-flight" => in_flight = value.parse::<usize>()?.max(1),
            "--secret-id" => secret_id = value,
            "--secret-key" => secret_key = value,
            "--ca" => ca = Some(std::fs::read(&value)?),
            _ => return Err(format!("unknown argument {arg}").into()),
        }
    }
    let url = url.ok_or("give --url")?;
    let mut config = Config::builder(Credentials::new(secret_id, secret_key)?)
        .endpoint(Endpoint::Url(url))
        .rate_limit(false)
        .retry(RetryPolicy::none());
    if let Some(pem) = ca {
        config = config.add_root_certificates_pem(pem);
    }
    let config = config.build()?;
    let client = Client::from_config(config)?;
    let request = Arc::new(
        CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm").flow_approver_infos(
            vec![
                FlowCreateApprover::new(ApproverType::Person)
                    .approver_name("张三")
                    .approver_mobile("13800000000"),
            ],
        ),
    );
    // Warm up: connections, caches, allocator.
    for _ in 0..200.min(calls) {
        client.create_flow_sign_url(&request).await?;
    }
    let left = Arc::new(AtomicUsize::new(calls));
    let (started, cpu_before) = (Instant::now(), cpu_seconds());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let (client, request, left) = (client.clone(), request.clone(), left.clone());
        workers.spawn(async move {
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                client.create_flow_sign_url(&request).await?;
            }
            Ok::<_, ess_generated::Error>(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    println!(
        "{{\"calls\":{calls},\"in_flight\":{in_flight},\"seconds\":{seconds:.3},\"calls_per_second\":{:.0},\"cpu_us_per_call\":{:.2},\"peak_rss_kib\":{}}}",
        calls as f64 / seconds,
        cpu / calls as f64 * 1e6,
        peak_rss_kib()
    );
    Ok(())
}
