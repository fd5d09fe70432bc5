//! The last operation of a brokered instance — `create`, `update` or
//! `delete`, `in progress`, `succeeded` or `failed` — as `cf service` shows
//! it, and what its end does to the instance: a finished delete removes it,
//! a finished update moves it to the plan it asked for. An operation the
//! broker goes on with is polled ([`super::poller`]) until it ends.

use std::time::Duration;

use serde_json::{Map, Value, json};
use sqlx::AnyPool;

use super::now_ms;
use super::requests::Outcome;
use crate::cc::error::ApiResult;
use crate::cc::now;
use crate::config::Config;

pub const CREATE: &str = "create";
pub const UPDATE: &str = "update";
pub const DELETE: &str = "delete";
pub const IN_PROGRESS: &str = "in progress";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

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

/// The `last_operation` JSON of an instance.
pub fn last_operation(kind: &str, state: &str, description: &str) -> String {
    let at = now();
    json!({"type": kind, "state": state, "description": description, "created_at": at, "updated_at": at}).to_string()
}

/// Stores what the broker answered to operation `kind` on instance `guid`:
/// done (a finished delete removes the row), or in progress and polled.
pub async fn record(db: &AnyPool, guid: &str, kind: &str, outcome: &Outcome, timing: PollTiming) -> ApiResult<()> {
    match outcome {
        Outcome::Done(body) => finish(db, guid, kind, body).await,
        Outcome::InProgress { operation, dashboard_url } => {
            let at = now_ms();
            sqlx::query(
                "UPDATE service_instances SET last_operation = $1, broker_operation = $2, poll_at = $3, \
                 poll_until = $4, poll_count = 0, updated_at = $5, dashboard_url = COALESCE($6, dashboard_url) \
                 WHERE guid = $7",
            )
            .bind(last_operation(kind, IN_PROGRESS, ""))
            .bind(operation)
            .bind(at + timing.wait(0, None).as_millis() as i64)
            .bind(at + timing.give_up_after.as_millis() as i64)
            .bind(now())
            .bind(dashboard_url)
            .bind(guid)
            .execute(db)
            .await?;
            Ok(())
        }
    }
}

/// Operation `kind` on `guid` succeeded, with the broker's body.
pub async fn finish(db: &AnyPool, guid: &str, kind: &str, body: &Map<String, Value>) -> ApiResult<()> {
    if kind == DELETE {
        // Its bindings and keys go with it (ON DELETE CASCADE).
        sqlx::query("DELETE FROM service_instances WHERE guid = $1").bind(guid).execute(db).await?;
        return Ok(());
    }
    let description = body.get("description").and_then(Value::as_str).unwrap_or_default();
    sqlx::query(
        "UPDATE service_instances SET last_operation = $1, broker_operation = NULL, poll_at = NULL, \
         service_plan_guid = COALESCE(pending_plan_guid, service_plan_guid), pending_plan_guid = NULL, \
         dashboard_url = COALESCE($2, dashboard_url), updated_at = $3 WHERE guid = $4",
    )
    .bind(last_operation(kind, SUCCEEDED, description))
    .bind(body.get("dashboard_url").and_then(Value::as_str))
    .bind(now())
    .bind(guid)
    .execute(db)
    .await?;
    Ok(())
}

/// Operation `kind` on `guid` failed: the instance stays as it was (a
/// failed create stays to be deleted), and says why.
pub async fn fail(db: &AnyPool, guid: &str, kind: &str, description: &str) -> ApiResult<()> {
    sqlx::query(
        "UPDATE service_instances SET last_operation = $1, broker_operation = NULL, poll_at = NULL, \
         pending_plan_guid = NULL, updated_at = $2 WHERE guid = $3",
    )
    .bind(last_operation(kind, FAILED, description))
    .bind(now())
    .bind(guid)
    .execute(db)
    .await?;
    Ok(())
}

/// The type and state of an instance's `last_operation` column.
pub fn type_and_state(column: Option<&str>) -> (String, String) {
    let value: Value = column.and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null);
    let text = |name: &str| value[name].as_str().unwrap_or_default().to_string();
    (text("type"), text("state"))
}
