//! A rate limiter a fleet of processes shares, on Redis: the same sliding window as
//! [`RateLimiter`] (at most N starts in any one second), kept in one sorted set per account
//! and action and decided by one atomic script on Redis's own clock, so every process that
//! points at the same Redis spends one budget.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::rate_limit::{Acquire, LimitKey, Limiter, LimiterError, RateLimiter};

/// The key prefix when none is configured.
pub const DEFAULT_PREFIX: &str = "ess:rate";
/// How long one Redis round trip (or connection attempt) may take by default.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// Under Redis's clock: drop the starts a window old, admit if fewer than the limit remain
/// (recording this start), else say how many milliseconds until the oldest leaves.
/// KEYS[1] the set; ARGV limit, window in ms, a unique member.
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
";

/// What a [`RedisLimiter`] does when Redis does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenUnavailable {
    /// Count in this process's own window instead (the default), logging it once: calls
    /// keep flowing, at up to the fleet's size times the limit.
    #[default]
    FallBack,
    /// Fail the call with [`Error::RateLimiter`](crate::Error::RateLimiter); nothing is sent.
    Fail,
}

/// A [`Limiter`] on Redis, shared by every process that uses the same Redis and prefix.
/// Connects on first use (on the caller's runtime) and reconnects by itself.
#[derive(Debug)]
pub struct RedisLimiter {
    client: redis::Client,
    connection: OnceCell<redis::aio::ConnectionManager>,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    when_unavailable: WhenUnavailable,
    local: RateLimiter,
    warned: AtomicBool,
}

impl RedisLimiter {
    /// A limiter on the Redis at `url` (`redis://127.0.0.1:6379`); nothing is connected yet.
    /// The URL is checked here; a bad one is an error that does not echo it (it may hold a
    /// password).
    pub fn new(url: &str) -> Result<RedisLimiter, LimiterError> {
        let client = redis::Client::open(url)
            .map_err(|e| LimiterError(format!("the Redis URL is unusable ({:?})", e.kind())))?;
        Ok(RedisLimiter {
            client,
            connection: OnceCell::new(),
            script: redis::Script::new(SCRIPT),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_REDIS_TIMEOUT,
            when_unavailable: WhenUnavailable::default(),
            local: RateLimiter::new(),
            warned: AtomicBool::new(false),
        })
    }

    /// Keys are `PREFIX:ACCOUNT:ACTION` ([`DEFAULT_PREFIX`] by default): one prefix per
    /// fleet that shares a budget.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a Redis round trip may take before Redis counts as unavailable
    /// ([`DEFAULT_REDIS_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What to do when Redis does not answer ([`WhenUnavailable::FallBack`] by default).
    pub fn when_unavailable(mut self, policy: WhenUnavailable) -> Self {
        self.when_unavailable = policy;
        self
    }

    async fn connection(&self) -> Result<redis::aio::ConnectionManager, redis::RedisError> {
        self.connection
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1);
                redis::aio::ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await
            .cloned()
    }

    /// Milliseconds to wait before asking again, 0 when the start is granted.
    async fn ask(&self, key: &str, per_second: u32) -> Result<u64, redis::RedisError> {
        let mut connection = self.connection().await?;
        let member = format!("{}-{}", fastrand::u64(..), fastrand::u64(..));
        let mut invocation = self.script.key(key);
        invocation.arg(per_second).arg(1000u32).arg(member);
        // The response timeout bounds the round trip; this bounds a reconnect too.
        match tokio::time::timeout(self.timeout * 2, invocation.invoke_async(&mut connection)).await
        {
            Ok(answer) => answer,
            Err(_) => Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "no answer in time",
            ))),
        }
    }
}

impl Limiter for RedisLimiter {
    fn acquire<'a>(&'a self, key: LimitKey<'a>, per_second: u32) -> Acquire<'a> {
        Box::pin(async move {
            if per_second == 0 {
                return Ok(());
            }
            let name = format!("{}:{}:{}", self.prefix, key.account, key.action);
            loop {
                let answer = self.ask(&name, per_second).await;
                if answer.is_ok() && self.warned.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis rate limiter answers again: counting for the fleet");
                }
                match answer {
                    Ok(0) => return Ok(()),
                    // A start leaves the window in `wait` ms; the caller's deadline bounds
                    // the loop (it drops this future).
                    Ok(wait) => tokio::time::sleep(Duration::from_millis(wait)).await,
                    Err(e) => {
                        let kind = e.kind();
                        return match self.when_unavailable {
                            WhenUnavailable::Fail => {
                                Err(LimiterError(format!("Redis did not answer ({kind:?})")))
                            }
                            WhenUnavailable::FallBack => {
                                if !self.warned.swap(true, Ordering::Relaxed) {
                                    tracing::warn!(
                                        error_kind = ?kind,
                                        "Redis rate limiter unavailable: counting in this process only"
                                    );
                                }
                                self.local.acquire(key.action, per_second).await;
                                Ok(())
                            }
                        };
                    }
                }
            }
        })
    }
}
