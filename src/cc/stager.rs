//! Staging from the CC's side: pick a stager from the pool, send
//! `staging.<dea>.start`, follow its replies, and record the outcome on the
//! app — `package_state` STAGED with the droplet and detected buildpack and
//! start command, or FAILED with `staging_failed_reason` and description.
//! A started app's instances are started once its droplet exists.
//!
//! Staging is a function of what the stager is sent: the package, the
//! buildpacks (wasm components, by content), the environment and services
//! they see, where they may connect (the staging security groups), the
//! stack. When all of it is what an earlier droplet of the
//! app was staged from ([`staging_key`]), that droplet is used again at
//! once, as a build cache would: a push of an unchanged app returns
//! without staging, and its instances start from code their DEA has
//! compiled already.

use std::time::Duration;

use super::dea_pool::Needs;
use super::error::ApiResult;
use super::{Cc, new_guid, rollout, runner};
use serde::Serialize;

use crate::blobstore::{keys, sha1_hex};
use crate::bus::BusExt;
use crate::cc::model::Record;
use crate::cc::model::app::App;
use crate::cc::model::process::Process;
use crate::cc::model::staging::{self, Staged};
use crate::cc::model::{buildpack, environment_variable_group, security_group};
use crate::protocol::STACK;
use crate::protocol::messages::{
    AdminBuildpack, LogMessage, StagingError, StagingProperties, StagingReply, StagingRequest, subjects,
};

/// Time allowed beyond the buildpack's own limit for downloads and uploads.
const TRANSFER_ALLOWANCE: Duration = Duration::from_secs(60);
/// How long staging waits for a first stager to advertise (just after start-up).
const STAGER_PATIENCE: Duration = Duration::from_secs(5);
/// How long a stager has to say it took a staging request (its first
/// reply comes at once) before it is asked again: a request published
/// while the stager was reconnecting to the bus is lost.
const ACCEPT_PATIENCE: Duration = Duration::from_secs(2);
/// How often a CC looks for stagings whose CC died.
const LOST_STAGING_SWEEP: Duration = Duration::from_secs(15);

/// Stages the app's current package, then starts it if it is started.
pub async fn stage_and_start(cc: Cc, guid: String) {
    if let Err(e) = run(&cc, &guid).await {
        tracing::error!("staging app {guid}: {e:?}");
        let failure = StagingError { id: "StagingError".into(), message: format!("Staging error: {}", e.description) };
        let _ = record_failure(&cc, &guid, None, &failure).await;
    }
}

async fn run(cc: &Cc, guid: &str) -> ApiResult<()> {
    let app = App::find(&cc.db, guid).await?;
    let package_hash = app.package_hash.clone().unwrap_or_default();
    let task_id = new_guid();
    let limit = Duration::from_secs(cc.config.max_staging_runtime) + TRANSFER_ALLOWANCE;
    let deadline = chrono::Utc::now().timestamp() + (limit + STAGER_PATIENCE).as_secs() as i64;
    staging::begin(&cc.db, guid, &task_id, &cc.id, deadline).await?;

    let mut start_message = runner::start_message(cc, guid, 0).await?;
    start_message.egress_network_rules = security_group::egress_rules(&cc.db, &start_message.space_guid, true).await?;
    let request = StagingRequest {
        app_id: guid.to_string(),
        task_id: task_id.clone(),
        // Staging sees the staging group beneath the app's own variables.
        properties: StagingProperties {
            buildpack: app.buildpack.clone(),
            environment: environment_variable_group::merged(
                environment_variable_group::get(&cc.db, "staging").await?,
                app.environment(),
            ),
        },
        download_uri: keys::package(&package_hash),
        buildpack_cache_key: keys::buildpack_cache(guid),
        admin_buildpacks: buildpack::enabled_in_order(&cc.db).await?,
        stack: STACK.to_string(),
        start_message,
    };
    let staging_key = staging_key(&request);
    if let Some(staged) = reusable(cc, guid, &staging_key).await? {
        return finish(cc, guid, &task_id, staged).await;
    }
    let limits = request.start_message.limits;
    let needs = Needs { memory: limits.memory_mb, disk: limits.disk_mb, stack: STACK };
    cc.deas.wait_for_stager(STAGER_PATIENCE).await;
    let Some(stager) = cc.deas.find_stager(needs) else {
        let failure = StagingError {
            id: "StagingError".into(),
            message: format!(
                "no DEA has {}M of memory and {}M of disk free to stage this app",
                limits.memory_mb, limits.disk_mb
            ),
        };
        return record_failure(cc, guid, Some(&task_id), &failure).await;
    };

    let mut replies = cc.bus.request_stream(&subjects::staging_start(&stager), &request).await?;
    let deadline = tokio::time::Instant::now() + limit;
    let mut accepted = false;
    let outcome = loop {
        let wait = if accepted { deadline } else { deadline.min(tokio::time::Instant::now() + ACCEPT_PATIENCE) };
        match tokio::time::timeout_at(wait, replies.next()).await {
            Ok(Some(message)) => match message.json::<StagingReply>() {
                Ok(reply) if reply.finished => break reply,
                Ok(_) => accepted = true,
                Err(e) => tracing::warn!("{e:#}"),
            },
            Err(_) if !accepted && tokio::time::Instant::now() < deadline => {
                let stager = cc.deas.find_stager(needs).unwrap_or_else(|| stager.clone());
                tracing::info!("no stager took the staging of app {guid}; asking {stager}");
                replies = cc.bus.request_stream(&subjects::staging_start(&stager), &request).await?;
            }
            Ok(None) | Err(_) => {
                let failure = StagingError {
                    id: "StagingTimeExpired".into(),
                    message: format!("staging took longer than {}s", limit.as_secs()),
                };
                return record_failure(cc, guid, Some(&task_id), &failure).await;
            }
        }
    };
    if let Some(error) = &outcome.error {
        return record_failure(cc, guid, Some(&task_id), error).await;
    }
    let staged = Staged {
        process_types: outcome.process_types,
        droplet_sha1: outcome.droplet_sha1.unwrap_or_default(),
        detected_buildpack: outcome.detected_buildpack,
        buildpack_key: outcome.buildpack_key.unwrap_or_default(),
        detected_start_command: outcome.detected_start_command.unwrap_or_default(),
        staging_key,
    };
    finish(cc, guid, &task_id, staged).await
}

/// Records what staging `task_id` made and starts the app if it is started.
async fn finish(cc: &Cc, guid: &str, task_id: &str, staged: Staged) -> ApiResult<()> {
    let process_types = staged.process_types.clone();
    // A newer staging of this app supersedes this one and starts it itself.
    if !staging::succeeded(&cc.db, guid, task_id, staged).await? {
        return Ok(());
    }
    let app = App::find(&cc.db, guid).await?;
    Process::record_types(&cc.db, &app, &process_types).await?;
    if app.is_started() {
        rollout::roll_out_app(cc, &app, None).await?;
    }
    Ok(())
}

/// What a droplet is staged from, as [`staging_key`] hashes it.
#[derive(Serialize)]
struct StagedFrom<'a> {
    /// The release staging: its DEAs make the droplets.
    release: &'a str,
    package: &'a str,
    properties: &'a StagingProperties,
    buildpacks: &'a [AdminBuildpack],
    stack: &'a str,
    services: &'a [serde_json::Value],
    egress: &'a [crate::protocol::messages::EgressRule],
}

/// The hash of what `request` stages from.
fn staging_key(request: &StagingRequest) -> String {
    let from = StagedFrom {
        release: env!("CARGO_PKG_VERSION"),
        package: &request.download_uri,
        properties: &request.properties,
        buildpacks: &request.admin_buildpacks,
        stack: &request.stack,
        services: &request.start_message.services,
        egress: &request.start_message.egress_network_rules,
    };
    sha1_hex(&serde_json::to_vec(&from).unwrap_or_default())
}

/// The app's droplet staged from `staging_key`, if its bits are still in
/// the blobstore; says so on the app's staging log.
async fn reusable(cc: &Cc, guid: &str, staging_key: &str) -> ApiResult<Option<Staged>> {
    let Some(staged) = staging::reusable(&cc.db, guid, staging_key).await? else { return Ok(None) };
    if !cc.blobstore.exists(&keys::droplet(&staged.droplet_sha1)).await.unwrap_or(false) {
        return Ok(None);
    }
    for text in [
        format!("-----> Nothing to stage: droplet {} was staged from this package,", staged.droplet_sha1),
        "       with the same buildpacks, environment, services, security groups and stack; using it again".to_string(),
    ] {
        let line = LogMessage::new(guid, "STG", "0", "OUT", text);
        cc.bus.publish(&line.subject(), &line).await?;
    }
    Ok(Some(staged))
}

/// Marks staging FAILED, unless a newer staging (another `task_id`) owns
/// the app now, and says so on the app's log stream (clients waiting for
/// the staging learn of it there).
async fn record_failure(cc: &Cc, guid: &str, task_id: Option<&str>, error: &StagingError) -> ApiResult<()> {
    if staging::failed(&cc.db, guid, task_id, &error.id, &error.message).await? {
        let text = format!("Staging failed: {} ({})", error.message, error.id);
        let line = LogMessage::new(guid, "API", "0", "ERR", text);
        cc.bus.publish(&line.subject(), &line).await?;
    }
    Ok(())
}

/// Stages again what a CC was following when it died: at start, what this
/// CC itself was following; from then on, every staging past its deadline
/// (its CC never came back). Taking one over changes its task id first, so
/// of several CCs sweeping at once exactly one stages it again.
pub fn resume_lost_stagings(cc: Cc) {
    tokio::spawn(async move {
        let mut own = true;
        loop {
            if let Err(e) = resume(&cc, own).await {
                tracing::warn!("resuming lost stagings: {e:#}");
            }
            own = false;
            tokio::time::sleep(LOST_STAGING_SWEEP).await;
        }
    });
}

async fn resume(cc: &Cc, own: bool) -> anyhow::Result<()> {
    for guid in staging::take_over_lost(&cc.db, own.then_some(cc.id.as_str())).await? {
        tracing::info!("staging app {guid} again: the Cloud Controller following its staging went away");
        tokio::spawn(stage_and_start(cc.clone(), guid));
    }
    Ok(())
}
