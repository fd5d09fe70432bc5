//! Organizations: the top of CF's tenancy (org → spaces → apps), and who
//! belongs to one as user, manager, billing manager or auditor.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::body::Body;
use super::collection::created;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{ORGANIZATIONS, QUOTA_DEFINITIONS};
use crate::cc::permissions::{is_org_manager, require};
use crate::cc::v2::list_params::recursive;
use crate::cc::{Cc, tenancy};

/// `POST /v2/organizations` (admins).
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "OrganizationInvalid")?;
    let name = body.required_string("name")?;
    let status = body.string("status")?.unwrap_or_else(|| "active".into());
    let quota = body.string("quota_definition_guid")?;
    let guid = tenancy::create_org(&cc, &user, &name, &status, quota.as_deref(), body.redacted()).await?;
    created(&ORGANIZATIONS, &cc, &guid).await
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
    tenancy::org_event(
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
    tenancy::delete_org(&cc, &user, &guid, recursive(query.as_deref())).await?;
    Ok(StatusCode::NO_CONTENT)
}
