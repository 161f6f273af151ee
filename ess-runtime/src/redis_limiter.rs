//! A rate limiter a fleet of processes shares, on Redis: the same sliding window as
//! [`RateLimiter`] (at most N starts in any one second), kept in one sorted set per account
//! and action and decided by one atomic script on Redis's own clock, so every process that
//! points at the same Redis spends one budget.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::rate_limit::{Acquire, LimitKey, Limiter, LimiterError, RateLimiter};

/// The key prefix when none is configured.
pub const DEFAULT_PREFIX: &str = "ess:rate";
/// How long one Redis round trip (or connection attempt) may take by default.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// After Redis failed to answer, how long calls count locally (or fail at once) before
/// Redis is asked again: a Redis that is down costs one timeout per spell, not one per call.
pub const DEFAULT_BREAK: Duration = Duration::from_secs(5);
/// The most a wake-up is put off beyond the moment a start frees, so that the processes of a
/// fleet waiting for the same window do not all ask Redis at the same millisecond.
const MAX_JITTER_MS: u64 = 25;

/// Under Redis's clock: drop the starts a window old, admit if fewer than the limit remain
/// (recording this start), else say how many milliseconds until the oldest leaves.
/// KEYS[1] the set; ARGV limit, window in ms, a unique member.
const SCRIPT: &str = r"
-- Redis 3.2 to 4.x replicate a script by its text unless told to replicate its effects,
-- and refuse writes after TIME; later versions do this always (the call is a no-op).
if redis.replicate_commands then redis.replicate_commands() end
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
    /// How long Redis is left alone after it failed ([`DEFAULT_BREAK`]).
    pause: Duration,
    /// Until when it is left alone (the breaker is open).
    broken_until: std::sync::Mutex<Option<Instant>>,
}

impl RedisLimiter {
    /// A limiter on the Redis at `url` (`redis://127.0.0.1:6379`); nothing is connected yet.
    /// The URL is checked here; a bad one is an error that does not echo it (it may hold a
    /// password).
    pub fn new(url: &str) -> Result<RedisLimiter, LimiterError> {
        let client = redis::Client::open(url).map_err(|e| {
            LimiterError::Unavailable(format!("the Redis URL is unusable ({:?})", e.kind()))
        })?;
        Ok(RedisLimiter {
            client,
            connection: OnceCell::new(),
            script: redis::Script::new(SCRIPT),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_REDIS_TIMEOUT,
            when_unavailable: WhenUnavailable::default(),
            local: RateLimiter::new(),
            warned: AtomicBool::new(false),
            pause: DEFAULT_BREAK,
            broken_until: std::sync::Mutex::new(None),
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

    /// How long Redis is left alone after it failed to answer ([`DEFAULT_BREAK`]): meanwhile
    /// calls count locally or fail at once, as [`when_unavailable`](Self::when_unavailable)
    /// says, without waiting for a timeout each.
    pub fn break_duration(mut self, pause: Duration) -> Self {
        self.pause = pause;
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

    /// Milliseconds to wait before asking again, 0 when the start is granted. If the caller
    /// goes away while the script may have recorded a start for it, the start is removed.
    async fn ask(&self, key: &str, per_second: u32) -> Result<u64, redis::RedisError> {
        let mut connection = self.connection().await?;
        let member = format!("{}-{}", fastrand::u64(..), fastrand::u64(..));
        let mut invocation = self.script.key(key);
        invocation.arg(per_second).arg(1000u32).arg(&member);
        let mut in_flight = InFlight {
            connection: Some(connection.clone()),
            key,
            member: &member,
        };
        // The response timeout bounds the round trip; this bounds a reconnect too.
        let answer = match tokio::time::timeout(
            self.timeout.saturating_mul(2),
            invocation.invoke_async(&mut connection),
        )
        .await
        {
            Ok(answer) => answer,
            Err(_) => Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "no answer in time",
            ))),
        };
        // Answered: what the script did is known (a start granted is used, a refusal recorded
        // nothing). Without an answer (our timeout, a lost connection) the script may still
        // run once Redis wakes, so the start it would record is removed when `in_flight`
        // drops, as for a caller that went away.
        if answer.is_ok() {
            in_flight.connection = None;
        }
        answer
    }

    /// Whether the breaker is open: Redis failed within the last `pause`.
    fn broken(&self) -> bool {
        let until = self.broken_until.lock().unwrap_or_else(|p| p.into_inner());
        until.is_some_and(|until| Instant::now() < until)
    }

    fn trip(&self) {
        *self.broken_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Instant::now().checked_add(self.pause);
    }

    /// The answer to a caller while Redis is unavailable: the process's own window, or an
    /// error, as configured.
    async fn unavailable(
        &self,
        key: LimitKey<'_>,
        per_second: u32,
        deadline: Instant,
        kind: Option<redis::ErrorKind>,
    ) -> Result<(), LimiterError> {
        match self.when_unavailable {
            WhenUnavailable::Fail => Err(LimiterError::Unavailable(match kind {
                Some(kind) => format!("Redis did not answer ({kind:?})"),
                None => "Redis did not answer recently; it is asked again after a pause".to_owned(),
            })),
            WhenUnavailable::FallBack => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error_kind = ?kind,
                        "Redis rate limiter unavailable: counting in this process only"
                    );
                }
                self.local
                    .acquire_before(key.action, per_second, deadline)
                    .await
            }
        }
    }
}

/// A script call whose answer has not been read: if dropped so (its caller went away), the
/// start it may have recorded is removed, in the background, so that a fleet does not count
/// a call that was never sent.
struct InFlight<'a> {
    connection: Option<redis::aio::ConnectionManager>,
    key: &'a str,
    member: &'a str,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (key, member) = (self.key.to_owned(), self.member.to_owned());
        runtime.spawn(async move {
            let mut remove = redis::cmd("ZREM");
            remove.arg(key).arg(member);
            let removing = remove.query_async::<i64>(&mut connection);
            let _ = tokio::time::timeout(DEFAULT_REDIS_TIMEOUT * 2, removing).await;
        });
    }
}

impl Limiter for RedisLimiter {
    fn acquire<'a>(&'a self, key: LimitKey<'a>, per_second: u32, deadline: Instant) -> Acquire<'a> {
        Box::pin(async move {
            if per_second == 0 {
                return Ok(());
            }
            if self.broken() {
                return self.unavailable(key, per_second, deadline, None).await;
            }
            let name = format!("{}:{}:{}", self.prefix, key.account, key.action);
            loop {
                let answer = self.ask(&name, per_second).await;
                if answer.is_ok() && self.warned.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis rate limiter answers again: counting for the fleet");
                }
                match answer {
                    Ok(0) => return Ok(()),
                    // A start leaves the window in `wait` ms: asked again then (a little
                    // later, at random, so a fleet's processes do not ask at once), unless
                    // that is past the deadline.
                    Ok(wait) => {
                        let jitter = fastrand::u64(0..=MAX_JITTER_MS.min(wait / 2 + 1));
                        let wake = Instant::now()
                            .checked_add(Duration::from_millis(wait.saturating_add(jitter)))
                            .filter(|wake| *wake <= deadline)
                            .ok_or(LimiterError::AfterDeadline)?;
                        tokio::time::sleep_until(wake).await;
                    }
                    Err(e) => {
                        self.trip();
                        return self
                            .unavailable(key, per_second, deadline, Some(e.kind()))
                            .await;
                    }
                }
            }
        })
    }
}
