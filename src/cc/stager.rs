//! Staging from the CC's side: pick a stager from the pool, send
//! `staging.<dea>.start`, follow its replies, and record the outcome on the
//! app — `package_state` STAGED with the droplet and detected buildpack and
//! start command, or FAILED with `staging_failed_reason` and description.
//! A started app's instances are started once its droplet exists.

use std::time::Duration;

use sqlx::Row;

use super::dea_pool::Needs;
use super::error::ApiResult;
use super::{Cc, new_guid, now, rollout, runner};
use crate::blobstore::keys;
use crate::bus::BusExt;
use crate::cc::model::app::App;
use crate::cc::model::security_group;
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
    let package_hash = app.package_hash.unwrap_or_default();
    let task_id = new_guid();
    let limit = Duration::from_secs(cc.config.max_staging_runtime) + TRANSFER_ALLOWANCE;
    let deadline = chrono::Utc::now().timestamp() + (limit + STAGER_PATIENCE).as_secs() as i64;
    sqlx::query(
        "UPDATE apps SET package_state = $1, staging_task_id = $2, staging_failed_reason = NULL, staging_failed_description = NULL, \
         staging_cc = $3, staging_deadline = $4, updated_at = $5 WHERE guid = $6",
    )
    .bind("PENDING")
    .bind(&task_id)
    .bind(&cc.id)
    .bind(deadline)
    .bind(now())
    .bind(guid)
    .execute(&cc.db)
    .await?;

    let mut start_message = runner::start_message(cc, guid, 0).await?;
    start_message.egress_network_rules = security_group::egress_rules(&cc.db, &start_message.space_guid, true).await?;
    let request = StagingRequest {
        app_id: guid.to_string(),
        task_id: task_id.clone(),
        properties: StagingProperties { buildpack: app.buildpack, environment: start_message.env.clone() },
        download_uri: keys::package(&package_hash),
        buildpack_cache_key: keys::buildpack_cache(guid),
        admin_buildpacks: admin_buildpacks(cc).await?,
        stack: STACK.to_string(),
        start_message,
    };
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
    let updated = sqlx::query(
        "UPDATE apps SET package_state = $1, droplet_hash = $2, detected_buildpack = $3, detected_buildpack_guid = \
         (SELECT guid FROM buildpacks WHERE blob_key = $4), detected_start_command = $5, updated_at = $6, \
         staging_cc = NULL, staging_deadline = NULL WHERE guid = $7 AND staging_task_id = $8",
    )
    .bind("STAGED")
    .bind(outcome.droplet_sha1.unwrap_or_default())
    .bind(outcome.detected_buildpack)
    .bind(outcome.buildpack_key.unwrap_or_default())
    .bind(outcome.detected_start_command.unwrap_or_default())
    .bind(now())
    .bind(guid)
    .bind(&task_id)
    .execute(&cc.db)
    .await?;
    // A newer staging of this app supersedes this one and starts it itself.
    if updated.rows_affected() == 0 {
        return Ok(());
    }
    let app = App::find(&cc.db, guid).await?;
    if app.is_started() {
        rollout::roll_out(cc, guid, &app.version, app.instances).await?;
    }
    Ok(())
}

/// Enabled admin buildpacks in detection order.
async fn admin_buildpacks(cc: &Cc) -> ApiResult<Vec<AdminBuildpack>> {
    let rows = sqlx::query(
        "SELECT name, blob_key, sha1 FROM buildpacks WHERE enabled = $1 AND blob_key IS NOT NULL ORDER BY position, id",
    )
    .bind(true)
    .fetch_all(&cc.db)
    .await?;
    Ok(rows
        .iter()
        .map(|r| AdminBuildpack {
            name: r.try_get("name").unwrap_or_default(),
            key: r.try_get("blob_key").unwrap_or_default(),
            sha1: r.try_get::<Option<String>, _>("sha1").ok().flatten().unwrap_or_default(),
        })
        .collect())
}

/// Marks staging FAILED, unless a newer staging (another `task_id`) owns
/// the app now, and says so on the app's log stream (clients waiting for
/// the staging learn of it there).
async fn record_failure(cc: &Cc, guid: &str, task_id: Option<&str>, error: &StagingError) -> ApiResult<()> {
    let recorded = sqlx::query(
        "UPDATE apps SET package_state = $1, staging_failed_reason = $2, staging_failed_description = $3, updated_at = $4, \
         staging_cc = NULL, staging_deadline = NULL WHERE guid = $5 AND (staging_task_id = $6 OR $7)",
    )
    .bind("FAILED")
    .bind(&error.id)
    .bind(&error.message)
    .bind(now())
    .bind(guid)
    .bind(task_id.unwrap_or_default())
    .bind(task_id.is_none())
    .execute(&cc.db)
    .await?;
    if recorded.rows_affected() > 0 {
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
    let lost = sqlx::query(
        "SELECT guid, staging_task_id FROM apps WHERE package_state = $1 AND staging_deadline IS NOT NULL \
         AND (staging_cc = $2 OR staging_deadline < $3)",
    )
    .bind("PENDING")
    .bind(if own { cc.id.as_str() } else { "" })
    .bind(chrono::Utc::now().timestamp())
    .fetch_all(&cc.db)
    .await?;
    for row in lost {
        let guid: String = row.try_get("guid")?;
        let task: Option<String> = row.try_get("staging_task_id")?;
        let taken = sqlx::query(
            "UPDATE apps SET staging_task_id = $1, staging_deadline = NULL WHERE guid = $2 AND staging_task_id = $3 \
             AND package_state = $4",
        )
        .bind(new_guid())
        .bind(&guid)
        .bind(task.unwrap_or_default())
        .bind("PENDING")
        .execute(&cc.db)
        .await?;
        if taken.rows_affected() == 1 {
            tracing::info!("staging app {guid} again: the Cloud Controller following its staging went away");
            tokio::spawn(stage_and_start(cc.clone(), guid));
        }
    }
    Ok(())
}
