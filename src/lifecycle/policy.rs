//! Cloud Foundry's crash restart policy: the first crashes of an app index
//! restart at once, later ones after a delay that doubles up to a ceiling,
//! and after too many crashes the index stays CRASHED. An instance that
//! stays up long enough starts its index's count afresh.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrashPolicy {
    /// Crashes restarted at once.
    pub immediate_restarts: u32,
    /// The delay before the first restart that is not immediate (s).
    pub backoff_seconds: u64,
    /// The longest delay (s).
    pub max_backoff_seconds: u64,
    /// After this many crashes the index is not restarted again.
    pub max_crashes: u32,
    /// An instance up this long (s) clears its index's crash count.
    pub reset_after_seconds: u64,
}

impl Default for CrashPolicy {
    fn default() -> Self {
        CrashPolicy {
            immediate_restarts: 3,
            backoff_seconds: 30,
            max_backoff_seconds: 16 * 60,
            max_crashes: 200,
            reset_after_seconds: 5 * 60,
        }
    }
}

impl CrashPolicy {
    /// How long after its `crashes`-th crash an index is started again;
    /// None once it has crashed too often.
    pub fn restart_delay(&self, crashes: u32) -> Option<Duration> {
        if crashes >= self.max_crashes {
            return None;
        }
        if crashes <= self.immediate_restarts {
            return Some(Duration::ZERO);
        }
        let doublings = (crashes - self.immediate_restarts - 1).min(32);
        let delay = self.backoff_seconds.saturating_mul(1u64 << doublings).min(self.max_backoff_seconds);
        Some(Duration::from_secs(delay))
    }

    pub fn reset_after(&self) -> Duration {
        Duration::from_secs(self.reset_after_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_at_once_then_doubling_to_sixteen_minutes_then_none() {
        let policy = CrashPolicy::default();
        let delays: Vec<u64> = (1..=10).map(|n| policy.restart_delay(n).unwrap().as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 30, 60, 120, 240, 480, 960, 960]);
        assert_eq!(policy.restart_delay(199), Some(Duration::from_secs(960)));
        assert_eq!(policy.restart_delay(200), None);
    }
}
