//! `/v3/service_brokers` and a plan's `visibility`: `cf
//! create-service-broker`, `update-service-broker`, `rename-service-broker`,
//! `delete-service-broker` (each a job), and `enable-service-access` /
//! `disable-service-access` (public, some orgs', or admins' only). The
//! work is [`crate::cc::service_brokers`]'s.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::apps::finished_job;
use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::{SERVICE_PLANS, metadata, service_plan_visibility};
use crate::cc::osb::registration::Registration;
use crate::cc::permissions::require;
use crate::cc::service_brokers::{self, BrokerChanges};

const FIELDS: [&str; 5] = ["name", "url", "authentication", "relationships", "metadata"];

/// `POST /v3/service_brokers`: registered once its catalog is read; 202 with the job.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, &FIELDS)?;
    let required = |path: &str, label: &str| -> ApiResult<String> {
        body.string(path, label)?.ok_or_else(|| invalid(&format!("{label} can't be blank")))
    };
    let registration = Registration {
        name: required("name", "Name")?,
        url: required("url", "Url")?,
        username: required("authentication/credentials/username", "Username")?,
        password: required("authentication/credentials/password", "Password")?,
    };
    let space = body.string("relationships/space/data/guid", "Space guid")?;
    let guid = service_brokers::register(&cc, &user, registration, space).await?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    finished_job(&cc, "service_broker.catalog.synchronize").await
}

/// `PATCH /v3/service_brokers/:guid`: 200 for metadata alone, else the catalog is read again (202).
pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = Body::parse(&bytes, &FIELDS)?;
    let changes = BrokerChanges {
        name: body.string("name", "Name")?,
        url: body.string("url", "Url")?,
        username: body.string("authentication/credentials/username", "Username")?,
        password: body.string("authentication/credentials/password", "Password")?,
    };
    service_brokers::writable_broker(&cc, &user, &guid).await?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    if body.0.keys().all(|k| k == "metadata") {
        let shown = crate::cc::v3::SERVICE_BROKERS.show(&cc, &user.user, &guid, None).await?;
        return Ok(Json(shown).into_response());
    }
    service_brokers::update(&cc, &user, &guid, changes).await?;
    finished_job(&cc, "service_broker.update").await
}

/// `DELETE /v3/service_brokers/:guid`.
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    service_brokers::delete(&cc, &user, &guid).await?;
    metadata::forget(&cc.db, &guid).await?;
    finished_job(&cc, "service_broker.delete").await
}

/// A plan's visibility as v3 shows it.
async fn visibility_of(cc: &Cc, plan: &str) -> ApiResult<Value> {
    if service_plan_visibility::is_public(&cc.db, plan).await? {
        return Ok(json!({"type": "public"}));
    }
    let orgs = service_plan_visibility::orgs_of_plan(&cc.db, plan).await?;
    if orgs.is_empty() {
        return Ok(json!({"type": "admin"}));
    }
    let organizations: Vec<Value> = orgs.iter().map(|(guid, name)| json!({"guid": guid, "name": name})).collect();
    Ok(json!({"type": "organization", "organizations": organizations}))
}

/// `GET /v3/service_plans/:guid/visibility`.
pub async fn visibility(State(cc): State<Cc>, user: CurrentUser, Path(plan): Path<String>) -> ApiResult<Json<Value>> {
    crate::cc::v3::SERVICE_PLANS.find_for(&cc, &user.user, &plan).await?;
    Ok(Json(visibility_of(&cc, &plan).await?))
}

/// `POST` (adds orgs) and `PATCH` (replaces them) `/v3/service_plans/:guid/visibility` (admins).
async fn set_visibility(cc: &Cc, user: &CurrentUser, plan: &str, bytes: &[u8], replace: bool) -> ApiResult<Value> {
    require(user.user.admin)?;
    let body = Body::parse(bytes, &["type", "organizations"])?;
    let kind = body.string("type", "Type")?.ok_or_else(|| invalid("Type can't be blank"))?;
    match kind.as_str() {
        "public" => {
            service_brokers::set_public(cc, plan, true).await?;
            service_brokers::hide_from(cc, plan, None).await?;
        }
        "admin" => {
            service_brokers::set_public(cc, plan, false).await?;
            service_brokers::hide_from(cc, plan, None).await?;
        }
        "organization" => {
            service_brokers::set_public(cc, plan, false).await?;
            if replace {
                service_brokers::hide_from(cc, plan, None).await?;
            }
            let orgs = body.at("organizations").and_then(Value::as_array).cloned().unwrap_or_default();
            for org in orgs {
                let org = org["guid"].as_str().ok_or_else(|| invalid("Organizations must have guids"))?;
                match service_brokers::show_to_org(cc, plan, org).await {
                    Err(e) if e.name == "ServicePlanVisibilityAlreadyExists" => {}
                    other => {
                        other?;
                    }
                }
            }
        }
        _ => return Err(invalid("Type must be one of 'public', 'admin', 'organization'")),
    }
    visibility_of(cc, plan).await
}

pub async fn add_visibility(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(plan): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    Ok(Json(set_visibility(&cc, &user, &plan, &bytes, false).await?))
}

pub async fn replace_visibility(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(plan): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    Ok(Json(set_visibility(&cc, &user, &plan, &bytes, true).await?))
}

/// `DELETE /v3/service_plans/:guid/visibility/:org` (admins).
pub async fn remove_org(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((plan, org)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    require(user.user.admin)?;
    SERVICE_PLANS.find(&cc.db, &plan).await?;
    service_brokers::hide_from(&cc, &plan, Some(&org)).await?;
    Ok(StatusCode::NO_CONTENT)
}
