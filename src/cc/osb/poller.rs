//! The CC's poller of asynchronous broker operations: an instance whose
//! provision, update or deprovision the broker goes on with is asked about
//! (`last_operation`) when due — first after `broker_poll_interval_ms`,
//! then doubling up to a minute, or when the broker's `Retry-After` says —
//! until it succeeds, fails, or runs past `broker_max_poll_minutes`. A
//! broker that cannot be reached meanwhile is asked again later. Each poll
//! is claimed in the CCDB first, so with several CCs one asks. The same
//! loop sends the deletes of orphan mitigation ([`super::orphans`]).

use std::time::Duration;

use sqlx::Row;

use super::operations::{self, PollTiming};
use super::orphans::{self, PLATFORM_USER};
use super::{PlanBroker, now_ms};
use crate::cc::Cc;
use crate::cc::error::ApiResult;
use crate::cc::model::resource::text_column;

const TICK: Duration = Duration::from_millis(250);
/// How long a claimed poll is left to its CC before another may take it.
const CLAIM: Duration = Duration::from_secs(90);

pub fn spawn(cc: Cc) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut timer = tokio::time::interval(TICK);
        loop {
            timer.tick().await;
            if let Err(e) = poll_due(&cc).await {
                tracing::warn!("polling broker operations: {}", e.description);
            }
            if let Err(e) = orphans::retry_due(&cc).await {
                tracing::warn!("orphan mitigation: {}", e.description);
            }
        }
    })
}

async fn poll_due(cc: &Cc) -> ApiResult<()> {
    let (db, timing) = (&cc.db, PollTiming::of(&cc.config));
    let due = sqlx::query(
        "SELECT guid, service_plan_guid, last_operation, broker_operation, poll_at, poll_until, poll_count \
         FROM service_instances WHERE poll_at IS NOT NULL AND poll_at <= $1 ORDER BY poll_at LIMIT 20",
    )
    .bind(now_ms())
    .fetch_all(db)
    .await?;
    for row in due {
        let text = |column: &str| text_column(&row, column);
        let int = |column: &str| row.try_get::<i64, _>(column).unwrap_or(0);
        let (guid, poll_at, count) = (text("guid").unwrap_or_default(), int("poll_at"), int("poll_count"));
        let claimed = sqlx::query("UPDATE service_instances SET poll_at = $1 WHERE guid = $2 AND poll_at = $3")
            .bind(now_ms() + CLAIM.as_millis() as i64)
            .bind(&guid)
            .bind(poll_at)
            .execute(db)
            .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        let (kind, _) = operations::type_and_state(text("last_operation").as_deref());
        let plan = PlanBroker::load(cc, &text("service_plan_guid").unwrap_or_default()).await?;
        let target = plan.target(&guid);
        let operation = text("broker_operation");
        let answer = plan
            .broker()
            .last_operation(&target, operation.as_deref(), kind == operations::DELETE, PLATFORM_USER)
            .await;
        let retry_after = match answer {
            Ok(last) if last.state == operations::SUCCEEDED => {
                let body = serde_json::Map::from_iter([("description".into(), last.description.into())]);
                operations::finish(db, &guid, &kind, &body).await?;
                continue;
            }
            Ok(last) if last.state == operations::FAILED => {
                operations::fail(db, &guid, &kind, &last.description).await?;
                continue;
            }
            Ok(last) => {
                sqlx::query("UPDATE service_instances SET last_operation = $1 WHERE guid = $2")
                    .bind(operations::last_operation(&kind, operations::IN_PROGRESS, &last.description))
                    .bind(&guid)
                    .execute(db)
                    .await?;
                last.retry_after
            }
            Err(e) => {
                tracing::warn!("last_operation of service instance {guid}: {}", e.description);
                None
            }
        };
        let next = now_ms() + timing.wait(count + 1, retry_after).as_millis() as i64;
        if next > int("poll_until") {
            let minutes = timing.give_up_after.as_secs() / 60;
            let reason = format!(
                "Service Broker failed to {kind} service instance within the required time ({minutes} minutes)."
            );
            operations::fail(db, &guid, &kind, &reason).await?;
            continue;
        }
        sqlx::query("UPDATE service_instances SET poll_at = $1, poll_count = $2 WHERE guid = $3")
            .bind(next)
            .bind(count + 1)
            .bind(&guid)
            .execute(db)
            .await?;
    }
    Ok(())
}
