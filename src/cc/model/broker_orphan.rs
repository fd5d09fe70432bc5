//! Orphans at brokers: a DELETE (path and query) that must reach a broker
//! because a provision or bind failed in a way that may have made
//! something there anyway (OSB's orphan mitigation). Each is sent again,
//! later each time, until the broker says it is gone
//! ([`crate::cc::osb::orphans`]).

use sqlx::{AnyPool, Row};

use crate::cc::error::ApiResult;

/// A DELETE due to be sent, with its broker's address and credentials.
pub struct DueOrphan {
    pub id: i64,
    pub path: String,
    pub attempts: i64,
    pub broker_url: String,
    pub auth_username: String,
    pub auth_password: String,
}

/// Remembers that `path` must be sent to the broker, first at `at_ms`.
pub async fn record(db: &AnyPool, broker_guid: &str, path: &str, at_ms: i64) -> ApiResult<()> {
    sqlx::query("INSERT INTO broker_orphans (service_broker_guid, path, next_attempt_at) VALUES ($1, $2, $3)")
        .bind(broker_guid)
        .bind(path)
        .bind(at_ms)
        .execute(db)
        .await?;
    Ok(())
}

/// Up to `limit` deletes due by `now_ms`, oldest first.
pub async fn due(db: &AnyPool, now_ms: i64, limit: i64) -> ApiResult<Vec<DueOrphan>> {
    let rows = sqlx::query(
        "SELECT o.id, o.path, o.attempts, b.broker_url, b.auth_username, b.auth_password FROM broker_orphans o \
         JOIN service_brokers b ON b.guid = o.service_broker_guid WHERE o.next_attempt_at <= $1 ORDER BY o.id \
         LIMIT $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            let text = |column: &str| row.try_get::<String, _>(column).unwrap_or_default();
            Ok(DueOrphan {
                id: row.try_get("id")?,
                attempts: row.try_get("attempts")?,
                path: text("path"),
                broker_url: text("broker_url"),
                auth_username: text("auth_username"),
                auth_password: text("auth_password"),
            })
        })
        .collect()
}

/// Claims an attempt, the next one at `next_ms`: false when another CC
/// did first.
pub async fn claim(db: &AnyPool, orphan: &DueOrphan, next_ms: i64) -> ApiResult<bool> {
    let claimed = sqlx::query(
        "UPDATE broker_orphans SET attempts = attempts + 1, next_attempt_at = $1 WHERE id = $2 AND attempts = $3",
    )
    .bind(next_ms)
    .bind(orphan.id)
    .bind(orphan.attempts)
    .execute(db)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// The broker has let go of it.
pub async fn forget(db: &AnyPool, id: i64) -> ApiResult<()> {
    sqlx::query("DELETE FROM broker_orphans WHERE id = $1").bind(id).execute(db).await?;
    Ok(())
}
