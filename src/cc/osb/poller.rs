//! The CC's poller of asynchronous broker operations: an instance whose
//! provision, update or deprovision the broker goes on with is asked about
//! (`last_operation`) when due — first after `broker_poll_interval_ms`,
//! then doubling up to a minute, or when the broker's `Retry-After` says —
//! until it succeeds, fails, or runs past `broker_max_poll_minutes`. A
//! broker that cannot be reached meanwhile is asked again later. Each poll
//! is claimed in the CCDB first, so with several CCs one asks. The same
//! loop sends the deletes of orphan mitigation ([`super::orphans`]).

use std::time::Duration;

use super::now_ms;
use super::operations::PollTiming;
use super::orphans::{self, PLATFORM_USER};
use crate::cc::Cc;
use crate::cc::error::ApiResult;
use crate::cc::model::service::PlanBroker;
use crate::cc::model::service_operation::{self, DELETE, FAILED, SUCCEEDED};

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
    for due in service_operation::due(db, now_ms(), 20).await? {
        if !service_operation::claim(db, &due, now_ms() + CLAIM.as_millis() as i64).await? {
            continue;
        }
        let (guid, kind) = (&due.instance_guid, &due.kind);
        let plan = PlanBroker::find(&cc.db, &due.service_plan_guid).await?;
        let target = plan.target(guid);
        let answer = plan
            .broker(cc)
            .last_operation(&target, due.broker_operation.as_deref(), kind == DELETE, PLATFORM_USER)
            .await;
        let retry_after = match answer {
            Ok(last) if last.state == SUCCEEDED => {
                service_operation::succeed(db, guid, kind, &last.description, None).await?;
                continue;
            }
            Ok(last) if last.state == FAILED => {
                service_operation::fail(db, guid, kind, &last.description).await?;
                continue;
            }
            Ok(last) => {
                service_operation::progress(db, guid, kind, &last.description).await?;
                last.retry_after
            }
            Err(e) => {
                tracing::warn!("last_operation of service instance {guid}: {}", e.description);
                None
            }
        };
        let next = now_ms() + timing.wait(due.poll_count + 1, retry_after).as_millis() as i64;
        if next > due.poll_until {
            let minutes = timing.give_up_after.as_secs() / 60;
            let reason = format!(
                "Service Broker failed to {kind} service instance within the required time ({minutes} minutes)."
            );
            service_operation::fail(db, guid, kind, &reason).await?;
            continue;
        }
        service_operation::poll_again(db, guid, next, due.poll_count + 1).await?;
    }
    Ok(())
}
