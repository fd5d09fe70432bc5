//! Orphan mitigation (OSB): when a provision or bind fails in a way that
//! may have created something at the broker anyway (a timeout, a 5xx, a
//! success the CC could not read), the CC deletes it there — now, and again
//! with backoff (1 s doubling to an hour) until the broker says it is gone.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sqlx::{AnyPool, Row};

use super::client::Broker;
use super::now_ms;
use crate::cc::Cc;
use crate::cc::error::ApiResult;

/// Who the broker is told asked, for what the CC does on its own.
pub const PLATFORM_USER: &str = "cloud_controller";
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(3600);

/// Remembers that `path` (a DELETE with its query) must be sent to the broker.
pub async fn record(db: &AnyPool, broker_guid: &str, path: &str) -> ApiResult<()> {
    tracing::warn!("orphan mitigation: DELETE {path} at broker {broker_guid}");
    sqlx::query("INSERT INTO broker_orphans (service_broker_guid, path, next_attempt_at) VALUES ($1, $2, $3)")
        .bind(broker_guid)
        .bind(path)
        .bind(now_ms())
        .execute(db)
        .await?;
    Ok(())
}

/// Sends the deletes that are due; each is claimed first, so of several
/// CCs one sends it.
pub async fn retry_due(cc: &Cc) -> ApiResult<()> {
    let db = &cc.db;
    let due = sqlx::query(
        "SELECT o.id, o.path, o.attempts, b.broker_url, b.auth_username, b.auth_password FROM broker_orphans o \
         JOIN service_brokers b ON b.guid = o.service_broker_guid WHERE o.next_attempt_at <= $1 ORDER BY o.id LIMIT 20",
    )
    .bind(now_ms())
    .fetch_all(db)
    .await?;
    for row in due {
        let id: i64 = row.try_get("id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let wait = FIRST_RETRY.saturating_mul(1 << attempts.clamp(0, 12) as u32).min(LONGEST_RETRY);
        let claimed = sqlx::query(
            "UPDATE broker_orphans SET attempts = attempts + 1, next_attempt_at = $1 WHERE id = $2 AND attempts = $3",
        )
        .bind(now_ms() + wait.as_millis() as i64)
        .bind(id)
        .bind(attempts)
        .execute(db)
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        let text = |column: &str| row.try_get::<String, _>(column).unwrap_or_default();
        let (url, username, password, path) =
            (text("broker_url"), text("auth_username"), text("auth_password"), text("path"));
        let broker =
            Broker { url: &url, username: &username, password: &password, timeout: cc.config.broker_timeout() };
        match broker.send(Method::DELETE, &path, None, PLATFORM_USER).await {
            Ok(reply) if matches!(reply.status, StatusCode::OK | StatusCode::GONE) => {
                sqlx::query("DELETE FROM broker_orphans WHERE id = $1").bind(id).execute(db).await?;
            }
            Ok(reply) => tracing::warn!("orphan mitigation: {path} answered {}", reply.status),
            Err(e) => tracing::warn!("orphan mitigation: {path}: {}", e.error().description),
        }
    }
    Ok(())
}
