//! Orgs and spaces — CF's tenancy — made and removed, whichever API
//! version asks: admins make and delete orgs (with their spaces, private
//! domains and roles), org managers make and delete spaces (stopping and
//! deleting what is in them). Each change is an audit event.

use serde_json::Value;
use sqlx::Row;

use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, taken_or};
use super::model::event::{self, Actee, Actor};
use super::model::route::RouteShares;
use super::model::{ORGANIZATIONS, QUOTA_DEFINITIONS, SPACES, metadata};
use super::permissions::{is_org_manager, require};
use super::{Cc, app_changes, new_guid, now};

/// Makes an org (admins) on `quota` (else the default quota); its guid.
pub async fn create_org(
    cc: &Cc,
    user: &CurrentUser,
    name: &str,
    status: &str,
    quota: Option<&str>,
    request: Value,
) -> ApiResult<String> {
    require(user.user.admin)?;
    let guid = new_guid();
    let quota = match quota {
        Some(quota) => QUOTA_DEFINITIONS.find(&cc.db, quota).await?.try_get::<String, _>("guid").unwrap_or_default(),
        None => crate::cc::quotas::default_quota(&cc.db).await?,
    };
    sqlx::query(
        "INSERT INTO organizations (guid, name, status, quota_definition_guid, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&guid)
    .bind(name)
    .bind(status)
    .bind(&quota)
    .bind(now())
    .execute(&cc.db)
    .await
    .map_err(|e| taken_or(e, "OrganizationNameTaken", name))?;
    org_event(cc, user, "audit.organization.create", &guid, name, request).await;
    Ok(guid)
}

pub async fn org_event(cc: &Cc, user: &CurrentUser, kind: &str, guid: &str, name: &str, request: Value) {
    let actee = Actee { guid, kind: "organization", name, space_guid: "", organization_guid: guid };
    event::record(&cc.db, kind, Actor::User(&user.user), &actee, serde_json::json!({"request": request})).await;
}

/// Deletes an org (admins); one with spaces only when `recursive`, with them.
pub async fn delete_org(cc: &Cc, user: &CurrentUser, guid: &str, recursive: bool) -> ApiResult<()> {
    let org = ORGANIZATIONS.find_for(&cc.db, guid, &user.user).await?;
    require(user.user.admin)?;
    let spaces: Vec<String> =
        sqlx::query_scalar("SELECT guid FROM spaces WHERE organization_guid = $1").bind(guid).fetch_all(&cc.db).await?;
    if !spaces.is_empty() && !recursive {
        return Err(ApiError::new("AssociationNotEmpty", &["spaces", "organization"]));
    }
    for space in spaces {
        delete_space_contents(cc, &space).await?;
        sqlx::query("DELETE FROM spaces WHERE guid = $1").bind(&space).execute(&cc.db).await?;
        metadata::forget(&cc.db, &space).await?;
    }
    sqlx::query("DELETE FROM domains WHERE owning_organization_guid = $1").bind(guid).execute(&cc.db).await?;
    sqlx::query("DELETE FROM organization_roles WHERE organization_guid = $1").bind(guid).execute(&cc.db).await?;
    sqlx::query("DELETE FROM organizations WHERE guid = $1").bind(guid).execute(&cc.db).await?;
    metadata::forget(&cc.db, guid).await?;
    let name: String = org.try_get("name").unwrap_or_default();
    org_event(cc, user, "audit.organization.delete-request", guid, &name, serde_json::json!({"recursive": recursive}))
        .await;
    Ok(())
}

/// Makes a space in `org` (org managers); its guid.
pub async fn create_space(cc: &Cc, user: &CurrentUser, name: &str, org: &str, request: Value) -> ApiResult<String> {
    ORGANIZATIONS
        .find_for(&cc.db, org, &user.user)
        .await
        .map_err(|_| ApiError::new("InvalidRelation", &[&format!("Could not find Organization with guid: {org}")]))?;
    require(is_org_manager(&cc.db, &user.user, org).await?)?;
    let guid = new_guid();
    sqlx::query("INSERT INTO spaces (guid, name, organization_guid, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&guid)
        .bind(name)
        .bind(org)
        .bind(now())
        .execute(&cc.db)
        .await
        .map_err(|e| taken_or(e, "SpaceNameTaken", name))?;
    space_event(cc, user, "audit.space.create", &guid, name, org, request).await;
    Ok(guid)
}

pub async fn space_event(cc: &Cc, user: &CurrentUser, kind: &str, guid: &str, name: &str, org: &str, request: Value) {
    let actee = Actee { guid, kind: "space", name, space_guid: guid, organization_guid: org };
    event::record(&cc.db, kind, Actor::User(&user.user), &actee, serde_json::json!({"request": request})).await;
}

/// Deletes a space (org managers); one with apps only when `recursive`, with them.
pub async fn delete_space(cc: &Cc, user: &CurrentUser, guid: &str, recursive: bool) -> ApiResult<()> {
    let row = SPACES.find_for(&cc.db, guid, &user.user).await?;
    let org: String = row.try_get("organization_guid").unwrap_or_default();
    require(is_org_manager(&cc.db, &user.user, &org).await?)?;
    let apps: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM apps WHERE space_guid = $1").bind(guid).fetch_one(&cc.db).await?;
    if apps > 0 && !recursive {
        return Err(ApiError::new("AssociationNotEmpty", &["apps", "space"]));
    }
    delete_space_contents(cc, guid).await?;
    sqlx::query("DELETE FROM spaces WHERE guid = $1").bind(guid).execute(&cc.db).await?;
    metadata::forget(&cc.db, guid).await?;
    let name: String = row.try_get("name").unwrap_or_default();
    space_event(cc, user, "audit.space.delete-request", guid, &name, &org, serde_json::json!({"recursive": recursive}))
        .await;
    Ok(())
}

/// Stops and deletes a space's apps, then its routes and roles.
async fn delete_space_contents(cc: &Cc, space: &str) -> ApiResult<()> {
    let apps: Vec<String> =
        sqlx::query_scalar("SELECT guid FROM apps WHERE space_guid = $1").bind(space).fetch_all(&cc.db).await?;
    for app in apps {
        app_changes::delete(cc, &app).await?;
    }
    RouteShares::forget(&cc.db, Some(space), None).await?;
    sqlx::query("DELETE FROM route_mappings WHERE route_guid IN (SELECT guid FROM routes WHERE space_guid = $1)")
        .bind(space)
        .execute(&cc.db)
        .await?;
    sqlx::query("DELETE FROM routes WHERE space_guid = $1").bind(space).execute(&cc.db).await?;
    sqlx::query("DELETE FROM space_roles WHERE space_guid = $1").bind(space).execute(&cc.db).await?;
    Ok(())
}
