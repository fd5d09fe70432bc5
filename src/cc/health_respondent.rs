//! CCNG's HealthManagerRespondent: carries out what the health manager
//! asks on `health.start` and `health.stop`, through the same placement
//! and stop paths as a user's request. A start is checked against the
//! process as stored now (its app still started, staged, same version,
//! index still wanted), so a change made since the HM looked always wins.

use anyhow::Result;

use super::{Cc, runner};
use crate::bus::{BusExt, Message, reply};
use crate::cc::model::process::Process;
use crate::protocol::messages::{DeaStop, HealthStart, HealthStartReply, HealthStop, subjects};

pub async fn listen(cc: Cc) -> Result<()> {
    // One CC of many answers each request.
    let mut starts = cc.bus.subscribe(subjects::HEALTH_START, Some("cloud_controller")).await?;
    let mut stops = cc.bus.subscribe(subjects::HEALTH_STOP, Some("cloud_controller")).await?;
    let for_starts = cc.clone();
    tokio::spawn(async move {
        while let Some(message) = starts.next().await {
            let cc = for_starts.clone();
            tokio::spawn(async move {
                if let Err(e) = start(&cc, &message).await {
                    tracing::warn!("health.start: {e:#}");
                }
            });
        }
    });
    tokio::spawn(async move {
        while let Some(message) = stops.next().await {
            if let Err(e) = stop(&cc, &message).await {
                tracing::warn!("health.stop: {e:#}");
            }
        }
    });
    Ok(())
}

async fn start(cc: &Cc, message: &Message) -> Result<()> {
    let request: HealthStart = message.json()?;
    // Only indices the process still wants, of the version the HM saw.
    let wanted = match Process::find_optional(&cc.db, &request.droplet).await {
        Ok(Some(p)) if p.started && p.staged && p.version == request.version => p.instances,
        _ => 0,
    };
    let indices: Vec<u32> = request.indices.iter().copied().filter(|i| *i < wanted).collect();
    let placed = runner::place_instances(cc, &request.droplet, &indices).await;
    if placed.len() < indices.len() {
        tracing::debug!(
            "health.start for app {}: no room for {} instance(s)",
            request.droplet,
            indices.len() - placed.len()
        );
    }
    reply(cc.bus.as_ref(), message, &HealthStartReply { placed }).await
}

async fn stop(cc: &Cc, message: &Message) -> Result<()> {
    let request: HealthStop = message.json()?;
    let stop = DeaStop { droplet: request.droplet, version: None, instances: Some(request.instances), indices: None };
    cc.bus.publish(subjects::DEA_STOP, &stop).await
}
