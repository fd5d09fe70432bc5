//! Starting a version of a started app, and retiring the versions before
//! it as their successors come up (the rule is
//! [`crate::lifecycle::handover`]'s). Every start of a whole app goes
//! through here — the first one has nothing to retire — so a re-push, a
//! restage or a changed environment never leaves a route without an
//! instance: the old ones keep serving until the new ones pass their
//! health checks, and then the DEAs drain them.

use std::collections::HashSet;
use std::ops::Range;
use std::time::Duration;

use super::Cc;
use super::error::{ApiError, ApiResult};
use super::model::app::App;
use super::model::process::Process;
use super::model::revision::Revision;
use super::runner;
use crate::bus::BusExt;
use crate::lifecycle::actual::Reported;
use crate::lifecycle::handover;
use crate::protocol::messages::{DeaStop, subjects};

/// How long the CC follows a rollout; the health manager ends any it left.
const FOLLOW_FOR: Duration = Duration::from_secs(300);

/// Rolls the app out at its version — recording it as a revision when
/// what it runs changed (`why`, else the change found, describes it): every process but web (a process
/// that finds no room is left to the health manager), then web, whose
/// lack of room the user is told of. A deployment rolling out step by
/// step starts each process's indices below its
/// [`reached`](Process::reached) count; [`roll_out_indices`] the rest later.
pub async fn roll_out_app(cc: &Cc, app: &App, why: Option<String>) -> ApiResult<()> {
    Revision::record(&cc.db, app, why).await?;
    let mut outcome = Ok(());
    for process in Process::of_app(&cc.db, &app.guid).await? {
        outcome = roll_out_indices(cc, &process, 0..process.reached()).await;
        if let Err(e) = &outcome {
            tracing::info!("app {}: process {}: {}", app.guid, process.kind, e.description);
        }
    }
    outcome
}

/// Places these indices of a process at its app's version, then follows
/// the rollout in the background. Indices that found no DEA with room give
/// their old instance up at once, so the health manager can place them.
pub async fn roll_out_indices(cc: &Cc, process: &Process, indices: Range<u32>) -> ApiResult<()> {
    let (guid, version) = (&process.guid, &process.version);
    let indices: Vec<u32> = indices.collect();
    let placed = runner::place_instances(cc, guid, &indices).await;
    let unplaced: Vec<u32> = indices.into_iter().filter(|i| !placed.contains(i)).collect();
    if !unplaced.is_empty() {
        let old: Vec<String> = cc
            .actual
            .instances(Some(guid))
            .into_iter()
            .filter(|r| &r.instance.version != version && unplaced.contains(&r.instance.index))
            .map(|r| r.instance.instance)
            .collect();
        stop_instances(cc, guid, old).await;
    }
    tokio::spawn(follow(cc.clone(), guid.clone(), version.clone(), process.instances, process.reached()));
    if !unplaced.is_empty() {
        return Err(ApiError::new("InsufficientRunningResourcesAvailable", &[]));
    }
    Ok(())
}

/// Stops each old instance as the heartbeats show its successor running,
/// until none is left, the app moved on to another version or was
/// stopped, or [`FOLLOW_FOR`] passed.
async fn follow(cc: Cc, guid: String, version: String, instances: u32, reached: u32) {
    let mut heartbeats = cc.actual.heartbeats();
    let deadline = tokio::time::Instant::now() + FOLLOW_FOR;
    let mut asked = HashSet::new();
    loop {
        let reported = cc.actual.instances(Some(&guid));
        let all: Vec<&Reported> = reported.iter().collect();
        let handover = handover::between(&all, &version, instances, reached);
        let retire: Vec<String> =
            handover.retire.iter().map(|r| r.instance.instance.clone()).filter(|id| asked.insert(id.clone())).collect();
        stop_instances(&cc, &guid, retire).await;
        if handover.waiting == 0 || !matches!(tokio::time::timeout_at(deadline, heartbeats.changed()).await, Ok(Ok(())))
        {
            return;
        }
        if !still_wanted(&cc, &guid, &version).await {
            return;
        }
    }
}

/// Asks the DEAs to stop (and drain) these instances of earlier versions.
async fn stop_instances(cc: &Cc, guid: &str, instances: Vec<String>) {
    if instances.is_empty() {
        return;
    }
    tracing::info!("app {guid}: retiring {} instance(s) of earlier versions", instances.len());
    let stop = DeaStop { droplet: guid.into(), version: None, instances: Some(instances), indices: None };
    if let Err(e) = cc.bus.publish(subjects::DEA_STOP, &stop).await {
        tracing::warn!("retiring old instances of app {guid}: {e:#}");
    }
}

/// Whether the process's app is still started at `version` (a later
/// change follows its own rollout).
async fn still_wanted(cc: &Cc, guid: &str, version: &str) -> bool {
    let process = Process::find_optional(&cc.db, guid).await;
    process.is_ok_and(|process| process.is_some_and(|p| p.started && p.version == version))
}
