//! `/v2/buildpacks`: admin buildpacks ([`crate::cc::buildpacks`]) — added,
//! reordered, enabled, locked, uploaded and deleted by admins.

use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::body::Body;
use super::collection::created;
use crate::cc::Cc;
use crate::cc::api::multipart::multipart_file;
use crate::cc::auth::CurrentUser;
use crate::cc::buildpacks::{self, BuildpackChanges};
use crate::cc::error::ApiResult;
use crate::cc::model::BUILDPACKS;
use crate::cc::permissions::require;

/// The changes a v2 request asks for, its name checked.
fn changes(body: &Body) -> ApiResult<BuildpackChanges> {
    let name = body.string("name")?;
    if name.as_deref().is_some_and(|name| !buildpacks::valid_name(name)) {
        return Err(body.invalid("name can only contain letters, digits, underscores and hyphens"));
    }
    Ok(BuildpackChanges {
        name,
        position: body.int("position")?,
        enabled: body.bool("enabled")?,
        locked: body.bool("locked")?,
    })
}

/// `POST /v2/buildpacks` (admins): a new admin buildpack, at `position`
/// (others move down) or last.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "BuildpackInvalid")?;
    let name = body.required_string("name")?;
    let changes = changes(&body)?;
    let guid = buildpacks::create(&cc, &name, body.string("stack")?, changes).await?;
    created(&BUILDPACKS, &cc, &guid).await
}

/// `PUT /v2/buildpacks/:guid` (admins): name, position, enabled, locked.
pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "BuildpackInvalid")?;
    buildpacks::update(&cc, &guid, changes(&body)?).await?;
    created(&BUILDPACKS, &cc, &guid).await
}

/// `DELETE /v2/buildpacks/:guid` (admins).
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    require(user.user.admin)?;
    buildpacks::delete(&cc, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v2/buildpacks/:guid/bits` (admins): multipart `buildpack`, a
/// `.wasm` component or a zip holding one.
pub async fn upload(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    require(user.user.admin)?;
    BUILDPACKS.find(&cc.db, &guid).await?;
    let (filename, data) = multipart_file(&mut multipart, "buildpack").await?;
    buildpacks::upload(&cc, &guid, &filename, &data).await?;
    created(&BUILDPACKS, &cc, &guid).await
}
