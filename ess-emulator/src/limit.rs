//! The service's rate limits, per sub-account and action: at most the documented number of
//! calls in any sliding window of one second (less an allowance for delivery jitter, since
//! a client can only pace what it sends, not when it arrives).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Arrivals this much closer together than a second still count as a second apart.
pub(crate) const JITTER: Duration = Duration::from_millis(50);

/// Accepted arrivals per sub-account and action; each queue holds at most the action's limit.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    windows: Mutex<HashMap<String, HashMap<&'static str, VecDeque<Instant>>>>,
}

impl Limiter {
    /// Whether a call arriving `now` is within `per_second`; counts it when it is.
    pub(crate) fn admit(
        &self,
        account: &str,
        action: &'static str,
        per_second: u32,
        now: Instant,
    ) -> bool {
        let window = Duration::from_secs(1) - JITTER;
        let admit = |arrivals: &mut VecDeque<Instant>| {
            while arrivals
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= window)
            {
                arrivals.pop_front();
            }
            if arrivals.len() >= per_second as usize {
                return false;
            }
            arrivals.push_back(now);
            true
        };
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Looked up by the borrowed name: the account is copied only on its first call.
        match windows.get_mut(account) {
            Some(actions) => admit(actions.entry(action).or_default()),
            None => admit(
                windows
                    .entry(account.to_owned())
                    .or_default()
                    .entry(action)
                    .or_default(),
            ),
        }
    }

    /// Forgets every window (a reset).
    pub(crate) fn clear(&self) {
        self.windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_limit_per_window_per_key() {
        let limiter = Limiter::default();
        let start = Instant::now();
        let admitted = |id: &str, at: Duration| limiter.admit(id, "A", 3, start + at);
        for ms in [0, 10, 20] {
            assert!(admitted("k1", Duration::from_millis(ms)));
        }
        assert!(!admitted("k1", Duration::from_millis(500)));
        assert!(
            admitted("k2", Duration::from_millis(500)),
            "another SecretId has its own window"
        );
        assert!(admitted("k1", Duration::from_millis(950)));
        assert!(!admitted("k1", Duration::from_millis(955)));
        assert!(admitted("k1", Duration::from_millis(960)));
    }
}
