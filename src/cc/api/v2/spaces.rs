//! Spaces: where apps, routes and services live, inside an organization,
//! and who works there as developer, manager or auditor.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::body::Body;
use super::collection::created;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::SPACES;
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::permissions::{is_space_manager, require};
use crate::cc::v2::list_params::recursive;
use crate::cc::{Cc, tenancy};

/// `POST /v2/spaces` `{name, organization_guid}` (org managers).
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "SpaceInvalid")?;
    let name = body.required_string("name")?;
    let org = body.required_string("organization_guid")?;
    let guid = tenancy::create_space(&cc, &user, &name, &org, body.redacted()).await?;
    created(&SPACES, &cc, &guid).await
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
    tenancy::delete_space(&cc, &user, &guid, recursive(query.as_deref())).await?;
    Ok(StatusCode::NO_CONTENT)
}
