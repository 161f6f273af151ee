//! Retries: which failures are worth another attempt, and how long to wait before it
//! (exponential backoff with full jitter, bounded by a maximum delay and an overall deadline).

use std::time::Duration;

use crate::error::{is_internal_error, is_rate_limited};

/// How failed attempts are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Backoff before the second attempt (doubling after).
    pub base_delay: Duration,
    /// Longest single backoff.
    pub max_delay: Duration,
    /// No attempt starts (and no backoff ends) later than this after the call began.
    pub deadline: Duration,
    /// The retry budget of a client and its clones, in tokens: a retry costs
    /// [`RETRY_COST`] ([`TIMEOUT_RETRY_COST`] after a timeout or a lost connection), a call
    /// that succeeds gives back what its retries cost (1 when it needed none). When a failing
    /// service has drained it, calls make their first attempt only, instead of multiplying
    /// the load on it. 500 by default (100 retries), as in smithy's standard strategy.
    pub budget: u32,
}

/// What a retry takes from the budget.
pub const RETRY_COST: u32 = 5;
/// What a retry after a timeout or a lost connection takes: those are the costliest.
pub const TIMEOUT_RETRY_COST: u32 = 10;

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            deadline: Duration::from_secs(30),
            budget: 500,
        }
    }
}

/// The tokens left in a client's retry budget (see [`RetryPolicy::budget`]), shared by its
/// clones.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    tokens: std::sync::atomic::AtomicU32,
    capacity: u32,
}

impl RetryBudget {
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            tokens: std::sync::atomic::AtomicU32::new(capacity),
            capacity,
        }
    }

    /// Takes `cost` tokens for a retry; `false` (nothing taken) when fewer are left.
    pub(crate) fn withdraw(&self, cost: u32) -> bool {
        use std::sync::atomic::Ordering;
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(cost)
            })
            .is_ok()
    }

    /// Gives back `amount` tokens, up to the capacity.
    pub(crate) fn deposit(&self, amount: u32) {
        use std::sync::atomic::Ordering;
        let capacity = self.capacity;
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                Some(left.saturating_add(amount).min(capacity))
            });
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff after failed attempt number `attempt` (1-based): a uniformly random
    /// duration up to `min(max_delay, base_delay * 2^(attempt-1))`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(fastrand::f64())
    }
}

/// The shortest wait after an attempt refused for the rate: one window of the limits ESS
/// states (calls per second), so the retry lands in the next window, not the one that is
/// full.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(1);

/// The backoff after attempt number `attempt` was refused for the rate: what the server's
/// `Retry-After` asks for when it sent one, else at least [`THROTTLE_WINDOW`], with the
/// policy's jittered backoff on top so that refused callers do not return together.
pub fn throttle_backoff(
    policy: &RetryPolicy,
    attempt: u32,
    retry_after: Option<Duration>,
) -> Duration {
    retry_after
        .unwrap_or(THROTTLE_WINDOW)
        .saturating_add(policy.backoff(attempt))
}

/// `start + duration`, or a point decades away when that overflows: a deadline of
/// `Duration::MAX` means "no limit", never a panic.
pub(crate) fn after(start: tokio::time::Instant, duration: Duration) -> tokio::time::Instant {
    const FAR: Duration = Duration::from_secs(30 * 365 * 86_400);
    start.checked_add(duration).unwrap_or_else(|| start + FAR)
}

/// What a failed attempt was, for the retry decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure<'a> {
    /// The connection could not be made: nothing was sent.
    Connect,
    /// Sent (perhaps partly), then the connection failed or timed out.
    Network,
    /// An HTTP status other than 200.
    Status(u16),
    /// The service answered with this error code.
    Service(&'a str),
}

/// Whether `failure` deserves another attempt for an action (`retry_safe` from the spec).
///
/// A write must never run twice, so only what provably did not execute is retried for every
/// action: a failed connect (nothing was sent), an HTTP 429 and `RequestLimitExceeded*`
/// (refused before execution). What may have executed (5xx from a gateway, `InternalError*`,
/// a connection lost or timed out after sending) is retried only for retry-safe actions.
pub fn is_retryable(failure: Failure<'_>, retry_safe: bool) -> bool {
    match failure {
        Failure::Connect | Failure::Status(429) => true,
        Failure::Network => retry_safe,
        Failure::Status(status) => retry_safe && (500..600).contains(&status),
        Failure::Service(code) => is_rate_limited(code) || (retry_safe && is_internal_error(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(is_retryable(
            Failure::Service("RequestLimitExceeded"),
            false
        ));
        assert!(is_retryable(
            Failure::Service("RequestLimitExceeded.UinLimitExceeded"),
            false
        ));
        assert!(!is_retryable(Failure::Service("InternalError"), false));
        assert!(is_retryable(Failure::Service("InternalError"), true));
        assert!(is_retryable(Failure::Service("InternalError.Api"), true));
        assert!(!is_retryable(Failure::Service("InternalError.Api"), false));
        assert!(!is_retryable(Failure::Status(502), false));
        assert!(is_retryable(Failure::Status(429), false));
        assert!(!is_retryable(
            Failure::Service("ResourceNotFound.Flow"),
            true
        ));
        assert!(!is_retryable(
            Failure::Service("AuthFailure.SignatureFailure"),
            true
        ));
        assert!(is_retryable(Failure::Status(503), true));
        assert!(!is_retryable(Failure::Status(503), false));
        assert!(!is_retryable(Failure::Status(404), true));
        assert!(is_retryable(Failure::Connect, false));
        assert!(is_retryable(Failure::Network, true));
        assert!(!is_retryable(Failure::Network, false));
    }

    #[test]
    fn a_throttled_attempt_waits_for_the_next_window_or_what_the_server_asks() {
        let policy = RetryPolicy::default();
        for attempt in 1..4 {
            let wait = throttle_backoff(&policy, attempt, None);
            assert!(wait >= THROTTLE_WINDOW && wait <= THROTTLE_WINDOW + policy.max_delay);
            let asked = throttle_backoff(&policy, attempt, Some(Duration::from_secs(3)));
            assert!(asked >= Duration::from_secs(3), "{asked:?}");
        }
    }

    #[test]
    fn the_budget_stops_retries_when_drained_and_refills_on_success() {
        let budget = RetryBudget::new(12);
        assert!(budget.withdraw(RETRY_COST));
        assert!(budget.withdraw(RETRY_COST));
        assert!(!budget.withdraw(RETRY_COST), "2 tokens left");
        budget.deposit(RETRY_COST);
        assert!(budget.withdraw(TIMEOUT_RETRY_COST - 3));
        budget.deposit(1000);
        assert!(
            budget.withdraw(12) && !budget.withdraw(1),
            "capped at its capacity"
        );
    }

    #[test]
    fn a_deadline_without_limit_saturates() {
        let now = tokio::time::Instant::now();
        assert!(after(now, Duration::MAX) > now + Duration::from_secs(86_400 * 365));
        assert_eq!(
            after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }

    #[test]
    fn backoff_is_bounded_and_grows() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
            assert!(policy.backoff(9) <= Duration::from_millis(300));
        }
        let mean = |attempt| {
            (0..400)
                .map(|_| policy.backoff(attempt).as_secs_f64())
                .sum::<f64>()
                / 400.0
        };
        assert!(mean(3) > mean(1), "later attempts wait longer on average");
    }
}
