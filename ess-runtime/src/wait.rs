//! Waiting for an asynchronous job: [`wait`] sends a describe request until its status means
//! done or failed, with jittered exponential backoff between polls and one overall timeout.

use std::time::Duration;

use tokio::time::Instant;

use crate::action::{Action, Transport, call};
use crate::error::Error;
use crate::retry::after;

/// What a describe answer says of the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitState {
    /// Still running (or a status the spec does not list: it may be one that ends, so the
    /// waiter keeps polling until its timeout).
    Pending,
    /// Done.
    Succeeded,
    /// Ended without success.
    Failed,
}

impl WaitState {
    /// The state of several jobs together (every flow of a DescribeFlowInfo): failed when
    /// any failed, done when all are done (and there is at least one), pending otherwise.
    pub fn all(states: impl IntoIterator<Item = WaitState>) -> WaitState {
        let mut any = false;
        let mut pending = false;
        for state in states {
            any = true;
            match state {
                WaitState::Failed => return WaitState::Failed,
                WaitState::Pending => pending = true,
                WaitState::Succeeded => {}
            }
        }
        if any && !pending {
            WaitState::Succeeded
        } else {
            WaitState::Pending
        }
    }
}

/// The describe half of an asynchronous job, on its request type.
pub trait Waitable: Action {
    /// What `answer` says of the job.
    fn wait_state(answer: &Self::Response) -> WaitState;
}

/// How a waiter polls: the first delay, the longest delay (each delay doubles, with
/// jitter), and the overall timeout that bounds every poll and every sleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitOptions {
    /// Delay before the second poll (the first is sent at once). Default 1 s.
    pub initial_delay: Duration,
    /// Longest delay between polls. Default 30 s.
    pub max_delay: Duration,
    /// When to give up with [`Error::WaitTimeout`]. Default 10 minutes.
    pub timeout: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(600),
        }
    }
}

impl WaitOptions {
    /// The defaults: polls after 1 s, then doubling up to 30 s, for at most 10 minutes.
    pub fn new() -> Self {
        Self::default()
    }

    /// The delay before the second poll.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The longest delay between polls.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The overall timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// How a job ended, with the describe answer that said so.
#[derive(Debug, Clone, PartialEq)]
pub enum Waited<R> {
    /// It succeeded.
    Succeeded(R),
    /// It failed; the answer says why, where the action reports it.
    Failed(R),
}

impl<R> Waited<R> {
    /// Whether the job succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Waited::Succeeded(_))
    }

    /// The describe answer, however the job ended.
    pub fn into_inner(self) -> R {
        match self {
            Waited::Succeeded(r) | Waited::Failed(r) => r,
        }
    }
}

/// Sends `request` until its answer's status ends the job. A poll that fails ends the wait
/// with its error (the client already retried what it safely could); the timeout ends it
/// with [`Error::WaitTimeout`], also in the middle of a poll.
pub async fn wait<A: Waitable, T: Transport + ?Sized>(
    transport: &T,
    request: &A,
    options: WaitOptions,
) -> Result<Waited<A::Response>, Error<A::Code>> {
    // A timeout of `Duration::MAX` (no limit) saturates instead of overflowing.
    let deadline = after(Instant::now(), options.timeout);
    let timed_out = || Error::WaitTimeout {
        timeout: options.timeout,
    };
    let mut delay = options.initial_delay.min(options.max_delay);
    loop {
        let answer = tokio::time::timeout_at(deadline, call(transport, request))
            .await
            .map_err(|_| timed_out())??;
        match A::wait_state(&answer) {
            WaitState::Succeeded => return Ok(Waited::Succeeded(answer)),
            WaitState::Failed => return Ok(Waited::Failed(answer)),
            WaitState::Pending => {}
        }
        // Half the delay, plus up to as much again at random: polls of many waiters spread.
        let half = delay / 2;
        let pause = half + half.mul_f64(fastrand::f64());
        if after(Instant::now(), pause) >= deadline {
            return Err(timed_out());
        }
        tokio::time::sleep(pause).await;
        delay = delay.saturating_mul(2).min(options.max_delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_jobs_end_together() {
        use WaitState::*;
        assert_eq!(WaitState::all([Succeeded, Succeeded]), Succeeded);
        assert_eq!(WaitState::all([Succeeded, Pending]), Pending);
        assert_eq!(WaitState::all([Pending, Failed]), Failed);
        // No job in the answer yet: keep waiting.
        assert_eq!(WaitState::all([]), Pending);
    }
}
