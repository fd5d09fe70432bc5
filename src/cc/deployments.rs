//! Deployments, whichever API asks (`cf push --strategy rolling|canary`,
//! `cf restart --strategy …`, `cf continue-deployment`, `cf
//! cancel-deployment`, `cf rollback`): a started, staged app gets a new
//! version — of its current droplet, of the droplet the request names, or
//! of an earlier revision — and rolls out to it `max_in_flight` indices at
//! a time, each next step once every instance of the last runs. A canary
//! deployment pauses after each of its steps until continued; cancelling
//! rolls the previous droplet back out at once.
//!
//! The [`updater`] moves every ACTIVE deployment along as heartbeats come
//! (as CCNG's deployment updater does on its clock); each step is a
//! compare-and-set on the app's `rolled_out_instances`, so of several CCs
//! one starts it. A deployment this CC started and another CC finishes
//! ends the same way.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::app_changes::{app_event, writable_app};
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult};
use super::model::app::App;
use super::model::deployment::{ACTIVE, CANARY, Deployment, FINALIZED, NewDeployment, WebScale, canary_share};
use super::model::process::Process;
use super::model::revision::Revision;
use super::{Cc, quotas, rollout};
use crate::cc::model::Record;
use crate::protocol::messages::InstanceState;

/// How often the updater looks when no heartbeat came.
const UPDATE_EVERY: Duration = Duration::from_secs(1);

/// What a user asks a deployment to be.
pub struct DeploymentRequest {
    pub app_guid: String,
    pub droplet_guid: Option<String>,
    pub revision_guid: Option<String>,
    pub strategy: String,
    pub max_in_flight: u32,
    /// Canary steps' instance weights (percentages); none: one instance.
    pub canary_steps: Vec<u32>,
    /// What the web process scales to as it rolls out.
    pub web: WebScale,
}

fn invalid(detail: &str) -> ApiError {
    ApiError::new("UnprocessableEntity", &[detail])
}

/// Starts a deployment; its guid.
pub async fn create(cc: &Cc, user: &CurrentUser, request: DeploymentRequest) -> ApiResult<String> {
    let before = writable_app(cc, user, &request.app_guid).await?;
    if !before.is_started() {
        return Err(invalid("Cannot create deployment for a STOPPED app."));
    }
    // The new scale must fit the quotas before anything changes.
    let instances = request.web.instances.map_or(i64::from(before.instances), i64::from);
    let memory = request.web.memory_in_mb.unwrap_or(before.memory_mb) as i64;
    quotas::check_app(&cc.db, &before.space_guid, Some(&before.guid), memory, instances, true).await?;
    cc.deas.check_fits(memory, request.web.disk_in_mb.unwrap_or(before.disk_quota_mb) as i64)?;
    let mut why = None;
    if let Some(guid) = &request.revision_guid {
        let revision = Revision::find(&cc.db, guid).await.map_err(|_| invalid("The revision does not exist"))?;
        if revision.app_guid != before.guid || revision.droplet_hash.is_none() {
            return Err(invalid("The revision must be one of the app's, with a droplet"));
        }
        revision.restore(&cc.db).await?;
        why = Some(format!("Rolled back to revision {}.", revision.version));
    } else if let Some(droplet) = &request.droplet_guid {
        App::set_current_droplet(&cc.db, &before.guid, droplet).await?;
    }
    let app = App::find(&cc.db, &before.guid).await?;
    if !app.is_staged() {
        return Err(invalid("Cannot create deployment for an app that is not staged."));
    }
    Deployment::supersede_active(&cc.db, &app.guid).await?;
    App::scale_web(&cc.db, &app.guid, request.web).await?;
    let widest = widest(&Process::of_app(&cc.db, &app.guid).await?);
    let rolled_out = match request.strategy.as_str() {
        CANARY => Some(canary_share(request.canary_steps.first().copied(), widest)),
        _ => (request.max_in_flight < widest).then_some(request.max_in_flight),
    };
    let version = App::new_version(&cc.db, &app.guid, rolled_out).await?;
    let guid = Deployment::insert(
        &cc.db,
        NewDeployment {
            app_guid: &app.guid,
            version: &version,
            previous_version: &before.version,
            droplet_guid: app.droplet_guid.as_deref(),
            droplet_hash: app.droplet_hash.as_deref(),
            previous_droplet_guid: before.droplet_guid.as_deref(),
            previous_droplet_hash: before.droplet_hash.as_deref(),
            strategy: &request.strategy,
            max_in_flight: request.max_in_flight,
            canary_steps: &request.canary_steps,
            web: request.web,
        },
    )
    .await?;
    app_event(cc, user, "audit.app.deployment.create", &app, json!({"deployment_guid": guid})).await;
    rollout::roll_out_app(cc, &App::find(&cc.db, &app.guid).await?, why).await?;
    Ok(guid)
}

/// The deployment, if `user` may change its app.
async fn writable(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<Deployment> {
    let deployment = Deployment::find(&cc.db, guid).await?;
    let not_found = || ApiError::new("DeploymentNotFound", &[guid]);
    writable_app(cc, user, &deployment.app_guid).await.map_err(|e| if e.status == 404 { not_found() } else { e })?;
    Ok(deployment)
}

/// Cancels an ACTIVE deployment: the droplet it replaced rolls back out
/// at once, as a new version.
pub async fn cancel(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<()> {
    let deployment = writable(cc, user, guid).await?;
    let not_deploying = || invalid("Cannot cancel a deployment that is not deploying");
    if deployment.status_value != ACTIVE {
        return Err(not_deploying());
    }
    let app = deployment.app_guid.clone();
    if let Some(droplet) = &deployment.previous_droplet_guid {
        App::set_current_droplet(&cc.db, &app, droplet).await?;
    }
    if !Deployment::set_status(&cc.db, guid, FINALIZED, "CANCELED").await? {
        return Err(not_deploying());
    }
    App::new_version(&cc.db, &app, None).await?;
    let shown = App::find(&cc.db, &app).await?;
    app_event(cc, user, "audit.app.deployment.cancel", &shown, json!({"deployment_guid": guid})).await;
    rollout::roll_out_app(cc, &App::find(&cc.db, &app).await?, None).await
}

/// Continues a PAUSED canary deployment to its next step (past its last:
/// the rest of the instances, `max_in_flight` at a time).
pub async fn continue_deployment(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<()> {
    let deployment = writable(cc, user, guid).await?;
    if !Deployment::continue_from_pause(&cc.db, &deployment.guid).await? {
        let (value, reason) = (&deployment.status_value, &deployment.status_reason);
        return Err(invalid(&format!("Cannot continue a deployment with status: {value} and reason: {reason}")));
    }
    let app = deployment.app_guid.clone();
    let shown = App::find(&cc.db, &app).await?;
    app_event(cc, user, "audit.app.deployment.continue", &shown, json!({"deployment_guid": guid})).await;
    update(cc, &Deployment::find(&cc.db, guid).await?).await
}

/// Moves every ACTIVE deployment along, on each heartbeat (at least
/// every [`UPDATE_EVERY`]), for as long as the CC runs.
pub fn updater(cc: &Cc) {
    let weak = Arc::downgrade(cc);
    let mut heartbeats = cc.actual.heartbeats();
    tokio::spawn(async move {
        loop {
            if let Ok(Err(_)) = tokio::time::timeout(UPDATE_EVERY, heartbeats.changed()).await {
                tokio::time::sleep(UPDATE_EVERY).await;
            }
            let Some(cc) = weak.upgrade() else { return };
            let active = match Deployment::active(&cc.db).await {
                Ok(active) => active,
                Err(e) => {
                    tracing::warn!("reading active deployments: {}", e.description);
                    continue;
                }
            };
            for deployment in active {
                if let Err(e) = update(&cc, &deployment).await {
                    tracing::warn!("deployment {}: {}", deployment.guid, e.description);
                }
            }
        }
    });
}

/// One step of an ACTIVE deployment, if it is due: finalized once its app
/// moved on (SUPERSEDED), stopped (CANCELED) or runs its version on every
/// index (DEPLOYED); PAUSED once a canary step's instances run; else the
/// next indices rolled out once those before them run.
async fn update(cc: &Cc, deployment: &Deployment) -> ApiResult<()> {
    let guid = &deployment.guid;
    let Some(app) = App::find_optional(&cc.db, &deployment.app_guid).await? else { return Ok(()) };
    if app.version != deployment.version {
        Deployment::set_status(&cc.db, guid, FINALIZED, "SUPERSEDED").await?;
        return Ok(());
    }
    if !app.is_started() {
        Deployment::set_status(&cc.db, guid, FINALIZED, "CANCELED").await?;
        return Ok(());
    }
    if deployment.status_reason == "PAUSED" || !app.is_staged() {
        return Ok(());
    }
    let processes = Process::of_app(&cc.db, &app.guid).await?;
    if !processes.iter().all(|process| runs_what_it_reached(cc, process)) {
        return Ok(());
    }
    let widest = widest(&processes);
    let rolled_out = processes.first().and_then(|process| process.rolled_out);
    let next = match rolled_out {
        Some(reached) if deployment.in_canary_steps() => {
            let step = deployment.canary_instances(widest);
            if reached >= step {
                Deployment::set_status(&cc.db, guid, ACTIVE, "PAUSED").await?;
                return Ok(());
            }
            step
        }
        Some(reached) if reached < widest => reached + deployment.max_in_flight,
        _ => {
            if let Some(reached) = rolled_out {
                App::roll_out_further(&cc.db, &app.guid, &app.version, reached, None).await?;
            }
            Deployment::set_status(&cc.db, guid, FINALIZED, "DEPLOYED").await?;
            return Ok(());
        }
    };
    let reached = rolled_out.unwrap_or_default();
    let to = (next < widest).then_some(next);
    if !App::roll_out_further(&cc.db, &app.guid, &app.version, reached, to).await? {
        return Ok(());
    }
    for process in Process::of_app(&cc.db, &app.guid).await? {
        let indices = reached.min(process.instances)..process.reached();
        if !indices.is_empty()
            && let Err(e) = rollout::roll_out_indices(cc, &process, indices).await
        {
            tracing::info!("deployment {guid}: process {}: {}", process.kind, e.description);
        }
    }
    Ok(())
}

/// Whether every index the rollout reached runs the process's version.
fn runs_what_it_reached(cc: &Cc, process: &Process) -> bool {
    let reported = cc.actual.instances(Some(&process.guid));
    (0..process.reached()).all(|index| {
        reported.iter().any(|r| {
            r.instance.index == index
                && r.instance.version == process.version
                && r.instance.state == InstanceState::Running
        })
    })
}

/// The most instances any of the app's processes has.
fn widest(processes: &[Process]) -> u32 {
    processes.iter().map(|process| process.instances).max().unwrap_or(0)
}
