//! Staging from the CC's side: pick a stager from the pool, send
//! `staging.<dea>.start`, follow its replies, and record the outcome on the
//! app — `package_state` STAGED with the droplet and detected buildpack and
//! start command, or FAILED with `staging_failed_reason` and description.
//! A started app's instances are started once its droplet exists.

use std::time::Duration;

use sqlx::Row;

use super::api::APPS;
use super::api::security_groups;
use super::error::ApiResult;
use super::{Cc, new_guid, now, runner, seed};
use crate::blobstore::keys;
use crate::bus::BusExt;
use crate::bus::messages::{AdminBuildpack, StagingError, StagingProperties, StagingReply, StagingRequest, subjects};

/// Time allowed beyond the buildpack's own limit for downloads and uploads.
const TRANSFER_ALLOWANCE: Duration = Duration::from_secs(60);

/// Stages the app's current package, then starts it if it is started.
pub async fn stage_and_start(cc: Cc, guid: String) {
    if let Err(e) = run(&cc, &guid).await {
        tracing::error!("staging app {guid}: {e:?}");
        let failure = StagingError { id: "StagingError".into(), message: format!("Staging error: {}", e.description) };
        let _ = record_failure(&cc, &guid, None, &failure).await;
    }
}

async fn run(cc: &Cc, guid: &str) -> ApiResult<()> {
    let app = APPS.find(&cc.db, guid).await?;
    let package_hash: String = app.try_get::<Option<String>, _>("package_hash").ok().flatten().unwrap_or_default();
    let buildpack: Option<String> =
        app.try_get::<Option<String>, _>("buildpack").ok().flatten().filter(|b| !b.is_empty());
    let task_id = new_guid();
    sqlx::query(
        "UPDATE apps SET package_state = $1, staging_task_id = $2, staging_failed_reason = NULL, staging_failed_description = NULL, \
         updated_at = $3 WHERE guid = $4",
    )
    .bind("PENDING")
    .bind(&task_id)
    .bind(now())
    .bind(guid)
    .execute(&cc.db)
    .await?;

    let mut start_message = runner::start_message(cc, guid, 0).await?;
    start_message.egress_network_rules = security_groups::rules_for(cc, &start_message.space_guid, true).await?;
    let request = StagingRequest {
        app_id: guid.to_string(),
        task_id: task_id.clone(),
        properties: StagingProperties { buildpack, environment: start_message.env.clone() },
        download_uri: keys::package(&package_hash),
        buildpack_cache_key: keys::buildpack_cache(guid),
        admin_buildpacks: admin_buildpacks(cc).await?,
        stack: seed::STACK.to_string(),
        start_message,
    };
    let memory = request.start_message.limits.mem;
    let Some(stager) =
        super::dea_pool::wait_for(Duration::from_secs(5), || cc.deas.find_stager(memory, seed::STACK)).await
    else {
        let failure =
            StagingError { id: "StagingError".into(), message: format!("no DEA has {memory}M free to stage this app") };
        return record_failure(cc, guid, Some(&task_id), &failure).await;
    };

    let mut replies = cc.bus.request_stream(&subjects::staging_start(&stager), &request).await?;
    let limit = Duration::from_secs(cc.config.max_staging_runtime) + TRANSFER_ALLOWANCE;
    let deadline = tokio::time::Instant::now() + limit;
    let outcome = loop {
        match tokio::time::timeout_at(deadline, replies.next()).await {
            Ok(Some(message)) => match message.json::<StagingReply>() {
                Ok(reply) if reply.finished => break reply,
                Ok(_) => continue,
                Err(e) => tracing::warn!("{e:#}"),
            },
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
         (SELECT guid FROM buildpacks WHERE blob_key = $4), detected_start_command = $5, updated_at = $6 \
         WHERE guid = $7 AND staging_task_id = $8",
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
    let app = APPS.get(&cc.db, guid).await?;
    if app["entity"]["state"] == "STARTED" {
        let instances = app["entity"]["instances"].as_u64().unwrap_or(0) as u32;
        runner::start_instances(cc, guid, 0..instances).await?;
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

/// Marks staging FAILED, unless a newer staging (another `task_id`) owns the app now.
async fn record_failure(cc: &Cc, guid: &str, task_id: Option<&str>, error: &StagingError) -> ApiResult<()> {
    sqlx::query(
        "UPDATE apps SET package_state = $1, staging_failed_reason = $2, staging_failed_description = $3, updated_at = $4 \
         WHERE guid = $5 AND (staging_task_id = $6 OR $7)",
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
    Ok(())
}
