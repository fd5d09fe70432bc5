//! `cf create-org-quota`/`create-space-quota`, `update-…`, `set-…` and
//! `delete-…` through v3: quotas are v2's quota definitions, their limits
//! grouped as v3 groups them (`apps.total_memory_in_mb` is v2's
//! `memory_limit`); a limit left out or null is unlimited (-1). Admins
//! manage org quotas; org managers their org's space quotas.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::apps::accepted_job;
use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::Record;
use crate::cc::model::job::Job;
use crate::cc::model::quota::{self, SpaceQuota};
use crate::cc::model::space::Space;
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::permissions::{is_org_manager, require};
use crate::cc::v3::resource::V3Resource;
use crate::cc::v3::{ORGANIZATION_QUOTAS, SPACE_QUOTAS};

/// (v3 path, v2 column) of each numeric limit; `domains` only for org quotas.
const LIMITS: [(&str, &str); 9] = [
    ("apps/total_memory_in_mb", "memory_limit"),
    ("apps/per_process_memory_in_mb", "instance_memory_limit"),
    ("apps/total_instances", "app_instance_limit"),
    ("apps/per_app_tasks", "app_task_limit"),
    ("services/total_service_instances", "total_services"),
    ("services/total_service_keys", "total_service_keys"),
    ("routes/total_routes", "total_routes"),
    ("routes/total_reserved_ports", "total_reserved_route_ports"),
    ("domains/total_domains", "total_private_domains"),
];
const FIELDS: [&str; 7] = ["name", "apps", "services", "routes", "domains", "relationships", "metadata"];

/// The limits a request gives (all of them on create: left out is unlimited).
fn limits(body: &Body, for_orgs: bool, all: bool) -> ApiResult<Assignments> {
    let mut set = Assignments::default();
    for (path, column) in LIMITS {
        if path.starts_with("domains/") && !for_orgs {
            continue;
        }
        let group = path.split('/').next().unwrap_or_default();
        let given = body.0.get(group).and_then(|g| g.get(path.split('/').nth(1).unwrap_or_default()));
        let value = match given {
            None if !all => continue,
            None | Some(Value::Null) => -1,
            Some(v) => v
                .as_i64()
                .filter(|n| *n >= 0)
                .ok_or_else(|| invalid(&format!("{path} must be a number of at least 0, or null")))?,
        };
        set.set(column, SqlValue::Int(Some(value)));
    }
    match body.0.get("services").and_then(|s| s.get("paid_services_allowed")) {
        Some(Value::Bool(allowed)) => set.set("non_basic_services_allowed", SqlValue::Bool(*allowed)),
        Some(_) => return Err(invalid("services/paid_services_allowed must be a boolean")),
        None if all => set.set("non_basic_services_allowed", SqlValue::Bool(true)),
        None => {}
    }
    Ok(set)
}

/// The guids listed in `relationships.<name>.data`.
fn related(body: &Body, name: &str) -> Vec<String> {
    let data = body.0.get("relationships").and_then(|r| r.get(name)).and_then(|r| r.get("data"));
    data.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d["guid"].as_str().map(str::to_string))
        .collect()
}

/// `POST /v3/organization_quotas` (admins).
pub async fn create_org_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    user.require_admin()?;
    let body = Body::parse(&bytes, &FIELDS)?;
    let name =
        body.string("name", "Name")?.filter(|n| !n.trim().is_empty()).ok_or_else(|| invalid("Name can't be blank"))?;
    let guid = quota::insert(&cc.db, &name, None, "QuotaDefinitionNameTaken").await.map_err(|e| {
        if e.name == "QuotaDefinitionNameTaken" {
            invalid(&format!("Organization Quota '{name}' already exists."))
        } else {
            e
        }
    })?;
    limits(&body, true, true)?.execute(&cc.db, "quota_definitions", &guid).await?;
    apply_to_orgs(&cc, &guid, &related(&body, "organizations")).await?;
    Ok((StatusCode::CREATED, Json(ORGANIZATION_QUOTAS.show(&cc, &user.user, &guid, None).await?)))
}

/// `POST /v3/space_quotas` (org managers of its org).
pub async fn create_space_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &FIELDS)?;
    let name =
        body.string("name", "Name")?.filter(|n| !n.trim().is_empty()).ok_or_else(|| invalid("Name can't be blank"))?;
    let org = body
        .string("relationships/organization/data/guid", "Organization guid")?
        .ok_or_else(|| invalid("Relationships organization can't be blank"))?;
    crate::cc::v3::ORGANIZATIONS
        .find_for(&cc, &user.user, &org)
        .await
        .map_err(|_| invalid("Invalid organization. Ensure the organization exists and you have access to it."))?;
    require(is_org_manager(&cc.db, &user.user, &org).await?)?;
    let guid = quota::insert(&cc.db, &name, Some(&org), "SpaceQuotaDefinitionNameTaken").await.map_err(|e| {
        if e.name == "SpaceQuotaDefinitionNameTaken" {
            invalid(&format!("Space Quota '{name}' already exists."))
        } else {
            e
        }
    })?;
    limits(&body, false, true)?.execute(&cc.db, "space_quota_definitions", &guid).await?;
    apply_to_spaces(&cc, &user, &guid, &org, &related(&body, "spaces")).await?;
    Ok((StatusCode::CREATED, Json(SPACE_QUOTAS.show(&cc, &user.user, &guid, None).await?)))
}

async fn apply_to_orgs(cc: &Cc, quota: &str, orgs: &[String]) -> ApiResult<()> {
    for org in orgs {
        if !quota::assign_to_org(&cc.db, quota, org).await? {
            return Err(invalid(&format!(
                "Organization with guid '{org}' does not exist, or you do not have access to it."
            )));
        }
    }
    Ok(())
}

async fn apply_to_spaces(cc: &Cc, user: &CurrentUser, quota: &str, org: &str, spaces: &[String]) -> ApiResult<()> {
    for space in spaces {
        let found = Space::find_for(&cc.db, space, &user.user).await.map_err(|_| {
            invalid(&format!("Space with guid '{space}' does not exist, or you do not have access to it."))
        })?;
        if found.organization_guid != org {
            return Err(invalid("Space quotas can only be applied to spaces of their organization"));
        }
        quota::assign_to_space(&cc.db, space, Some(quota)).await?;
    }
    Ok(())
}

/// `POST /v3/organization_quotas/:guid/relationships/organizations` (admins): `cf set-org-quota`.
pub async fn apply_org_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    ORGANIZATION_QUOTAS.find_for(&cc, &user.user, &guid).await?;
    let body = Body::parse(&bytes, &["data"])?;
    let orgs: Vec<String> = body.0["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["guid"].as_str().map(str::to_string))
        .collect();
    apply_to_orgs(&cc, &guid, &orgs).await?;
    Ok(Json(json!({"data": orgs.iter().map(|g| json!({"guid": g})).collect::<Vec<_>>()})))
}

/// `POST /v3/space_quotas/:guid/relationships/spaces` (org managers): `cf set-space-quota`.
pub async fn apply_space_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let org = SpaceQuota::find_for(&cc.db, &guid, &user.user).await?.organization_guid;
    require(is_org_manager(&cc.db, &user.user, &org).await?)?;
    let body = Body::parse(&bytes, &["data"])?;
    let spaces: Vec<String> = body.0["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["guid"].as_str().map(str::to_string))
        .collect();
    apply_to_spaces(&cc, &user, &guid, &org, &spaces).await?;
    Ok(Json(json!({"data": spaces.iter().map(|g| json!({"guid": g})).collect::<Vec<_>>()})))
}

/// The quota of `resource` a user may change: admins any org quota, org
/// managers their org's space quotas.
async fn writable(cc: &Cc, user: &CurrentUser, resource: &V3Resource, guid: &str) -> ApiResult<()> {
    if std::ptr::eq(resource, &ORGANIZATION_QUOTAS) {
        resource.find_for(cc, &user.user, guid).await?;
        return user.require_admin();
    }
    let org = SpaceQuota::find_for(&cc.db, guid, &user.user).await?.organization_guid;
    require(is_org_manager(&cc.db, &user.user, &org).await?)
}

/// `PATCH /v3/organization_quotas/:guid` and `/v3/space_quotas/:guid`: name and limits.
async fn update(
    cc: &Cc,
    user: &CurrentUser,
    resource: &'static V3Resource,
    guid: &str,
    bytes: &[u8],
) -> ApiResult<Json<Value>> {
    writable(cc, user, resource, guid).await?;
    let body = Body::parse(bytes, &FIELDS)?;
    let for_orgs = std::ptr::eq(resource, &ORGANIZATION_QUOTAS);
    let mut set = limits(&body, for_orgs, false)?;
    let name = body.string("name", "Name")?;
    if let Some(name) = &name {
        set.set("name", SqlValue::Text(Some(name.clone())));
    }
    let taken = if for_orgs { "QuotaDefinitionNameTaken" } else { "SpaceQuotaDefinitionNameTaken" };
    set.save(&cc.db, resource.model.table, guid, taken, name.as_deref().unwrap_or_default())
        .await
        .map_err(|e| if e.name == taken { invalid("Quota name is already taken.") } else { e })?;
    Ok(Json(resource.show(cc, &user.user, guid, None).await?))
}

pub async fn update_org_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    update(&cc, &user, &ORGANIZATION_QUOTAS, &guid, &bytes).await
}

pub async fn update_space_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    update(&cc, &user, &SPACE_QUOTAS, &guid, &bytes).await
}

/// `DELETE /v3/organization_quotas/:guid` and `/v3/space_quotas/:guid`:
/// refused while it applies to any org (CF's rule); spaces fall back to
/// their org's quota. 202 with its job.
async fn delete(cc: &Cc, user: &CurrentUser, resource: &'static V3Resource, guid: &str) -> ApiResult<Response> {
    writable(cc, user, resource, guid).await?;
    if std::ptr::eq(resource, &ORGANIZATION_QUOTAS) && quota::orgs_using(&cc.db, guid).await? > 0 {
        return Err(invalid(
            "This quota is applied to one or more organizations. Remove this quota from all organizations before deleting.",
        ));
    }
    let job = Job::create(&cc.db, &cc.id, "quota.delete").await?;
    quota::delete(&cc.db, resource.model, guid).await?;
    Job::finish(&cc.db, &job, None).await;
    Ok(accepted_job(cc, &job))
}

pub async fn delete_org_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<Response> {
    delete(&cc, &user, &ORGANIZATION_QUOTAS, &guid).await
}

pub async fn delete_space_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<Response> {
    delete(&cc, &user, &SPACE_QUOTAS, &guid).await
}

/// `DELETE /v3/space_quotas/:guid/spaces/:space`: `cf unset-space-quota`.
pub async fn remove_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((guid, space)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    writable(&cc, &user, &SPACE_QUOTAS, &guid).await?;
    quota::remove_from_space(&cc.db, &space, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}
