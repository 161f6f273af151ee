//! One member of a fleet for the Redis limiter's test: bursts CALLS CreateFlowSignUrl calls
//! at an emulator, all at once, pacing them with the Redis limiter at REDIS_URL (shared with
//! the other members) or with this process's own window (`local`), and prints how many
//! succeeded.
//!
//! usage: fleet-member URL SECRET_ID SECRET_KEY FLOW_ID CALLS (REDIS_URL | local)

use std::sync::Arc;

use ess_generated::{Client, Config, CreateFlowSignUrlRequest, Credentials, Endpoint, UrlType};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, secret_id, secret_key, flow_id, calls, limiter] = &args[..] else {
        return Err(
            "usage: fleet-member URL SECRET_ID SECRET_KEY FLOW_ID CALLS (REDIS_URL | local)".into(),
        );
    };
    let calls: usize = calls.parse()?;
    let mut config = Config::builder(Credentials::new(secret_id, secret_key)?)
        .endpoint(Endpoint::Url(url.clone()));
    if limiter != "local" {
        config = config.rate_limiter(Arc::new(ess_runtime::RedisLimiter::new(limiter)?));
    }
    let client = Client::from_config(config.build()?)?;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..calls {
        let client = client.clone();
        let request = CreateFlowSignUrlRequest::new(flow_id.as_str()).url_type(UrlType::Preview);
        tasks.spawn(async move { client.create_flow_sign_url(&request).await.is_ok() });
    }
    let ok = tasks.join_all().await.into_iter().filter(|ok| *ok).count();
    println!("ok {ok} of {calls}");
    Ok(())
}
