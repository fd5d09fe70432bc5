//! What a broker's answer to a provision, update or deprovision does to the
//! instance's last operation ([`crate::cc::model::service_operation`]):
//! done at once, or in progress and polled ([`super::poller`]) from when
//! [`PollTiming`] says until it ends.

use std::time::Duration;

use serde_json::Value;
use sqlx::AnyPool;

use super::now_ms;
use super::requests::Outcome;
use crate::cc::error::ApiResult;
use crate::cc::model::service_operation::{self, PollAt};
use crate::config::Config;

/// When to ask about operations again: the first poll, and how the wait
/// grows (doubling to [`LONGEST_POLL`]) and for how long in all.
#[derive(Debug, Clone, Copy)]
pub struct PollTiming {
    pub first: Duration,
    pub give_up_after: Duration,
}

/// CF polls a broker at most this far apart.
const LONGEST_POLL: Duration = Duration::from_secs(60);

impl PollTiming {
    /// As configured: `broker_poll_interval_ms` first, giving up after
    /// `broker_max_poll_minutes`.
    pub fn of(config: &Config) -> PollTiming {
        PollTiming {
            first: Duration::from_millis(config.broker_poll_interval_ms.max(10)),
            give_up_after: Duration::from_secs(config.broker_max_poll_minutes.max(1) * 60),
        }
    }

    /// The wait before poll number `count` (from 0), or what the broker asked.
    pub fn wait(&self, count: i64, retry_after: Option<Duration>) -> Duration {
        retry_after.unwrap_or_else(|| self.first.saturating_mul(1 << count.clamp(0, 16) as u32).min(LONGEST_POLL))
    }
}

/// Stores what the broker answered to operation `kind` on instance `guid`:
/// done (a finished delete removes the row), or in progress and polled.
pub async fn record(db: &AnyPool, guid: &str, kind: &str, outcome: &Outcome, timing: PollTiming) -> ApiResult<()> {
    match outcome {
        Outcome::Done(body) => {
            let text = |name: &str| body.get(name).and_then(Value::as_str);
            service_operation::succeed(db, guid, kind, text("description").unwrap_or_default(), text("dashboard_url"))
                .await
        }
        Outcome::InProgress { operation, dashboard_url } => {
            let at = now_ms();
            let poll = PollAt {
                at: at + timing.wait(0, None).as_millis() as i64,
                until: at + timing.give_up_after.as_millis() as i64,
            };
            service_operation::await_broker(db, guid, kind, operation.as_deref(), dashboard_url.as_deref(), poll).await
        }
    }
}
