//! `/v2/apps`: create, read, update, delete an app, and its routes.
//! Changing `state`, `instances` or the routes of a started app is acted on
//! as CF does after the change commits (see [`crate::cc::runner`]).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::body::Body;
use super::collection::created;
use crate::cc::Cc;
use crate::cc::app_changes::writable_app;
use crate::cc::app_changes::{self, AppChanges, HEALTH_CHECKS, STATES, app_event};
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::{APPS, SPACES};
use crate::cc::permissions::{is_space_developer, require};

/// The fields of a v2 create or update, checked.
fn read_changes(body: &Body) -> ApiResult<AppChanges> {
    let positive = |key: &str, value: Option<i64>, min: i64| match value {
        Some(v) if v < min => Err(body.invalid(&format!("{key} must be at least {min}"))),
        v => Ok(v),
    };
    let one_of = |key: &str, value: Option<String>, allowed: &[&str]| match value {
        Some(v) if !allowed.contains(&v.as_str()) => {
            Err(body.invalid(&format!("{key} must be one of {}", allowed.join(", "))))
        }
        v => Ok(v),
    };
    let environment_json = match body.object("environment_json")? {
        Some(env) => {
            if let Some((key, _)) = env.iter().find(|(k, _)| k.starts_with("VCAP_") || k.is_empty()) {
                return Err(body.invalid(&format!("environment_json cannot set {key:?}")));
            }
            Some(serde_json::to_string(&env).map_err(anyhow::Error::from)?)
        }
        None => None,
    };
    let name = body.string("name")?;
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(body.invalid("name can't be blank"));
    }
    Ok(AppChanges {
        name,
        memory: positive("memory", body.int("memory")?, 1)?,
        instances: positive("instances", body.int("instances")?, 0)?,
        disk_quota: positive("disk_quota", body.int("disk_quota")?, 1)?,
        state: one_of("state", body.string("state")?, &STATES)?,
        command: body.nullable_string("command")?,
        buildpack: body.nullable_string("buildpack")?,
        environment_json,
        health_check_type: one_of("health_check_type", body.string("health_check_type")?, &HEALTH_CHECKS)?,
        health_check_timeout: body.nullable_int("health_check_timeout")?,
        health_check_http_endpoint: body.nullable_string("health_check_http_endpoint")?,
        production: body.bool("production")?,
        enable_ssh: body.bool("enable_ssh")?,
    })
}

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "AppInvalid")?;
    let changes = read_changes(&body)?;
    let name = body.required_string("name")?;
    let space_guid = body.required_string("space_guid")?;
    if SPACES.find_for(&cc.db, &space_guid, &user.user).await.is_err() {
        return Err(ApiError::new("InvalidRelation", &[&format!("Could not find Space with guid: {space_guid}")]));
    }
    require(is_space_developer(&cc.db, &user.user, &space_guid).await?)?;
    let stack = body.string("stack_guid")?;
    let guid = app_changes::create(&cc, &user, &name, &space_guid, stack.as_deref(), changes, body.redacted()).await?;
    created(&APPS, &cc, &guid).await
}

pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let stored = writable_app(&cc, &user, &guid).await?;
    let body = Body::parse(&bytes, "AppInvalid")?;
    let changes = read_changes(&body)?;
    app_changes::update(&cc, &user, &stored, changes, body.redacted()).await?;
    Ok((StatusCode::CREATED, Json(APPS.get(&cc.db, &guid).await?)).into_response())
}

pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    let app = writable_app(&cc, &user, &guid).await?;
    app_event(&cc, &user, "audit.app.delete-request", &app, json!({"request": {"recursive": true}})).await;
    app_changes::delete(&cc, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v2/apps/:app/routes/:route`: map a route to the app.
pub async fn map_route(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((app, route)): Path<(String, String)>,
) -> ApiResult<Response> {
    crate::cc::routing::add_mapping(&cc, &user, &app, &route).await?;
    created(&APPS, &cc, &app).await
}

/// `DELETE /v2/apps/:app/routes/:route`.
pub async fn unmap_route(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((app, route)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    crate::cc::routing::remove_mapping(&cc, &user, &app, &route).await?;
    Ok(StatusCode::NO_CONTENT)
}
