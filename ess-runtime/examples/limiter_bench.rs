//! The cost of a shared rate limit: the time of one acquire on the Redis limiter (one
//! script round trip to Redis on loopback) beside the process's own window, sequentially,
//! for `cargo xtask bench`. Limits high enough that no acquire waits.
//!
//! usage: cargo run --release -p ess-runtime --features redis --example limiter_bench -- REDIS_URL ACQUIRES

use std::time::Instant;

use ess_runtime::{LimitKey, Limiter, RateLimiter, RedisLimiter};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, count] = &args[..] else {
        return Err("usage: limiter_bench REDIS_URL ACQUIRES".into());
    };
    let count: u32 = count.parse()?;
    let key = LimitKey {
        account: "0000000000000000000000000000000000000000000000000000000000000000",
        action: "CreateFlowSignUrl",
    };
    // Far above what `count` sequential acquires reach in a second: nothing waits.
    let per_second = 1_000_000;
    let far = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
    let redis = RedisLimiter::new(url)?.prefix(format!("bench:{}", std::process::id()));
    let local = RateLimiter::new();
    // Connects, and warms both.
    Limiter::acquire(&redis, key, per_second, far).await?;
    Limiter::acquire(&local, key, per_second, far).await?;
    let started = Instant::now();
    for _ in 0..count {
        Limiter::acquire(&redis, key, per_second, far).await?;
    }
    let redis_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(count);
    let started = Instant::now();
    for _ in 0..count {
        Limiter::acquire(&local, key, per_second, far).await?;
    }
    let local_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(count);
    println!("redis {redis_us:.1} us, local {local_us:.3} us per acquire ({count} each)");
    Ok(())
}
