//! Spaces: where apps, routes and services live, inside an organization,
//! and who works there as developer, manager or auditor.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::body::Body;
use super::collection::created;
use crate::cc::auth::CurrentUser;
use crate::cc::error::taken_or;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::event::{self, Actee, Actor};
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{ORGANIZATIONS, SPACES};
use crate::cc::permissions::{is_org_manager, is_space_manager, require};
use crate::cc::v2::list_params::recursive;
use crate::cc::{Cc, new_guid, now, runner};

/// `POST /v2/spaces` `{name, organization_guid}` (org managers).
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "SpaceInvalid")?;
    let name = body.required_string("name")?;
    let org = body.required_string("organization_guid")?;
    ORGANIZATIONS
        .find_for(&cc.db, &org, &user.user)
        .await
        .map_err(|_| ApiError::new("InvalidRelation", &[&format!("Could not find Organization with guid: {org}")]))?;
    require(is_org_manager(&cc.db, &user.user, &org).await?)?;
    let guid = new_guid();
    sqlx::query("INSERT INTO spaces (guid, name, organization_guid, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&guid)
        .bind(&name)
        .bind(&org)
        .bind(now())
        .execute(&cc.db)
        .await
        .map_err(|e| taken_or(e, "SpaceNameTaken", &name))?;
    space_event(&cc, &user, "audit.space.create", &guid, &name, &org, body.redacted()).await;
    created(&SPACES, &cc, &guid).await
}

async fn space_event(
    cc: &Cc,
    user: &CurrentUser,
    kind: &str,
    guid: &str,
    name: &str,
    org: &str,
    request: serde_json::Value,
) {
    let actee = Actee { guid, kind: "space", name, space_guid: guid, organization_guid: org };
    event::record(&cc.db, kind, Actor::User(&user.user), &actee, serde_json::json!({"request": request})).await;
}

/// `PUT /v2/spaces/:guid` (space or org managers): name, allow_ssh.
pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    SPACES.find_for(&cc.db, &guid, &user.user).await?;
    require(is_space_manager(&cc.db, &user.user, &guid).await?)?;
    let body = Body::parse(&bytes, "SpaceInvalid")?;
    let mut update = Assignments::default();
    let name = body.set_text(&mut update, "name")?;
    if let Some(allow_ssh) = body.bool("allow_ssh")? {
        update.set("allow_ssh", SqlValue::Bool(allow_ssh));
    }
    update.save(&cc.db, "spaces", &guid, "SpaceNameTaken", &name.unwrap_or_default()).await?;
    created(&SPACES, &cc, &guid).await
}

/// `DELETE /v2/spaces/:guid[?recursive=true]` (org managers).
pub async fn delete(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<StatusCode> {
    let row = SPACES.find_for(&cc.db, &guid, &user.user).await?;
    let org: String = sqlx::Row::try_get(&row, "organization_guid").unwrap_or_default();
    require(is_org_manager(&cc.db, &user.user, &org).await?)?;
    let apps: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM apps WHERE space_guid = $1").bind(&guid).fetch_one(&cc.db).await?;
    if apps > 0 && !recursive(query.as_deref()) {
        return Err(ApiError::new("AssociationNotEmpty", &["apps", "space"]));
    }
    delete_contents(&cc, &guid).await?;
    sqlx::query("DELETE FROM spaces WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    let name: String = sqlx::Row::try_get(&row, "name").unwrap_or_default();
    space_event(
        &cc,
        &user,
        "audit.space.delete-request",
        &guid,
        &name,
        &org,
        serde_json::json!({"recursive": recursive(query.as_deref())}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops and deletes a space's apps, then its routes and roles.
pub async fn delete_contents(cc: &Cc, space: &str) -> ApiResult<()> {
    let apps: Vec<String> =
        sqlx::query_scalar("SELECT guid FROM apps WHERE space_guid = $1").bind(space).fetch_all(&cc.db).await?;
    for app in apps {
        runner::stop_all(cc, &app).await?;
        sqlx::query("DELETE FROM route_mappings WHERE app_guid = $1").bind(&app).execute(&cc.db).await?;
        sqlx::query("DELETE FROM apps WHERE guid = $1").bind(&app).execute(&cc.db).await?;
    }
    sqlx::query("DELETE FROM route_mappings WHERE route_guid IN (SELECT guid FROM routes WHERE space_guid = $1)")
        .bind(space)
        .execute(&cc.db)
        .await?;
    sqlx::query("DELETE FROM routes WHERE space_guid = $1").bind(space).execute(&cc.db).await?;
    sqlx::query("DELETE FROM space_roles WHERE space_guid = $1").bind(space).execute(&cc.db).await?;
    Ok(())
}
