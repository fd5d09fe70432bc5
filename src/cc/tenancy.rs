//! Orgs and spaces — CF's tenancy — made and removed, whichever API
//! version asks: admins make and delete orgs (with their spaces, private
//! domains and roles), org managers make and delete spaces (stopping and
//! deleting what is in them). Each change is an audit event.

use serde_json::Value;

use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult};
use super::model::event::{self, Actee, Actor};
use super::model::organization::Organization;
use super::model::route::RouteShares;
use super::model::space::Space;
use super::model::{ORGANIZATIONS, QUOTA_DEFINITIONS, SPACES};
use super::permissions::{is_org_manager, require};
use super::{Cc, app_changes, new_guid};
use crate::cc::model::Record;

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
        Some(quota) => {
            QUOTA_DEFINITIONS.find(&cc.db, quota).await?;
            quota.to_string()
        }
        None => crate::cc::model::quota::default_quota(&cc.db).await?,
    };
    Organization::insert(&cc.db, &guid, name, status, &quota).await?;
    org_event(cc, user, "audit.organization.create", &guid, name, request).await;
    Ok(guid)
}

pub async fn org_event(cc: &Cc, user: &CurrentUser, kind: &str, guid: &str, name: &str, request: Value) {
    let actee = Actee { guid, kind: "organization", name, space_guid: "", organization_guid: guid };
    event::record(&cc.db, kind, Actor::User(&user.user), &actee, serde_json::json!({"request": request})).await;
}

/// Deletes an org (admins); one with spaces only when `recursive`, with them.
pub async fn delete_org(cc: &Cc, user: &CurrentUser, guid: &str, recursive: bool) -> ApiResult<()> {
    let org = Organization::find_for(&cc.db, guid, &user.user).await?;
    require(user.user.admin)?;
    let spaces = Space::guids_in_org(&cc.db, guid).await?;
    if !spaces.is_empty() && !recursive {
        return Err(ApiError::new("AssociationNotEmpty", &["spaces", "organization"]));
    }
    for space in spaces {
        delete_space_with_contents(cc, &space).await?;
    }
    Organization::delete(&cc.db, guid).await?;
    let request = serde_json::json!({"recursive": recursive});
    org_event(cc, user, "audit.organization.delete-request", guid, &org.name, request).await;
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
    Space::insert(&cc.db, &guid, name, org).await?;
    space_event(cc, user, "audit.space.create", &guid, name, org, request).await;
    Ok(guid)
}

pub async fn space_event(cc: &Cc, user: &CurrentUser, kind: &str, guid: &str, name: &str, org: &str, request: Value) {
    let actee = Actee { guid, kind: "space", name, space_guid: guid, organization_guid: org };
    event::record(&cc.db, kind, Actor::User(&user.user), &actee, serde_json::json!({"request": request})).await;
}

/// Deletes a space (org managers); one with apps only when `recursive`, with them.
pub async fn delete_space(cc: &Cc, user: &CurrentUser, guid: &str, recursive: bool) -> ApiResult<()> {
    let space = Space::from_row(&SPACES.find_for(&cc.db, guid, &user.user).await?);
    require(is_org_manager(&cc.db, &user.user, &space.organization_guid).await?)?;
    if !recursive && !Space::app_guids(&cc.db, guid).await?.is_empty() {
        return Err(ApiError::new("AssociationNotEmpty", &["apps", "space"]));
    }
    delete_space_with_contents(cc, guid).await?;
    let request = serde_json::json!({"recursive": recursive});
    space_event(cc, user, "audit.space.delete-request", guid, &space.name, &space.organization_guid, request).await;
    Ok(())
}

/// Stops and deletes a space's apps, then the space with its routes and roles.
async fn delete_space_with_contents(cc: &Cc, space: &str) -> ApiResult<()> {
    for app in Space::app_guids(&cc.db, space).await? {
        app_changes::delete(cc, &app).await?;
    }
    RouteShares::forget(&cc.db, Some(space), None).await?;
    Space::delete(&cc.db, space).await
}
