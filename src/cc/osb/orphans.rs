//! Orphan mitigation (OSB): when a provision or bind fails in a way that
//! may have created something at the broker anyway (a timeout, a 5xx, a
//! success the CC could not read), the CC deletes it there — now, and again
//! with backoff (1 s doubling to an hour) until the broker says it is gone.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sqlx::AnyPool;

use super::client::Broker;
use super::now_ms;
use crate::cc::Cc;
use crate::cc::error::ApiResult;
use crate::cc::model::broker_orphan;

/// Who the broker is told asked, for what the CC does on its own.
pub const PLATFORM_USER: &str = "cloud_controller";
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(3600);

/// Remembers that `path` (a DELETE with its query) must be sent to the broker.
pub async fn record(db: &AnyPool, broker_guid: &str, path: &str) -> ApiResult<()> {
    tracing::warn!("orphan mitigation: DELETE {path} at broker {broker_guid}");
    broker_orphan::record(db, broker_guid, path, now_ms()).await
}

/// Sends the deletes that are due; each is claimed first, so of several
/// CCs one sends it.
pub async fn retry_due(cc: &Cc) -> ApiResult<()> {
    let db = &cc.db;
    for orphan in broker_orphan::due(db, now_ms(), 20).await? {
        let wait = FIRST_RETRY.saturating_mul(1 << orphan.attempts.clamp(0, 12) as u32).min(LONGEST_RETRY);
        if !broker_orphan::claim(db, &orphan, now_ms() + wait.as_millis() as i64).await? {
            continue;
        }
        let broker = Broker {
            url: &orphan.broker_url,
            username: &orphan.auth_username,
            password: &orphan.auth_password,
            http: &cc.broker_client,
        };
        let path = &orphan.path;
        match broker.send(Method::DELETE, path, None, PLATFORM_USER).await {
            Ok(reply) if matches!(reply.status, StatusCode::OK | StatusCode::GONE) => {
                broker_orphan::forget(db, orphan.id).await?;
            }
            Ok(reply) => tracing::warn!("orphan mitigation: {path} answered {}", reply.status),
            Err(e) => tracing::warn!("orphan mitigation: {path}: {}", e.error().description),
        }
    }
    Ok(())
}
