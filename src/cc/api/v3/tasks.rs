//! `/v3/apps/:guid/tasks` and `/v3/tasks`: run a task (`cf run-task`),
//! list an app's tasks (`cf tasks`), cancel one (`cf terminate-task`:
//! v7 sends `PUT /v3/tasks/:guid/cancel`, v8 `POST …/actions/cancel`),
//! (relabelling one is `PATCH`, as for an app's other resources:
//! [`super`]). The work is the tasks service's ([`crate::cc::tasks`]).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::metadata;
use crate::cc::tasks::{self, TaskRequest};
use crate::cc::v3::task::TASKS;

/// `POST /v3/apps/:guid/tasks`: 202 with the task, RUNNING once a DEA took it.
pub async fn create(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(app): Path<String>,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(
        &bytes,
        &[
            "command",
            "name",
            "memory_in_mb",
            "disk_in_mb",
            "log_rate_limit_in_bytes_per_second",
            "droplet_guid",
            "template",
            "user",
            "metadata",
        ],
    )?;
    let mut request = TaskRequest {
        name: body.string("name", "Name")?,
        command: body.string("command", "Command")?.unwrap_or_default(),
        memory_in_mb: body.int("memory_in_mb", "Memory in mb", 1)?,
        disk_in_mb: body.int("disk_in_mb", "Disk in mb", 1)?,
        droplet_guid: body.string("droplet_guid", "Droplet guid")?,
    };
    if request.name.as_ref().is_some_and(|name| name.is_empty() || name.len() > 255) {
        return Err(invalid("Name must be between 1 and 255 characters"));
    }
    // A process as a template gives what the request leaves out; an app's
    // only process here is its web process, whose guid is the app's.
    if let Some(process) = body.string("template/process/guid", "Template process guid")? {
        if process != app {
            return Err(invalid("Template process must be a process of the app"));
        }
        let template = writable_app(&cc, &user, &app).await?;
        if request.command.is_empty() {
            request.command = template.command.or(template.detected_start_command).unwrap_or_default();
        }
        request.memory_in_mb = request.memory_in_mb.or(Some(template.memory_mb as i64));
        request.disk_in_mb = request.disk_in_mb.or(Some(template.disk_quota_mb as i64));
    }
    if request.command.trim().is_empty() {
        return Err(invalid("Command can't be blank"));
    }
    let task = tasks::create(&cc, &user, &app, request).await?;
    metadata::update(&cc.db, &task.guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::ACCEPTED, Json(TASKS.show(&cc, &user.user, &task.guid, None).await?)))
}

/// `POST /v3/tasks/:guid/actions/cancel` (and v7's `PUT /v3/tasks/:guid/cancel`): 202.
pub async fn cancel(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    tasks::cancel(&cc, &user, &guid).await?;
    Ok((StatusCode::ACCEPTED, Json(TASKS.show(&cc, &user.user, &guid, None).await?)))
}
