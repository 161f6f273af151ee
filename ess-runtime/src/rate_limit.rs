//! Client-side rate limiting per action (the spec's requests per second), shared by every
//! clone of a client: a GCRA token bucket whose burst equals the per-second rate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Per-action limiters; cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct RateLimiter {
    /// Theoretical arrival time of the next request, per action.
    next: Arc<Mutex<HashMap<&'static str, Instant>>>,
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
        let interval = Duration::from_secs(1) / per_second;
        let tolerance = interval * (per_second - 1);
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let tat = next.get(action).copied().unwrap_or(now).max(now);
        let wait = tat.saturating_duration_since(now).saturating_sub(tolerance);
        next.insert(action, tat + interval);
        wait
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
        // 20 may go at once; the other 40 at 20 per second.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(1950), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(2100), "{elapsed:?}");
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
