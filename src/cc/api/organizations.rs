//! Organizations: the top of CF's tenancy (org → spaces → apps), and who
//! belongs to one as user, manager, billing manager or auditor.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use sqlx::Row;

use super::body::Body;
use super::collection::created;
use crate::cc::auth::CurrentUser;
use crate::cc::error::taken_or;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::event::{self, Actee, Actor};
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{ORGANIZATIONS, QUOTA_DEFINITIONS};
use crate::cc::permissions::{is_org_manager, require};
use crate::cc::v2::list_params::recursive;
use crate::cc::{Cc, new_guid, now};

/// `POST /v2/organizations` (admins).
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "OrganizationInvalid")?;
    let name = body.required_string("name")?;
    let status = body.string("status")?.unwrap_or_else(|| "active".into());
    let guid = new_guid();
    let quota = match body.string("quota_definition_guid")? {
        Some(quota) => QUOTA_DEFINITIONS.find(&cc.db, &quota).await?.try_get::<String, _>("guid").unwrap_or_default(),
        None => crate::cc::quotas::default_quota(&cc.db).await?,
    };
    sqlx::query(
        "INSERT INTO organizations (guid, name, status, quota_definition_guid, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&guid)
    .bind(&name)
    .bind(&status)
    .bind(&quota)
    .bind(now())
    .execute(&cc.db)
    .await
    .map_err(|e| taken_or(e, "OrganizationNameTaken", &name))?;
    org_event(&cc, &user, "audit.organization.create", &guid, &name, body.redacted()).await;
    created(&ORGANIZATIONS, &cc, &guid).await
}

async fn org_event(cc: &Cc, user: &CurrentUser, kind: &str, guid: &str, name: &str, request: serde_json::Value) {
    let actee = Actee { guid, kind: "organization", name, space_guid: "", organization_guid: guid };
    event::record(&cc.db, kind, Actor::User(&user.user), &actee, serde_json::json!({"request": request})).await;
}

/// `PUT /v2/organizations/:guid` (org managers): name, status.
pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    ORGANIZATIONS.find_for(&cc.db, &guid, &user.user).await?;
    require(is_org_manager(&cc.db, &user.user, &guid).await?)?;
    let body = Body::parse(&bytes, "OrganizationInvalid")?;
    let mut update = Assignments::default();
    let name = body.set_text(&mut update, "name")?;
    body.set_text(&mut update, "status")?;
    if let Some(quota) = body.string("quota_definition_guid")? {
        require(user.user.admin)?;
        QUOTA_DEFINITIONS.find(&cc.db, &quota).await?;
        update.set("quota_definition_guid", SqlValue::Text(Some(quota)));
    }
    update.save(&cc.db, "organizations", &guid, "OrganizationNameTaken", &name.clone().unwrap_or_default()).await?;
    let current = ORGANIZATIONS.get(&cc.db, &guid).await?;
    org_event(
        &cc,
        &user,
        "audit.organization.update",
        &guid,
        current["entity"]["name"].as_str().unwrap_or_default(),
        body.redacted(),
    )
    .await;
    created(&ORGANIZATIONS, &cc, &guid).await
}

/// `DELETE /v2/organizations/:guid[?recursive=true]` (admins).
pub async fn delete(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<StatusCode> {
    let org = ORGANIZATIONS.render(&ORGANIZATIONS.find_for(&cc.db, &guid, &user.user).await?);
    require(user.user.admin)?;
    let spaces: Vec<String> = sqlx::query_scalar("SELECT guid FROM spaces WHERE organization_guid = $1")
        .bind(&guid)
        .fetch_all(&cc.db)
        .await?;
    if !spaces.is_empty() && !recursive(query.as_deref()) {
        return Err(ApiError::new("AssociationNotEmpty", &["spaces", "organization"]));
    }
    for space in spaces {
        super::spaces::delete_contents(&cc, &space).await?;
        sqlx::query("DELETE FROM spaces WHERE guid = $1").bind(&space).execute(&cc.db).await?;
    }
    sqlx::query("DELETE FROM domains WHERE owning_organization_guid = $1").bind(&guid).execute(&cc.db).await?;
    sqlx::query("DELETE FROM organization_roles WHERE organization_guid = $1").bind(&guid).execute(&cc.db).await?;
    sqlx::query("DELETE FROM organizations WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    let name = org["entity"]["name"].as_str().unwrap_or_default();
    org_event(
        &cc,
        &user,
        "audit.organization.delete-request",
        &guid,
        name,
        serde_json::json!({"recursive": recursive(query.as_deref())}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
