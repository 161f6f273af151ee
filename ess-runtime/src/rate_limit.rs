//! Client-side rate limiting per action (the spec's requests per second). A [`Limiter`]
//! grants each attempt its start; the default, [`RateLimiter`], is shared by every client
//! built from one `Config`: a sliding window that lets at most the documented number of
//! requests start in any one second (a token bucket with burst = rate would let nearly twice
//! that through in the second after an idle spell, and the service refuses the excess). A
//! smaller burst spreads calls out: at most `burst` in any `burst / rate` s. ESS counts a
//! limit per action and sub-account, not per process: a fleet shares one budget through a
//! limiter of its own (the `redis` feature's `RedisLimiter`).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// What a limit is counted for: the account (a hash of the SecretId, never the SecretId) and
/// the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitKey<'a> {
    /// Hex SHA-256 of the SecretId the call is signed with.
    pub account: &'a str,
    /// The action's wire name.
    pub action: &'static str,
}

/// Why a limiter granted no start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimiterError {
    /// The limiter could not decide (its store is unreachable, or it cannot be used); the
    /// call fails with it.
    #[error("the rate limiter is unavailable: {0}")]
    Unavailable(String),
    /// The earliest free start is later than the call's deadline: the call fails at once
    /// (with [`Error::Deadline`](crate::Error::Deadline)) instead of sleeping until then.
    #[error("no start is free before the call's deadline")]
    AfterDeadline,
}

/// The future [`Limiter::acquire`] returns.
pub type Acquire<'a> = Pin<Box<dyn Future<Output = Result<(), LimiterError>> + Send + 'a>>;

/// Grants the starts of calls: every attempt waits for one before it is sent. The call's
/// deadline bounds the wait: a start later than it is refused at once
/// ([`LimiterError::AfterDeadline`]), and a limiter gives back a reservation it made for a
/// future that is dropped.
pub trait Limiter: fmt::Debug + Send + Sync + 'static {
    /// Resolves when a call of `key.action` may start, at most `per_second` starts in any one
    /// second for `key`; fails at once when no start is free before `deadline`.
    fn acquire<'a>(&'a self, key: LimitKey<'a>, per_second: u32, deadline: Instant) -> Acquire<'a>;
}

impl Limiter for RateLimiter {
    /// The process's own window, per action (one `Config` is one account's).
    fn acquire<'a>(&'a self, key: LimitKey<'a>, per_second: u32, deadline: Instant) -> Acquire<'a> {
        Box::pin(self.acquire_before(key.action, per_second, deadline))
    }
}

/// Per-action limiters; cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct RateLimiter {
    /// Start times reserved and still inside their window, ascending, per action (some in
    /// the future: callers waiting for them).
    slots: Arc<Mutex<HashMap<&'static str, VecDeque<Instant>>>>,
    /// At most this many starts together (capped at the rate); the rate when `None`.
    burst: Option<u32>,
}

impl RateLimiter {
    /// An empty limiter whose burst is the documented rate.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty limiter letting at most `burst` calls start together (1 spaces every call
    /// evenly; values above an action's rate mean its rate).
    pub fn with_burst(burst: u32) -> Self {
        Self {
            slots: Arc::default(),
            burst: Some(burst.max(1)),
        }
    }

    /// Reserves the earliest start for a request to `action` (limited to `per_second`),
    /// so concurrent callers queue up fairly; returns it.
    pub fn reserve(&self, action: &'static str, per_second: u32) -> Instant {
        let now = Instant::now();
        if per_second == 0 {
            return now;
        }
        let limit = self.burst.map_or(per_second, |b| b.min(per_second)) as usize;
        let window = Duration::from_secs(1) * limit as u32 / per_second;
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let reserved = slots.entry(action).or_default();
        // Starts a window ago or more no longer constrain anything.
        while reserved
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            reserved.pop_front();
        }
        let mut start = now.max(reserved.back().copied().unwrap_or(now));
        if reserved.len() >= limit {
            start = start.max(reserved[reserved.len() - limit] + window);
        }
        reserved.push_back(start);
        start
    }

    /// Gives back a reservation whose caller no longer wants it.
    fn release(&self, action: &'static str, start: Instant) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(reserved) = slots.get_mut(action)
            && let Some(index) = reserved.iter().rposition(|t| *t == start)
        {
            reserved.remove(index);
        }
    }

    /// Waits for a slot for `action`. Dropping the future while it waits frees the slot.
    pub async fn acquire(&self, action: &'static str, per_second: u32) {
        let start = self.reserve(action, per_second);
        self.wait_for(action, start).await;
    }

    /// [`acquire`](Self::acquire), refused at once (the slot given back) when the slot is
    /// later than `deadline`.
    pub async fn acquire_before(
        &self,
        action: &'static str,
        per_second: u32,
        deadline: Instant,
    ) -> Result<(), LimiterError> {
        let start = self.reserve(action, per_second);
        if start > deadline {
            self.release(action, start);
            return Err(LimiterError::AfterDeadline);
        }
        self.wait_for(action, start).await;
        Ok(())
    }

    /// Sleeps until the reserved `start`, giving it back if the wait is abandoned.
    async fn wait_for(&self, action: &'static str, start: Instant) {
        if start <= Instant::now() {
            return;
        }
        let mut pending = Pending {
            limiter: self,
            action,
            start,
            armed: true,
        };
        tokio::time::sleep_until(start).await;
        pending.armed = false;
    }
}

/// A reservation being waited for; released if the wait is abandoned.
struct Pending<'a> {
    limiter: &'a RateLimiter,
    action: &'static str,
    start: Instant,
    armed: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.limiter.release(self.action, self.start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn n_calls_take_at_least_what_the_limit_implies() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        for _ in 0..60 {
            limiter.acquire("CreateFlowSignUrl", 20).await;
        }
        // 20 at once, 20 a second later, 20 a second after that.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(2000), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(2100), "{elapsed:?}");
    }

    /// At most `limit` of `starts` (sorted) in any window of `window`.
    fn assert_windows(starts: &[Duration], limit: usize, window: Duration) {
        for (i, first) in starts.iter().enumerate() {
            let inside = starts[i..]
                .iter()
                .take_while(|t| **t < *first + window)
                .count();
            assert!(
                inside <= limit,
                "{inside} starts within {window:?} of {first:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_one_second_window_holds_more_than_the_limit() {
        let limiter = RateLimiter::new();
        let origin = Instant::now();
        let mut starts = Vec::new();
        for i in 0..100u64 {
            // Irregular arrivals, with idle spells that would refill a token bucket.
            tokio::time::advance(Duration::from_millis((i * 37) % 90)).await;
            limiter.acquire("A", 20).await;
            starts.push(Instant::now() - origin);
        }
        assert_windows(&starts, 20, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_the_windows() {
        let limiter = RateLimiter::new();
        let origin = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let limiter = limiter.clone();
            tasks.spawn(async move {
                let mut starts = Vec::new();
                for _ in 0..20 {
                    limiter.acquire("A", 20).await;
                    starts.push(Instant::now() - origin);
                }
                starts
            });
        }
        let mut starts: Vec<Duration> = tasks.join_all().await.concat();
        starts.sort();
        assert_eq!(starts.len(), 160);
        assert_windows(&starts, 20, Duration::from_secs(1));
        // 160 calls at 20 per second: the last window opens at 7 s.
        assert_eq!(starts.last().unwrap().as_secs(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_gives_up_frees_its_slot() {
        let limiter = RateLimiter::new();
        limiter.acquire("A", 2).await;
        limiter.acquire("A", 2).await;
        // The third waits for t = 1 s; it gives up.
        let third = tokio::time::timeout(Duration::from_millis(10), limiter.acquire("A", 2)).await;
        assert!(third.is_err());
        let origin = Instant::now() - Duration::from_millis(10);
        // A fourth waiting at 1 s, and a fifth: it gets the third's slot (1 s), not 2 s.
        let fourth = limiter.reserve("A", 2);
        let fifth = limiter.reserve("A", 2);
        assert_eq!(fourth - origin, Duration::from_secs(1));
        assert_eq!(fifth - origin, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_after_the_deadline_is_refused_at_once_and_given_back() {
        let limiter = RateLimiter::new();
        let origin = Instant::now();
        let soon = origin + Duration::from_millis(500);
        for _ in 0..2 {
            limiter.acquire_before("A", 2, soon).await.unwrap();
        }
        // The next slot is at 1 s, after the deadline: refused without sleeping.
        assert_eq!(
            limiter.acquire_before("A", 2, soon).await,
            Err(LimiterError::AfterDeadline)
        );
        assert_eq!(Instant::now(), origin);
        // Its slot was given back: the next caller gets 1 s, not 1.5 s.
        assert_eq!(limiter.reserve("A", 2) - origin, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_smaller_burst_spreads_calls_out() {
        let limiter = RateLimiter::with_burst(1);
        let origin = Instant::now();
        let starts: Vec<Duration> = [(); 5]
            .iter()
            .map(|_| limiter.reserve("A", 20) - origin)
            .collect();
        let gap = Duration::from_millis(50);
        assert_eq!(starts, [Duration::ZERO, gap, gap * 2, gap * 3, gap * 4]);
    }

    #[tokio::test(start_paused = true)]
    async fn actions_and_clones() {
        let limiter = RateLimiter::new();
        let clone = limiter.clone();
        for _ in 0..2 {
            limiter.acquire("A", 2).await;
        }
        // The clone shares A's window (now full) but B has its own.
        let now = Instant::now();
        assert_eq!(clone.reserve("B", 2), now);
        assert!(clone.reserve("A", 2) > now);
    }
}
