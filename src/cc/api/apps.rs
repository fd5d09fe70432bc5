//! `/v2/apps`: create, read, update, delete an app, and its routes.
//! Changing `state`, `instances` or the routes of a started app is acted on
//! as CF does after the change commits (see [`crate::cc::runner`]).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app_access::{app_event, writable_app};
use super::body::Body;
use super::collection::created;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::model::app::{App, NewApp};
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{APPS, SPACES, stack};
use crate::cc::permissions::{is_space_developer, require};
use crate::cc::{Cc, app_observer, new_guid, quotas, runner};
use crate::protocol::STACK;

const DEFAULT_MEMORY_MB: i64 = 1024;
const DEFAULT_DISK_MB: i64 = 1024;
const STATES: [&str; 2] = ["STOPPED", "STARTED"];
const HEALTH_CHECKS: [&str; 4] = ["port", "process", "none", "http"];

/// The fields of a create or update, checked.
struct AppChanges {
    name: Option<String>,
    memory: Option<i64>,
    instances: Option<i64>,
    disk_quota: Option<i64>,
    state: Option<String>,
    command: Option<Option<String>>,
    buildpack: Option<Option<String>>,
    environment_json: Option<String>,
    health_check_type: Option<String>,
    health_check_timeout: Option<Option<i64>>,
    health_check_http_endpoint: Option<Option<String>>,
    production: Option<bool>,
    enable_ssh: Option<bool>,
}

impl AppChanges {
    fn read(body: &Body) -> ApiResult<AppChanges> {
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
}

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "AppInvalid")?;
    let changes = AppChanges::read(&body)?;
    let name = body.required_string("name")?;
    let space_guid = body.required_string("space_guid")?;
    if SPACES.find_for(&cc.db, &space_guid, &user.user).await.is_err() {
        return Err(ApiError::new("InvalidRelation", &[&format!("Could not find Space with guid: {space_guid}")]));
    }
    require(is_space_developer(&cc.db, &user.user, &space_guid).await?)?;
    let started = changes.state.as_deref() == Some("STARTED");
    let (memory, instances) = (changes.memory.unwrap_or(DEFAULT_MEMORY_MB), changes.instances.unwrap_or(1));
    quotas::check_app(&cc.db, &space_guid, None, memory, instances, started).await?;
    let stack = body.string("stack_guid")?;
    let stack_guid = match &stack {
        Some(guid) => stack::guid_if_exists(&cc.db, guid).await?,
        None => stack::guid_named(&cc.db, STACK).await?,
    }
    .ok_or_else(|| ApiError::new("StackNotFound", &[stack.as_deref().unwrap_or_default()]))?;

    let new = NewApp {
        name: name.clone(),
        space_guid,
        stack_guid,
        memory_mb: memory,
        instances,
        disk_quota_mb: changes.disk_quota.unwrap_or(DEFAULT_DISK_MB),
        state: changes.state.clone().unwrap_or_else(|| "STOPPED".into()),
        command: changes.command.clone().flatten(),
        buildpack: changes.buildpack.clone().flatten(),
        environment_json: changes.environment_json.clone().unwrap_or_else(|| "{}".into()),
        health_check_type: changes.health_check_type.clone().unwrap_or_else(|| "port".into()),
        health_check_timeout: changes.health_check_timeout.flatten(),
        health_check_http_endpoint: changes.health_check_http_endpoint.clone().flatten(),
        production: changes.production.unwrap_or(false),
        enable_ssh: changes.enable_ssh.unwrap_or(false),
    };
    let guid = App::insert(&cc.db, new).await.map_err(|e| taken_or(e, "AppNameTaken", &name))?;
    let response = created(&APPS, &cc, &guid).await?;
    let app = APPS.get(&cc.db, &guid).await?;
    app_event(&cc, &user, "audit.app.create", &guid, &app["entity"], json!({"request": body.redacted()})).await;
    Ok(response)
}

pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let stored = writable_app(&cc, &user, &guid).await?;
    let before = APPS.render(&stored);
    let body = Body::parse(&bytes, "AppInvalid")?;
    let changes = AppChanges::read(&body)?;
    if changes.state.as_deref() == Some("STARTED") && before["entity"]["package_updated_at"].is_null() {
        return Err(ApiError::new("AppPackageInvalid", &["bits have not been uploaded"]));
    }
    if changes.memory.is_some() || changes.instances.is_some() || changes.state.is_some() {
        let old = &before["entity"];
        let memory = changes.memory.or(old["memory"].as_i64()).unwrap_or(DEFAULT_MEMORY_MB);
        let instances = changes.instances.or(old["instances"].as_i64()).unwrap_or(1);
        let started = changes.state.as_deref().or(old["state"].as_str()) == Some("STARTED");
        let space = old["space_guid"].as_str().unwrap_or_default();
        quotas::check_app(&cc.db, space, Some(&guid), memory, instances, started).await?;
    }

    let mut update = Assignments::default();
    let text = |v: &String| SqlValue::Text(Some(v.clone()));
    for (column, value) in [
        ("name", &changes.name),
        ("state", &changes.state),
        ("environment_json", &changes.environment_json),
        ("health_check_type", &changes.health_check_type),
    ] {
        if let Some(v) = value {
            update.set(column, text(v));
        }
    }
    for (column, value) in [
        ("command", &changes.command),
        ("buildpack", &changes.buildpack),
        ("health_check_http_endpoint", &changes.health_check_http_endpoint),
    ] {
        if let Some(v) = value {
            update.set(column, SqlValue::Text(v.clone()));
        }
    }
    for (column, value) in
        [("memory", changes.memory), ("instances", changes.instances), ("disk_quota", changes.disk_quota)]
    {
        if let Some(v) = value {
            update.set(column, SqlValue::Int(Some(v)));
        }
    }
    if let Some(v) = changes.health_check_timeout {
        update.set("health_check_timeout", SqlValue::Int(v));
    }
    for (column, value) in [("production", changes.production), ("enable_ssh", changes.enable_ssh)] {
        if let Some(v) = value {
            update.set(column, SqlValue::Bool(v));
        }
    }
    // Anything that changes what an instance runs gives the app a new
    // version (a restart) — a field sent with the value it has is no change
    // (`wf push` and `cf push` send memory, disk and command every time).
    let old = &before["entity"];
    let changed = |field: &str, new: Option<Value>| new.is_some_and(|new| old[field] != new);
    let environment = changes.environment_json.as_deref().and_then(|text| serde_json::from_str(text).ok());
    let restart_needed = changed("memory", changes.memory.map(Value::from))
        || changed("disk_quota", changes.disk_quota.map(Value::from))
        || changed("command", changes.command.clone().map(|c| c.map_or(Value::Null, Value::from)))
        || changed("environment_json", environment)
        || changes.state.as_deref() == Some("STARTED") && old["state"] != "STARTED";
    if restart_needed {
        update.set("version", SqlValue::Text(Some(new_guid())));
    }
    update.save(&cc.db, "apps", &guid, "AppNameTaken", changes.name.as_deref().unwrap_or_default()).await?;

    let after = APPS.get(&cc.db, &guid).await?;
    app_event(&cc, &user, "audit.app.update", &guid, &after["entity"], json!({"request": body.redacted()})).await;
    if before["entity"]["state"] != after["entity"]["state"] {
        let kind = if after["entity"]["state"] == "STARTED" { "audit.app.start" } else { "audit.app.stop" };
        app_event(&cc, &user, kind, &guid, &after["entity"], json!({})).await;
    }
    app_observer::react_to_change(&cc, &App::from_row(&stored), &App::find(&cc.db, &guid).await?).await?;
    Ok((StatusCode::CREATED, Json(after)).into_response())
}

pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    let app = APPS.render(&writable_app(&cc, &user, &guid).await?);
    runner::stop_all(&cc, &guid).await?;
    app_event(&cc, &user, "audit.app.delete-request", &guid, &app["entity"], json!({"request": {"recursive": true}}))
        .await;
    App::delete(&cc.db, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v2/apps/:app/routes/:route`: map a route to the app.
pub async fn map_route(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((app, route)): Path<(String, String)>,
) -> ApiResult<Response> {
    super::routes::add_mapping(&cc, &user, &app, &route).await?;
    created(&APPS, &cc, &app).await
}

/// `DELETE /v2/apps/:app/routes/:route`.
pub async fn unmap_route(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((app, route)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    super::routes::remove_mapping(&cc, &user, &app, &route).await?;
    Ok(StatusCode::NO_CONTENT)
}
