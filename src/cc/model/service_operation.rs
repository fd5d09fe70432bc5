//! The last operation of a brokered instance — `create`, `update` or
//! `delete`, `in progress`, `succeeded` or `failed` — as `cf service` shows
//! it, and what its end does to the instance: a finished delete removes it,
//! a finished update moves it to the plan it asked for. While the broker
//! goes on with one, the instance says when to ask again (`poll_at`, until
//! `poll_until`), how often it was asked, and the broker's operation id;
//! the CC's poller ([`crate::cc::osb::poller`]) claims each poll here.

use serde_json::{Value, json};
use sqlx::{AnyPool, Row};

use super::resource::text_column;
use crate::cc::error::ApiResult;
use crate::cc::now;

pub const CREATE: &str = "create";
pub const UPDATE: &str = "update";
pub const DELETE: &str = "delete";
pub const IN_PROGRESS: &str = "in progress";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

/// The `last_operation` JSON of an instance.
pub fn last_operation(kind: &str, state: &str, description: &str) -> String {
    let at = now();
    json!({"type": kind, "state": state, "description": description, "created_at": at, "updated_at": at}).to_string()
}

/// The type and state of an instance's `last_operation` column.
pub fn type_and_state(column: Option<&str>) -> (String, String) {
    let value: Value = column.and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null);
    let text = |name: &str| value[name].as_str().unwrap_or_default().to_string();
    (text("type"), text("state"))
}

/// Operation `kind` on `guid` begins (before its broker is asked);
/// `pending_plan`: the plan an update moves it to once it succeeds.
pub async fn begin(db: &AnyPool, guid: &str, kind: &str, pending_plan: Option<&str>) -> ApiResult<()> {
    sqlx::query("UPDATE service_instances SET pending_plan_guid = $1, last_operation = $2 WHERE guid = $3")
        .bind(pending_plan)
        .bind(last_operation(kind, IN_PROGRESS, ""))
        .bind(guid)
        .execute(db)
        .await?;
    Ok(())
}

/// When the broker is asked about an operation it goes on with.
pub struct PollAt {
    /// Next (ms since the epoch).
    pub at: i64,
    /// Not past this.
    pub until: i64,
}

/// The broker goes on with operation `kind` on `guid` (its id
/// `operation`): the CC asks about it from `poll.at`.
pub async fn await_broker(
    db: &AnyPool,
    guid: &str,
    kind: &str,
    operation: Option<&str>,
    dashboard_url: Option<&str>,
    poll: PollAt,
) -> ApiResult<()> {
    sqlx::query(
        "UPDATE service_instances SET last_operation = $1, broker_operation = $2, poll_at = $3, \
         poll_until = $4, poll_count = 0, updated_at = $5, dashboard_url = COALESCE($6, dashboard_url) \
         WHERE guid = $7",
    )
    .bind(last_operation(kind, IN_PROGRESS, ""))
    .bind(operation)
    .bind(poll.at)
    .bind(poll.until)
    .bind(now())
    .bind(dashboard_url)
    .bind(guid)
    .execute(db)
    .await?;
    Ok(())
}

/// Operation `kind` on `guid` succeeded: a delete removes the instance
/// (its bindings and keys go with it, ON DELETE CASCADE), an update moves
/// it to its pending plan.
pub async fn succeed(
    db: &AnyPool,
    guid: &str,
    kind: &str,
    description: &str,
    dashboard_url: Option<&str>,
) -> ApiResult<()> {
    if kind == DELETE {
        sqlx::query("DELETE FROM service_instances WHERE guid = $1").bind(guid).execute(db).await?;
        return Ok(());
    }
    sqlx::query(
        "UPDATE service_instances SET last_operation = $1, broker_operation = NULL, poll_at = NULL, \
         service_plan_guid = COALESCE(pending_plan_guid, service_plan_guid), pending_plan_guid = NULL, \
         dashboard_url = COALESCE($2, dashboard_url), updated_at = $3 WHERE guid = $4",
    )
    .bind(last_operation(kind, SUCCEEDED, description))
    .bind(dashboard_url)
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

/// The instance's `last_operation`: None when the instance is gone.
pub async fn of_instance(db: &AnyPool, guid: &str) -> ApiResult<Option<Option<String>>> {
    Ok(sqlx::query_scalar("SELECT last_operation FROM service_instances WHERE guid = $1")
        .bind(guid)
        .fetch_optional(db)
        .await?)
}

/// An operation its broker goes on with, due to be asked about.
pub struct DuePoll {
    pub instance_guid: String,
    pub service_plan_guid: String,
    /// Its `type` (create, update, delete).
    pub kind: String,
    pub broker_operation: Option<String>,
    pub poll_at: i64,
    pub poll_until: i64,
    pub poll_count: i64,
}

/// Up to `limit` operations due by `now_ms`, the longest due first.
pub async fn due(db: &AnyPool, now_ms: i64, limit: i64) -> ApiResult<Vec<DuePoll>> {
    let rows = sqlx::query(
        "SELECT guid, service_plan_guid, last_operation, broker_operation, poll_at, poll_until, poll_count \
         FROM service_instances WHERE poll_at IS NOT NULL AND poll_at <= $1 ORDER BY poll_at LIMIT $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let text = |column: &str| text_column(row, column);
            let int = |column: &str| row.try_get::<i64, _>(column).unwrap_or(0);
            DuePoll {
                instance_guid: text("guid").unwrap_or_default(),
                service_plan_guid: text("service_plan_guid").unwrap_or_default(),
                kind: type_and_state(text("last_operation").as_deref()).0,
                broker_operation: text("broker_operation"),
                poll_at: int("poll_at"),
                poll_until: int("poll_until"),
                poll_count: int("poll_count"),
            }
        })
        .collect())
}

/// Claims a due poll until `until` (ms): false when another CC did first.
pub async fn claim(db: &AnyPool, due: &DuePoll, until: i64) -> ApiResult<bool> {
    let claimed = sqlx::query("UPDATE service_instances SET poll_at = $1 WHERE guid = $2 AND poll_at = $3")
        .bind(until)
        .bind(&due.instance_guid)
        .bind(due.poll_at)
        .execute(db)
        .await?;
    Ok(claimed.rows_affected() == 1)
}

/// The broker says how its operation goes (still in progress).
pub async fn progress(db: &AnyPool, guid: &str, kind: &str, description: &str) -> ApiResult<()> {
    sqlx::query("UPDATE service_instances SET last_operation = $1 WHERE guid = $2")
        .bind(last_operation(kind, IN_PROGRESS, description))
        .bind(guid)
        .execute(db)
        .await?;
    Ok(())
}

/// Asks about the operation again at `next` (ms), its `count`th poll.
pub async fn poll_again(db: &AnyPool, guid: &str, next: i64, count: i64) -> ApiResult<()> {
    sqlx::query("UPDATE service_instances SET poll_at = $1, poll_count = $2 WHERE guid = $3")
        .bind(next)
        .bind(count)
        .bind(guid)
        .execute(db)
        .await?;
    Ok(())
}
