//! `/v3/processes` and an app's processes: read, scale, change the command
//! and health check, and the instances' stats. An app has a process per
//! type ([`crate::cc::model::process`]); changes go through
//! [`crate::cc::process_changes`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::body::{Body, invalid};
use crate::cc::app_changes::HEALTH_CHECKS;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::Record;
use crate::cc::model::metadata;
use crate::cc::model::process::{Process, ProcessChanges};
use crate::cc::model::sql::Condition;
use crate::cc::process_changes::{self, writable_process};
use crate::cc::v3::process::PROCESSES;
use crate::cc::{Cc, runner};
use crate::protocol::messages::InstanceState;

fn process_not_found() -> ApiError {
    ApiError::new("ProcessNotFound", &[])
}

/// The guid of the app's process of `kind`.
async fn of_type(cc: &Cc, user: &CurrentUser, app: &str, kind: &str) -> ApiResult<String> {
    crate::cc::v3::app::APPS.find_for(cc, &user.user, app).await?;
    let process = Process::of_type(&cc.db, app, kind).await?.ok_or_else(process_not_found)?;
    Ok(process.guid)
}

/// `GET /v3/apps/:guid/processes`.
pub async fn of_app(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(app): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    crate::cc::v3::app::APPS.find_for(&cc, &user.user, &app).await?;
    let path = format!("/v3/apps/{app}/processes");
    Ok(Json(PROCESSES.list(&cc, &user.user, query.as_deref(), vec![Condition::eq("app_guid", &app)], &path).await?))
}

/// `GET /v3/apps/:guid/processes/:type`.
pub async fn show_of_app(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((app, kind)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let guid = of_type(&cc, &user, &app, &kind).await?;
    Ok(Json(PROCESSES.show(&cc, &user.user, &guid, None).await?))
}

/// Reads a scale request (`instances`, `memory_in_mb`, `disk_in_mb`) and applies it.
async fn scale(cc: &Cc, user: &CurrentUser, guid: &str, bytes: &[u8]) -> ApiResult<(StatusCode, Json<Value>)> {
    let process = writable_process(cc, user, guid).await?;
    let body = Body::parse(bytes, &["instances", "memory_in_mb", "disk_in_mb", "log_rate_limit_in_bytes_per_second"])?;
    let changes = ProcessChanges {
        instances: body.int("instances", "Instances", 0)?,
        memory: body.int("memory_in_mb", "Memory in mb", 1)?,
        disk_quota: body.int("disk_in_mb", "Disk in mb", 1)?,
        ..Default::default()
    };
    process_changes::change(cc, user, &process, changes, Value::Object(body.0.clone())).await?;
    Ok((StatusCode::ACCEPTED, Json(PROCESSES.show(cc, &user.user, guid, None).await?)))
}

/// `POST /v3/processes/:guid/actions/scale`.
pub async fn scale_process(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    scale(&cc, &user, &guid, &bytes).await
}

/// `POST /v3/apps/:guid/processes/:type/actions/scale`.
pub async fn scale_of_app(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((app, kind)): Path<(String, String)>,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let guid = of_type(&cc, &user, &app, &kind).await?;
    scale(&cc, &user, &guid, &bytes).await
}

/// `PATCH /v3/processes/:guid`: command, health check, metadata.
pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let process = writable_process(&cc, &user, &guid).await?;
    let body = Body::parse(&bytes, &["command", "health_check", "readiness_health_check", "metadata"])?;
    let mut changes = ProcessChanges::default();
    if body.0.contains_key("command") {
        changes.command = Some(body.string("command", "Command")?.filter(|c| !c.is_empty()));
    }
    if let Some(kind) = body.string("health_check/type", "Health check type")? {
        if !HEALTH_CHECKS.contains(&kind.as_str()) {
            return Err(invalid(&format!("Health check type must be one of {}", HEALTH_CHECKS.join(", "))));
        }
        changes.health_check_type = Some(kind);
    }
    if body.at("health_check/data").is_some() {
        changes.health_check_timeout = Some(body.int("health_check/data/timeout", "Timeout", 1)?);
        changes.health_check_http_endpoint = Some(body.string("health_check/data/endpoint", "Endpoint")?);
    }
    process_changes::change(&cc, &user, &process, changes, Value::Object(body.0.clone())).await?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok(Json(PROCESSES.show(&cc, &user.user, &guid, None).await?))
}

/// The stats of each instance index of the process: DOWN where none runs.
async fn stats(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<Json<Value>> {
    PROCESSES.find_for(cc, &user.user, guid).await.map_err(|_| process_not_found())?;
    let process = Process::find(&cc.db, guid).await?;
    let reports = if process.started {
        runner::reports_by_index(cc, guid, &process.version, process.instances, true).await?
    } else {
        Default::default()
    };
    let mut resources = Vec::new();
    for index in 0..process.instances {
        let report = reports.get(&index);
        let state = match report.map(|r| r.state) {
            Some(InstanceState::Running) => "RUNNING",
            Some(InstanceState::Starting) => "STARTING",
            Some(InstanceState::Crashed) => "CRASHED",
            _ => "DOWN",
        };
        let mut item = json!({
            "type": process.kind, "index": index, "state": state, "host": "", "uptime": 0, "instance_ports": [],
            "mem_quota": process.memory_mb * 1024 * 1024, "disk_quota": process.disk_quota_mb * 1024 * 1024,
            "fds_quota": 0, "isolation_segment": null, "details": null,
            "usage": {},
        });
        if let Some(stats) = report.and_then(|r| r.stats.as_ref()) {
            item["host"] = json!(stats.host);
            item["uptime"] = json!(stats.uptime);
            item["fds_quota"] = json!(stats.fds_quota);
            item["instance_ports"] = json!([{"external": stats.port, "internal": stats.port}]);
            item["usage"] = json!({
                "time": stats.usage.time, "cpu": stats.usage.cpu, "mem": stats.usage.mem, "disk": stats.usage.disk,
                "log_rate": 0,
            });
        }
        resources.push(item);
    }
    Ok(Json(json!({"resources": resources})))
}

/// `GET /v3/processes/:guid/stats`.
pub async fn stats_of_process(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<Json<Value>> {
    stats(&cc, &user, &guid).await
}

/// `GET /v3/apps/:guid/processes/:type/stats`.
pub async fn stats_of_app(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((app, kind)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let guid = of_type(&cc, &user, &app, &kind).await?;
    stats(&cc, &user, &guid).await
}

/// `DELETE /v3/processes/:guid/instances/:index`: `cf restart-app-instance`.
pub async fn restart_instance(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((guid, index)): Path<(String, u32)>,
) -> ApiResult<StatusCode> {
    let process = writable_process(&cc, &user, &guid).await?;
    runner::restart_instance(&cc, &process.guid, process.instances, index).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v3/apps/:guid/processes/:type/instances/:index`.
pub async fn restart_instance_of_app(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((app, kind, index)): Path<(String, String, u32)>,
) -> ApiResult<StatusCode> {
    let guid = of_type(&cc, &user, &app, &kind).await?;
    let process = writable_process(&cc, &user, &guid).await?;
    runner::restart_instance(&cc, &process.guid, process.instances, index).await?;
    Ok(StatusCode::NO_CONTENT)
}
