//! `/v3/security_groups` (admins): `cf create-security-group`,
//! `update-security-group`, `delete-security-group`,
//! `bind-security-group`/`unbind-security-group` (a group's running or
//! staging spaces) and the platform defaults (`globally_enabled`). The
//! work is [`crate::cc::security_groups`]'s.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::apps::finished_job;
use super::body::{Body, invalid};
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::security_group;
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::permissions::require;
use crate::cc::v3::security_group::SECURITY_GROUPS;
use crate::cc::{Cc, security_groups};

const FIELDS: [&str; 4] = ["name", "rules", "globally_enabled", "relationships"];

/// Whether a relationship path names running (`running_spaces`) or staging spaces.
fn running(kind: &str) -> ApiResult<bool> {
    match kind {
        "running_spaces" => Ok(true),
        "staging_spaces" => Ok(false),
        _ => Err(ApiError::new("NotFound", &[])),
    }
}

/// The guids of a `{"data": [{"guid": …}]}` list at `path`.
fn guids(body: &Body, path: &str) -> ApiResult<Vec<String>> {
    let Some(items) = body.at(path) else { return Ok(Vec::new()) };
    items
        .as_array()
        .ok_or_else(|| invalid("Data must be an array"))?
        .iter()
        .map(|item| item["guid"].as_str().map(str::to_string).ok_or_else(|| invalid("Each item must have a guid")))
        .collect()
}

/// Applies `globally_enabled` (running and staging defaults), if given.
async fn defaults(cc: &Cc, body: &Body, guid: &str) -> ApiResult<()> {
    for (field, running) in [("globally_enabled/running", true), ("globally_enabled/staging", false)] {
        if let Some(on) = body.at(field) {
            let on = on.as_bool().ok_or_else(|| invalid("Globally enabled values must be booleans"))?;
            security_groups::set_default(cc, guid, running, on).await?;
        }
    }
    Ok(())
}

fn rules(body: &Body) -> ApiResult<Option<String>> {
    body.at("rules").map(|rules| security_groups::checked_rules(rules).map_err(|e| invalid(&e))).transpose()
}

/// `POST /v3/security_groups`: 201.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, &FIELDS)?;
    let name = body.string("name", "Name")?.ok_or_else(|| invalid("Name can't be blank"))?;
    let rules = rules(&body)?.unwrap_or_else(|| "[]".into());
    let guid = security_groups::create(&cc, &name, &rules).await.map_err(|e| {
        if e.name == "SecurityGroupNameTaken" {
            invalid(&format!("Security group with name '{name}' already exists."))
        } else {
            e
        }
    })?;
    defaults(&cc, &body, &guid).await?;
    for (path, running) in [("relationships/running_spaces/data", true), ("relationships/staging_spaces/data", false)] {
        for space in guids(&body, path)? {
            security_groups::bind(&cc, &guid, &space, running, true).await?;
        }
    }
    Ok((StatusCode::CREATED, Json(SECURITY_GROUPS.show(&cc, &user.user, &guid, None).await?)))
}

/// `PATCH /v3/security_groups/:guid`: name, rules, defaults.
pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    require(user.user.admin)?;
    SECURITY_GROUPS.find_for(&cc, &user.user, &guid).await?;
    let body = Body::parse(&bytes, &FIELDS)?;
    let mut update = Assignments::default();
    let name = body.string("name", "Name")?;
    if let Some(name) = &name {
        update.set("name", SqlValue::Text(Some(name.clone())));
    }
    if let Some(rules) = rules(&body)? {
        update.set("rules", SqlValue::Text(Some(rules)));
    }
    update
        .save(&cc.db, "security_groups", &guid, "SecurityGroupNameTaken", name.as_deref().unwrap_or_default())
        .await?;
    defaults(&cc, &body, &guid).await?;
    Ok(Json(SECURITY_GROUPS.show(&cc, &user.user, &guid, None).await?))
}

/// `DELETE /v3/security_groups/:guid`: 202 with its (finished) job.
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    require(user.user.admin)?;
    security_groups::delete(&cc, &guid).await?;
    finished_job(&cc, "security_group.delete").await
}

/// `POST /v3/security_groups/:guid/relationships/{running,staging}_spaces`.
pub async fn bind_spaces(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((guid, kind)): Path<(String, String)>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    require(user.user.admin)?;
    let running = running(&kind)?;
    let body = Body::parse(&bytes, &["data"])?;
    for space in guids(&body, "data")? {
        security_groups::bind(&cc, &guid, &space, running, true).await?;
    }
    let spaces = security_group::bound_spaces(&cc.db, &guid, running).await?;
    let data: Vec<Value> = spaces.iter().map(|guid| json!({"guid": guid})).collect();
    Ok(Json(json!({"data": data})))
}

/// `DELETE /v3/security_groups/:guid/relationships/{running,staging}_spaces/:space`.
pub async fn unbind_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((guid, kind, space)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    require(user.user.admin)?;
    security_groups::bind(&cc, &guid, &space, running(&kind)?, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
