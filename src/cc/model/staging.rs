//! An app's staging, as the CCDB keeps it on the app's row: PENDING with
//! the task staging it, the CC following that task and when it gives up;
//! then STAGED with the droplet (a droplet record, v3's current droplet),
//! or FAILED with why. Every change after
//! the start names its task, so a newer staging of the app (another task)
//! is never overwritten by an older one's end. A droplet keeps the key of
//! what it was staged from, so staging the same again can reuse it
//! ([`reusable`]).

use sqlx::{AnyPool, Row};

use crate::cc::error::ApiResult;
use crate::cc::{new_guid, now};

/// What a finished staging made.
pub struct Staged {
    pub droplet_sha1: String,
    pub detected_buildpack: Option<String>,
    /// The blobstore key of the admin buildpack that staged it.
    pub buildpack_key: String,
    pub detected_start_command: String,
    /// The droplet's commands by process type.
    pub process_types: std::collections::BTreeMap<String, String>,
    /// What it was staged from (the stager's hash of it).
    pub staging_key: String,
}

/// Marks the app PENDING under `task_id`, followed by the CC `cc_id`
/// until `deadline` (a Unix time).
pub async fn begin(db: &AnyPool, guid: &str, task_id: &str, cc_id: &str, deadline: i64) -> ApiResult<()> {
    sqlx::query(
        "UPDATE apps SET package_state = $1, staging_task_id = $2, staging_failed_reason = NULL, \
         staging_failed_description = NULL, staging_cc = $3, staging_deadline = $4, updated_at = $5 WHERE guid = $6",
    )
    .bind("PENDING")
    .bind(task_id)
    .bind(cc_id)
    .bind(deadline)
    .bind(now())
    .bind(guid)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the app STAGED with what `task_id` made, recorded as a new
/// droplet (of the package it was staged from) that is the app's current
/// one; false when a newer staging owns the app now.
pub async fn succeeded(db: &AnyPool, guid: &str, task_id: &str, staged: Staged) -> ApiResult<bool> {
    let droplet = new_guid();
    sqlx::query(
        "INSERT INTO droplets (guid, app_guid, package_guid, state, sha1, buildpack, detect_output, start_command, \
         created_at, process_types, staging_key) SELECT $1, guid, (SELECT p.guid FROM packages p WHERE p.app_guid = \
         apps.guid AND p.sha1 = apps.package_hash ORDER BY p.id DESC LIMIT 1), $2, $3, (SELECT name FROM buildpacks \
         WHERE blob_key = $4), $5, $6, $7, $10, $11 FROM apps WHERE guid = $8 AND staging_task_id = $9",
    )
    .bind(&droplet)
    .bind("STAGED")
    .bind(&staged.droplet_sha1)
    .bind(&staged.buildpack_key)
    .bind(&staged.detected_buildpack)
    .bind(&staged.detected_start_command)
    .bind(now())
    .bind(guid)
    .bind(task_id)
    .bind(serde_json::to_string(&staged.process_types).unwrap_or_default())
    .bind(&staged.staging_key)
    .execute(db)
    .await?;
    super::package::prune(db, guid).await?;
    let updated = sqlx::query(
        "UPDATE apps SET package_state = $1, droplet_hash = $2, detected_buildpack = $3, detected_buildpack_guid = \
         (SELECT guid FROM buildpacks WHERE blob_key = $4), detected_start_command = $5, updated_at = $6, \
         staging_cc = NULL, staging_deadline = NULL, droplet_guid = $7 WHERE guid = $8 AND staging_task_id = $9",
    )
    .bind("STAGED")
    .bind(staged.droplet_sha1)
    .bind(staged.detected_buildpack)
    .bind(staged.buildpack_key)
    .bind(staged.detected_start_command)
    .bind(now())
    .bind(&droplet)
    .bind(guid)
    .bind(task_id)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// The latest droplet of the app staged from what `staging_key` stands
/// for, as staging would make it again.
pub async fn reusable(db: &AnyPool, app_guid: &str, staging_key: &str) -> ApiResult<Option<Staged>> {
    let row = sqlx::query(
        "SELECT d.sha1, d.detect_output, COALESCE((SELECT b.blob_key FROM buildpacks b WHERE b.name = d.buildpack), '') \
         AS buildpack_key, d.start_command, d.process_types FROM droplets d WHERE d.app_guid = $1 AND d.staging_key = $2 \
         AND d.state = $3 AND d.sha1 IS NOT NULL ORDER BY d.id DESC LIMIT 1",
    )
    .bind(app_guid)
    .bind(staging_key)
    .bind("STAGED")
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let process_types: Option<String> = row.try_get("process_types")?;
    Ok(Some(Staged {
        droplet_sha1: row.try_get("sha1")?,
        detected_buildpack: row.try_get("detect_output")?,
        buildpack_key: row.try_get("buildpack_key")?,
        detected_start_command: row.try_get::<Option<String>, _>("start_command")?.unwrap_or_default(),
        process_types: process_types.and_then(|types| serde_json::from_str(&types).ok()).unwrap_or_default(),
        staging_key: staging_key.to_string(),
    }))
}

/// Marks the app FAILED with CF's `reason` and a description, unless a
/// newer staging than `task_id` owns it (no task: whichever staging);
/// whether it did.
pub async fn failed(
    db: &AnyPool,
    guid: &str,
    task_id: Option<&str>,
    reason: &str,
    description: &str,
) -> ApiResult<bool> {
    let recorded = sqlx::query(
        "UPDATE apps SET package_state = $1, staging_failed_reason = $2, staging_failed_description = $3, updated_at = $4, \
         staging_cc = NULL, staging_deadline = NULL WHERE guid = $5 AND (staging_task_id = $6 OR $7)",
    )
    .bind("FAILED")
    .bind(reason)
    .bind(description)
    .bind(now())
    .bind(guid)
    .bind(task_id.unwrap_or_default())
    .bind(task_id.is_none())
    .execute(db)
    .await?;
    Ok(recorded.rows_affected() > 0)
}

/// The stagings no CC follows any more: those the CC `own` followed (at
/// its start), and every one past its deadline — each taken over under a
/// new task id first, so that of several CCs sweeping at once exactly one
/// gets it. The guids of the apps taken.
pub async fn take_over_lost(db: &AnyPool, own: Option<&str>) -> sqlx::Result<Vec<String>> {
    let lost = sqlx::query(
        "SELECT guid, staging_task_id FROM apps WHERE package_state = $1 AND staging_deadline IS NOT NULL \
         AND (staging_cc = $2 OR staging_deadline < $3)",
    )
    .bind("PENDING")
    .bind(own.unwrap_or_default())
    .bind(chrono::Utc::now().timestamp())
    .fetch_all(db)
    .await?;
    let mut taken = Vec::new();
    for row in lost {
        let guid: String = row.try_get("guid")?;
        let task: Option<String> = row.try_get("staging_task_id")?;
        let took = sqlx::query(
            "UPDATE apps SET staging_task_id = $1, staging_deadline = NULL WHERE guid = $2 AND staging_task_id = $3 \
             AND package_state = $4",
        )
        .bind(new_guid())
        .bind(&guid)
        .bind(task.unwrap_or_default())
        .bind("PENDING")
        .execute(db)
        .await?;
        if took.rows_affected() == 1 {
            taken.push(guid);
        }
    }
    Ok(taken)
}
