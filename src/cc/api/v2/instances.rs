//! `GET /v2/apps/:guid/instances` and `/stats`: the actual state of an
//! app's instances, asked of the DEAs over `dea.find.droplet`. Indexes no
//! DEA reports are DOWN. And the instances' files.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use crate::bus::BusExt;
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::APPS;
use crate::cc::{Cc, runner};
use crate::protocol::messages::{FilesReply, FilesRequest, FindDropletReply, InstanceState, subjects};

/// The started app's entity, or the error CF gives when there is nothing to report.
async fn started_app(cc: &Cc, user: &CurrentUser, guid: &str, stopped_error: &str) -> ApiResult<Value> {
    let app = APPS.render(&APPS.find_for(&cc.db, guid, &user.user).await?);
    let entity = &app["entity"];
    let name = entity["name"].as_str().unwrap_or_default();
    if entity["state"] != "STARTED" {
        return Err(ApiError::new(
            stopped_error,
            &[&format!("Request failed for app: {name} as the app is in stopped state.")],
        ));
    }
    match entity["package_state"].as_str() {
        Some("FAILED") => Err(ApiError::new(
            "StagingError",
            &[entity["staging_failed_description"].as_str().unwrap_or("staging failed")],
        )),
        Some("STAGED") => Ok(entity.clone()),
        _ => Err(ApiError::new("NotStaged", &[])),
    }
}

fn state_name(state: Option<InstanceState>) -> Value {
    match state {
        Some(s) => serde_json::to_value(s).unwrap_or(Value::Null),
        None => json!("DOWN"),
    }
}

pub async fn instances(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let entity = started_app(&cc, &user, &guid, "InstancesError").await?;
    let reports = runner::reports_by_index(
        &cc,
        &guid,
        entity["version"].as_str().unwrap_or_default(),
        entity["instances"].as_u64().unwrap_or(0) as u32,
        false,
    )
    .await?;
    let mut out = serde_json::Map::new();
    for index in 0..entity["instances"].as_u64().unwrap_or(0) as u32 {
        let report = reports.get(&index);
        out.insert(
            index.to_string(),
            json!({
                "state": state_name(report.map(|r| r.state)),
                "since": report.map(|r| r.state_timestamp).unwrap_or_default(),
                "debug_ip": null,
                "debug_port": null,
                "console_ip": null,
                "console_port": null,
            }),
        );
    }
    Ok(Json(Value::Object(out)))
}

pub async fn stats(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let entity = started_app(&cc, &user, &guid, "AppStoppedStatsError").await?;
    let reports = runner::reports_by_index(
        &cc,
        &guid,
        entity["version"].as_str().unwrap_or_default(),
        entity["instances"].as_u64().unwrap_or(0) as u32,
        true,
    )
    .await?;
    let mut out = serde_json::Map::new();
    for index in 0..entity["instances"].as_u64().unwrap_or(0) as u32 {
        let report = reports.get(&index);
        let mut item = json!({"state": state_name(report.map(|r| r.state))});
        if let Some(stats) = report.and_then(|r| r.stats.as_ref()) {
            item["stats"] = serde_json::to_value(stats).map_err(anyhow::Error::from)?;
        }
        out.insert(index.to_string(), item);
    }
    Ok(Json(Value::Object(out)))
}

/// `GET /v2/apps/:guid/instances/:index/files[/path]` (space developers): a
/// file of the instance, or a listing of a directory — served by the DEA
/// that runs it, confined to the instance's directory.
pub async fn files(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> ApiResult<Response> {
    let guid = params.get("guid").cloned().unwrap_or_default();
    let app = writable_app(&cc, &user, &guid).await?;
    let index: u32 = params
        .get("index")
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| ApiError::new("FileError", &["bad instance index"]))?;
    let path = params.get("path").cloned().unwrap_or_default();
    let reports = runner::reports_by_index(&cc, &guid, &app.version, app.instances, false).await?;
    let instance = reports
        .get(&index)
        .ok_or_else(|| ApiError::new("FileError", &[&format!("instance {index} is not running")]))?;
    let request = FilesRequest { instance: instance.instance.clone(), path };
    let replies = cc.bus.request_many(&subjects::dea_files(&instance.dea), &request, 1, Duration::from_secs(5)).await?;
    let reply: FilesReply =
        replies.first().ok_or_else(|| ApiError::new("InstancesUnavailable", &["the DEA did not answer"]))?.json()?;
    if let Some(error) = reply.error {
        return Err(ApiError::new("FileError", &[&error]));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(reply.content_base64.unwrap_or_default())
        .map_err(anyhow::Error::from)?;
    Ok(([("content-type", "text/plain; charset=utf-8")], bytes).into_response())
}

/// `GET /v2/apps/:guid/crashes`: the app's crashed instances of its current
/// version (CF's `instance` and `since`), each with its index's crash
/// count, the reason, and when the health manager starts the index again
/// (`next_restart`, null once it has crashed too often or it runs again).
pub async fn crashes(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let app = APPS.render(&APPS.find_for(&cc.db, &guid, &user.user).await?);
    let version = app["entity"]["version"].as_str().unwrap_or_default().to_string();
    let records = crate::lifecycle::crashes::list(&cc.db, Some(&guid)).await?;
    let reported = runner::find_instances(&cc, &guid, &version, false).await?;
    let live = |index: u32| {
        reported.iter().any(|r| r.index == index && matches!(r.state, InstanceState::Running | InstanceState::Starting))
    };
    let mut crashed: Vec<&FindDropletReply> = reported.iter().filter(|r| r.state == InstanceState::Crashed).collect();
    crashed.sort_by(|a, b| {
        (a.index, a.state_timestamp).partial_cmp(&(b.index, b.state_timestamp)).unwrap_or(std::cmp::Ordering::Equal)
    });
    let out: Vec<Value> = crashed
        .into_iter()
        .map(|c| {
            let record = records.iter().find(|r| r.index == c.index && r.version == version);
            let next_restart = record.filter(|_| !live(c.index)).and_then(|r| {
                let delay = cc.config.crash_policy.restart_delay(r.count)?;
                let at = chrono::DateTime::from_timestamp(r.last_crash_at + delay.as_secs() as i64, 0)?;
                Some(at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            });
            json!({
                "instance": c.instance,
                "index": c.index,
                "since": c.state_timestamp,
                "crash_count": record.map(|r| r.count),
                "reason": record.map(|r| r.last_reason.clone()),
                "next_restart": next_restart,
            })
        })
        .collect();
    Ok(Json(Value::Array(out)))
}

/// `DELETE /v2/apps/:guid/instances/:index` (space developers): `cf
/// restart-app-instance`.
pub async fn restart(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((guid, index)): Path<(String, u32)>,
) -> ApiResult<StatusCode> {
    let app = writable_app(&cc, &user, &guid).await?;
    runner::restart_instance(&cc, &app.guid, app.instances, index).await?;
    Ok(StatusCode::NO_CONTENT)
}
