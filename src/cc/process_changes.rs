//! Changing a process, whichever type it is. The web process's changes are
//! the app's own ([`super::app_changes`]: a new version, rolled out). Any
//! other type's are its row's — checked against the quotas as the app's
//! are — and then its instances follow at once if the app runs: more are
//! started, those past the count stopped, and all restarted when what an
//! instance runs with (memory, disk, command, health check) changed.

use serde_json::{Value, json};

use super::app_changes::{self, AppChanges, app_event, writable_app};
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult};
use super::model::app::App;
use super::model::process::{Process, ProcessChanges};
use super::{Cc, quotas, runner};
use crate::bus::BusExt;
use crate::cc::model::Record;
use crate::protocol::messages::{DeaStop, subjects};

/// The process, if the user sees it (else ProcessNotFound) and may change
/// its app (else NotAuthorized).
pub async fn writable_process(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<Process> {
    let process = Process::find_for(&cc.db, guid, &user.user).await?;
    writable_app(cc, user, &process.app_guid).await?;
    Ok(process)
}

/// Applies `changes` to the process; `request` is what the audit event records.
pub async fn change(
    cc: &Cc,
    user: &CurrentUser,
    process: &Process,
    changes: ProcessChanges,
    request: Value,
) -> ApiResult<()> {
    if process.is_web() {
        let stored = writable_app(cc, user, &process.app_guid).await?;
        let changes = AppChanges {
            instances: changes.instances,
            memory: changes.memory,
            disk_quota: changes.disk_quota,
            command: changes.command,
            health_check_type: changes.health_check_type,
            health_check_timeout: changes.health_check_timeout,
            health_check_http_endpoint: changes.health_check_http_endpoint,
            ..Default::default()
        };
        return app_changes::update(cc, user, &stored, changes, request).await;
    }
    let app = App::find(&cc.db, &process.app_guid).await?;
    let memory = changes.memory.unwrap_or(process.memory_mb as i64);
    let instances = changes.instances.unwrap_or(process.instances as i64);
    quotas::check_app(&cc.db, &app.space_guid, Some(&process.guid), memory, instances, app.is_started()).await?;
    cc.deas.check_fits(memory, changes.disk_quota.unwrap_or(process.disk_quota_mb as i64))?;
    Process::update(&cc.db, &process.guid, &changes).await?;
    let metadata = json!({"process_guid": process.guid, "process_type": process.kind, "request": request});
    let kind = if changes.instances.is_some() || changes.memory.is_some() || changes.disk_quota.is_some() {
        "audit.app.process.scale"
    } else {
        "audit.app.process.update"
    };
    app_event(cc, user, kind, &app, metadata).await;
    if !(app.is_started() && app.is_staged()) {
        return Ok(());
    }
    let restart = changes.memory.is_some_and(|m| m as u64 != process.memory_mb)
        || changes.disk_quota.is_some_and(|d| d as u64 != process.disk_quota_mb)
        || changes.command.is_some()
        || changes.health_check_type.is_some()
        || changes.health_check_timeout.is_some()
        || changes.health_check_http_endpoint.is_some();
    let (before, after) = (if restart { 0 } else { process.instances }, instances as u32);
    if restart {
        stop(cc, &process.guid, None).await?;
    }
    if after > before {
        runner::start_instances(cc, &process.guid, before..after).await?;
    } else if after < before {
        stop(cc, &process.guid, Some((after..before).collect())).await?;
    }
    Ok(())
}

/// Stops the process's instances (at `indices`, else all).
async fn stop(cc: &Cc, guid: &str, indices: Option<Vec<u32>>) -> ApiResult<()> {
    let stop = DeaStop { droplet: guid.into(), version: None, instances: None, indices };
    cc.bus.publish(subjects::DEA_STOP, &stop).await.map_err(ApiError::from)
}
