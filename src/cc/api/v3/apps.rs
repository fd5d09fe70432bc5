//! `/v3/apps`: create, rename, relabel and delete apps; start, stop and
//! restart them; their environment. Every change goes through the same
//! service as v2's ([`crate::cc::app_changes`]), so both APIs agree.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::api::app_access::environment;
use crate::cc::app_changes::writable_app;
use crate::cc::app_changes::{self, AppChanges};
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::job::Job;
use crate::cc::model::{SPACES, metadata, stack};
use crate::cc::permissions::{is_space_developer, require};
use crate::cc::v3::app::APPS;

/// The buildpack and stack of a `lifecycle`, checked: one buildpack at
/// most (a droplet here is built by one), an existing stack.
async fn lifecycle(cc: &Cc, body: &Body, changes: &mut AppChanges) -> ApiResult<Option<String>> {
    let Some(lifecycle) = body.at("lifecycle") else { return Ok(None) };
    if lifecycle.get("type").and_then(Value::as_str).is_some_and(|t| t != "buildpack") {
        return Err(invalid("Lifecycle type must be 'buildpack': apps here are built by buildpacks"));
    }
    if let Some(buildpacks) = body.at("lifecycle/data/buildpacks") {
        let names: Vec<&str> = buildpacks
            .as_array()
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .ok_or_else(|| invalid("Buildpacks must be an array of strings"))?;
        if names.len() > 1 {
            return Err(invalid(
                "Lifecycle buildpacks can hold one buildpack here (multi-buildpack staging is not supported)",
            ));
        }
        changes.buildpack = Some(names.first().map(|n| n.to_string()).filter(|n| n != "default" && n != "null"));
    }
    match body.string("lifecycle/data/stack", "Stack")? {
        Some(name) => match stack::guid_named(&cc.db, &name).await? {
            Some(guid) => Ok(Some(guid)),
            None => Err(invalid(&format!("Stack must be an existing stack: '{name}' is not one"))),
        },
        None => Ok(None),
    }
}

fn name_taken(e: ApiError, name: &str) -> ApiError {
    if e.name == "AppNameTaken" { invalid(&format!("App with the name '{name}' already exists.")) } else { e }
}

/// `POST /v3/apps`.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["name", "relationships", "environment_variables", "lifecycle", "metadata"])?;
    let name =
        body.string("name", "Name")?.filter(|n| !n.trim().is_empty()).ok_or_else(|| invalid("Name can't be blank"))?;
    let space = body
        .string("relationships/space/data/guid", "Space guid")?
        .ok_or_else(|| invalid("Relationships Space can't be blank"))?;
    if SPACES.find_for(&cc.db, &space, &user.user).await.is_err() {
        return Err(invalid("Invalid space. Ensure that the space exists and you have access to it."));
    }
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    let mut changes = AppChanges::default();
    if let Some(vars) = body.env("environment_variables")? {
        changes.environment_json = Some(Value::Object(vars).to_string());
    }
    let stack = lifecycle(&cc, &body, &mut changes).await?;
    let request = json!({"name": name, "space_guid": space});
    let guid = app_changes::create(&cc, &user, &name, &space, stack.as_deref(), changes, request)
        .await
        .map_err(|e| name_taken(e, &name))?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::CREATED, Json(APPS.show(&cc, &user.user, &guid, None).await?)))
}

/// `PATCH /v3/apps/:guid`: name, lifecycle, metadata.
pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let stored = writable_app(&cc, &user, &guid).await?;
    let body = Body::parse(&bytes, &["name", "lifecycle", "metadata"])?;
    let mut changes = AppChanges { name: body.string("name", "Name")?, ..Default::default() };
    if changes.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(invalid("Name can't be blank"));
    }
    lifecycle(&cc, &body, &mut changes).await?;
    let name = changes.name.clone().unwrap_or_default();
    let request = json!({"name": changes.name, "lifecycle": body.at("lifecycle")});
    app_changes::update(&cc, &user, &stored, changes, request).await.map_err(|e| name_taken(e, &name))?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok(Json(APPS.show(&cc, &user.user, &guid, None).await?))
}

/// `DELETE /v3/apps/:guid`: stops its instances and deletes it; 202 with
/// the (finished) job to poll, as CF answers.
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    let app = writable_app(&cc, &user, &guid).await?;
    let job = Job::create(&cc.db, &cc.id, "app.delete").await?;
    app_changes::app_event(&cc, &user, "audit.app.delete-request", &app, json!({"request": {"recursive": true}})).await;
    app_changes::delete(&cc, &guid).await?;
    Job::finish(&cc.db, &job, None).await;
    Ok(accepted_job(&cc, &job))
}

/// 202 naming a job for `operation` that is done already: work v3 makes a
/// job of that the CC finishes within the request.
pub async fn finished_job(cc: &Cc, operation: &str) -> ApiResult<Response> {
    let job = Job::create(&cc.db, &cc.id, operation).await?;
    Job::finish(&cc.db, &job, None).await;
    Ok(accepted_job(cc, &job))
}

/// 202 with `Location` naming the job.
pub fn accepted_job(cc: &Cc, job: &str) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(location) = format!("{}/v3/jobs/{job}", cc.config.external_url()).parse() {
        headers.insert(header::LOCATION, location);
    }
    (StatusCode::ACCEPTED, headers).into_response()
}

/// Sets the app's state; `restart` stops it first, so it runs anew.
async fn set_state(cc: &Cc, user: &CurrentUser, guid: &str, state: &str) -> ApiResult<()> {
    let stored = writable_app(cc, user, guid).await?;
    if state == "STARTED" && stored.droplet_hash.is_none() && stored.package_hash.is_none() {
        return Err(invalid("Assign a droplet before starting this app."));
    }
    let changes = AppChanges { state: Some(state.into()), ..Default::default() };
    app_changes::update(cc, user, &stored, changes, json!({"state": state})).await
}

/// `POST /v3/apps/:guid/actions/{start,stop,restart}`.
pub async fn action(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((guid, action)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    match action.as_str() {
        "start" => set_state(&cc, &user, &guid, "STARTED").await?,
        "stop" => set_state(&cc, &user, &guid, "STOPPED").await?,
        "restart" => {
            set_state(&cc, &user, &guid, "STOPPED").await?;
            set_state(&cc, &user, &guid, "STARTED").await?;
        }
        _ => return Err(ApiError::not_found()),
    }
    Ok(Json(APPS.show(&cc, &user.user, &guid, None).await?))
}

/// `GET /v3/apps/:guid/env` (space developers).
pub async fn env(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let stored = writable_app(&cc, &user, &guid).await?;
    let env = environment(&cc, &stored).await?;
    Ok(Json(json!({
        "staging_env_json": env.staging_group,
        "running_env_json": env.running_group,
        "environment_variables": env.user,
        "system_env_json": {"VCAP_SERVICES": env.vcap_services},
        "application_env_json": {"VCAP_APPLICATION": env.vcap_application},
    })))
}

fn environment_variables(cc: &Cc, guid: &str, vars: Map<String, Value>) -> Value {
    let url = cc.config.external_url();
    json!({
        "var": vars,
        "links": {
            "self": {"href": format!("{url}/v3/apps/{guid}/environment_variables")},
            "app": {"href": format!("{url}/v3/apps/{guid}")},
        },
    })
}

/// `GET /v3/apps/:guid/environment_variables`.
pub async fn get_environment_variables(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = writable_app(&cc, &user, &guid).await?;
    Ok(Json(environment_variables(&cc, &guid, app.environment())))
}

/// `PATCH /v3/apps/:guid/environment_variables`: `{"var": {K: V|null}}`
/// sets or (null) removes each variable.
pub async fn update_environment_variables(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let stored = writable_app(&cc, &user, &guid).await?;
    let body = Body::parse(&bytes, &["var"])?;
    let mut vars = stored.environment();
    for (key, value) in body.env("var")?.unwrap_or_default() {
        match value {
            Value::Null => vars.remove(&key),
            Value::String(_) | Value::Number(_) | Value::Bool(_) => vars.insert(key, value),
            _ => return Err(invalid(&format!("Environment variable {key} must be a string, number, boolean or null"))),
        };
    }
    let changes = AppChanges { environment_json: Some(Value::Object(vars.clone()).to_string()), ..Default::default() };
    app_changes::update(&cc, &user, &stored, changes, json!({"var": "[PRIVATE DATA HIDDEN]"})).await?;
    Ok(Json(environment_variables(&cc, &guid, vars)))
}

/// `GET /v3/apps/:guid/ssh_enabled`: instances here are wasm guests, with no shell to reach.
pub async fn ssh_enabled(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    APPS.find_for(&cc, &user.user, &guid).await?;
    Ok(Json(
        json!({"enabled": false, "reason": "SSH is not available: app instances are WebAssembly guests without a shell"}),
    ))
}

/// `GET /v3/apps/:guid/features`.
pub async fn features(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    APPS.find_for(&cc, &user.user, &guid).await?;
    let resources = json!([
        {"name": "ssh", "description": "Enable SSHing into the app.", "enabled": false},
        {"name": "revisions", "description": "Enable versioning of an application", "enabled": true},
    ]);
    let url = format!("{}/v3/apps/{guid}/features", cc.config.external_url());
    Ok(Json(json!({
        "resources": resources,
        "pagination": {"total_results": 2, "total_pages": 1, "first": {"href": url}, "last": {"href": url}, "next": null, "previous": null},
    })))
}

/// `GET /v3/apps/:guid/features/:name`.
pub async fn feature(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((guid, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let Json(all) = features(State(cc), user, Path(guid)).await?;
    let found = all["resources"].as_array().and_then(|features| features.iter().find(|f| f["name"] == name.as_str()));
    found.cloned().map(Json).ok_or_else(|| ApiError::new("ResourceNotFound", &["Feature not found"]))
}
