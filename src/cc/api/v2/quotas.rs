//! Quota definitions: `/v2/quota_definitions` (an org's; admins manage
//! them, `PUT /v2/organizations/:guid {quota_definition_guid}` assigns one)
//! and `/v2/space_quota_definitions` (a space's, within its org's; org
//! managers manage and assign them). -1 means unlimited. Enforcement is
//! in [`crate::cc::quotas`].

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::body::Body;
use super::collection::created;
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::Record;
use crate::cc::model::quota::{self, SpaceQuota};
use crate::cc::model::resource::{Kind, Resource};
use crate::cc::model::space::Space;
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{ORGANIZATIONS, QUOTA_DEFINITIONS, SPACE_QUOTA_DEFINITIONS};
use crate::cc::permissions::{is_org_manager, require};

/// The limits a request sets, by the resource's own Int and Bool fields.
fn limits(resource: &Resource, body: &Body) -> ApiResult<Assignments> {
    let mut set = Assignments::default();
    for f in resource.fields {
        match f.kind {
            Kind::Int => {
                if let Some(v) = body.int(f.name)? {
                    if v < -1 {
                        return Err(body.invalid(&format!("{} cannot be less than -1", f.name)));
                    }
                    set.set(f.name, SqlValue::Int(Some(v)));
                }
            }
            Kind::Bool => {
                if let Some(v) = body.bool(f.name)? {
                    set.set(f.name, SqlValue::Bool(v));
                }
            }
            _ => {}
        }
    }
    Ok(set)
}

/// Inserts a quota row named `name`, then applies the body's limits.
async fn insert(
    cc: &Cc,
    resource: &Resource,
    body: &Body,
    name: &str,
    org: Option<&str>,
    taken: &str,
) -> ApiResult<String> {
    let guid = quota::insert(&cc.db, name, org, taken).await?;
    limits(resource, body)?.execute(&cc.db, resource.table, &guid).await?;
    Ok(guid)
}

pub async fn create_org_quota(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "QuotaDefinitionInvalid")?;
    let name = body.required_string("name")?;
    let guid = insert(&cc, &QUOTA_DEFINITIONS, &body, &name, None, "QuotaDefinitionNameTaken").await?;
    created(&QUOTA_DEFINITIONS, &cc, &guid).await
}

/// Applies a request's name and limits to a quota of `resource`.
async fn update_quota(
    cc: &Cc,
    resource: &Resource,
    guid: &str,
    bytes: &[u8],
    invalid: &'static str,
    taken: &str,
) -> ApiResult<Response> {
    let body = Body::parse(bytes, invalid)?;
    let mut update = limits(resource, &body)?;
    let name = body.set_text(&mut update, "name")?;
    update.save(&cc.db, resource.table, guid, taken, name.as_deref().unwrap_or_default()).await?;
    created(resource, cc, guid).await
}

pub async fn update_org_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    require(user.user.admin)?;
    QUOTA_DEFINITIONS.find(&cc.db, &guid).await?;
    update_quota(&cc, &QUOTA_DEFINITIONS, &guid, &bytes, "QuotaDefinitionInvalid", "QuotaDefinitionNameTaken").await
}

pub async fn delete_org_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<StatusCode> {
    require(user.user.admin)?;
    QUOTA_DEFINITIONS.find(&cc.db, &guid).await?;
    if quota::orgs_using(&cc.db, &guid).await? > 0 {
        return Err(ApiError::new("AssociationNotEmpty", &["organizations", "quota definition"]));
    }
    quota::delete(&cc.db, &QUOTA_DEFINITIONS, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn create_space_quota(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "SpaceQuotaDefinitionInvalid")?;
    let name = body.required_string("name")?;
    let org = body.required_string("organization_guid")?;
    ORGANIZATIONS.find_for(&cc.db, &org, &user.user).await?;
    require(is_org_manager(&cc.db, &user.user, &org).await?)?;
    let guid = insert(&cc, &SPACE_QUOTA_DEFINITIONS, &body, &name, Some(&org), "SpaceQuotaDefinitionNameTaken").await?;
    created(&SPACE_QUOTA_DEFINITIONS, &cc, &guid).await
}

/// The space quota, if the user manages its org.
async fn managed_space_quota(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<String> {
    let org = SpaceQuota::find_for(&cc.db, guid, &user.user).await?.organization_guid;
    require(is_org_manager(&cc.db, &user.user, &org).await?)?;
    Ok(org)
}

pub async fn update_space_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    managed_space_quota(&cc, &user, &guid).await?;
    update_quota(
        &cc,
        &SPACE_QUOTA_DEFINITIONS,
        &guid,
        &bytes,
        "SpaceQuotaDefinitionInvalid",
        "SpaceQuotaDefinitionNameTaken",
    )
    .await
}

pub async fn delete_space_quota(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<StatusCode> {
    managed_space_quota(&cc, &user, &guid).await?;
    quota::delete(&cc.db, &SPACE_QUOTA_DEFINITIONS, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT` / `DELETE /v2/space_quota_definitions/:quota/spaces/:space`.
async fn assign(cc: &Cc, user: &CurrentUser, quota: &str, space: &str, on: bool) -> ApiResult<()> {
    let org = managed_space_quota(cc, user, quota).await?;
    if Space::find_for(&cc.db, space, &user.user).await?.organization_guid != org {
        return Err(ApiError::new(
            "InvalidRelation",
            &["The space and the space quota must be in the same organization"],
        ));
    }
    quota::assign_to_space(&cc.db, space, on.then_some(quota)).await
}

pub async fn add_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((quota, space)): Path<(String, String)>,
) -> ApiResult<Response> {
    assign(&cc, &user, &quota, &space, true).await?;
    created(&SPACE_QUOTA_DEFINITIONS, &cc, &quota).await
}

pub async fn remove_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((quota, space)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    assign(&cc, &user, &quota, &space, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
