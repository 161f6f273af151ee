//! Client-side rate limiting per action (the spec's requests per second), shared by every
//! clone of a client: a sliding window that lets at most the documented number of requests
//! start in any one second (a token bucket with burst = rate would let nearly twice that
//! through in the second after an idle spell, and the service refuses the excess).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Per-action limiters; cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct RateLimiter {
    /// Start times reserved for the last `limit` requests, per action (some in the future).
    slots: Arc<Mutex<HashMap<&'static str, VecDeque<Instant>>>>,
}

impl RateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a request to `action` (limited to `per_second`) must wait now; reserves its
    /// slot, so concurrent callers queue up fairly.
    pub fn reserve(&self, action: &'static str, per_second: u32) -> Duration {
        if per_second == 0 {
            return Duration::ZERO;
        }
        let limit = per_second as usize;
        let now = Instant::now();
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let reserved = slots.entry(action).or_default();
        // Reservations are in non-decreasing order, so the front is the one N slots back.
        let start = if reserved.len() < limit {
            now
        } else {
            (reserved[reserved.len() - limit] + Duration::from_secs(1)).max(now)
        };
        reserved.push_back(start);
        while reserved.len() > limit {
            reserved.pop_front();
        }
        start.saturating_duration_since(now)
    }

    /// Waits for a slot for `action`.
    pub async fn acquire(&self, action: &'static str, per_second: u32) {
        let wait = self.reserve(action, per_second);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
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
        for (i, first) in starts.iter().enumerate() {
            let in_window = starts[i..]
                .iter()
                .take_while(|t| **t < *first + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 20,
                "{in_window} starts within 1 s of {first:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn actions_and_clones() {
        let limiter = RateLimiter::new();
        let clone = limiter.clone();
        for _ in 0..2 {
            limiter.acquire("A", 2).await;
        }
        // The clone shares A's bucket (now empty) but B has its own.
        assert_eq!(clone.reserve("B", 2), Duration::ZERO);
        assert!(clone.reserve("A", 2) > Duration::ZERO);
    }
}
