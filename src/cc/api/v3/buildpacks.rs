//! `/v3/buildpacks` (admins): `cf create-buildpack` (the record, then its
//! upload, a job), `update-buildpack`, `delete-buildpack`. The work is
//! [`crate::cc::buildpacks`]'s.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::apps::finished_job;
use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::api::multipart::multipart_file;
use crate::cc::auth::CurrentUser;
use crate::cc::buildpacks::{self, BuildpackChanges};
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::metadata;
use crate::cc::permissions::require;
use crate::cc::v3::buildpack::BUILDPACKS;

const FIELDS: [&str; 6] = ["name", "stack", "position", "enabled", "locked", "metadata"];

/// The changes a v3 request asks for, checked.
fn changes(body: &Body) -> ApiResult<BuildpackChanges> {
    let name = body.string("name", "Name")?;
    if name.as_deref().is_some_and(|name| !buildpacks::valid_name(name)) {
        return Err(invalid("Name can only contain letters, digits, underscores and hyphens"));
    }
    let flag = |field: &str| match body.at(field) {
        None => Ok(None),
        Some(Value::Bool(on)) => Ok(Some(*on)),
        Some(_) => Err(invalid(&format!("{field} must be a boolean"))),
    };
    Ok(BuildpackChanges {
        name,
        position: body.int("position", "Position", 1)?,
        enabled: flag("enabled")?,
        locked: flag("locked")?,
    })
}

/// `POST /v3/buildpacks`: 201, AWAITING_UPLOAD.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, &FIELDS)?;
    let changes = changes(&body)?;
    let name = changes.name.clone().ok_or_else(|| invalid("Name can't be blank"))?;
    let guid = buildpacks::create(&cc, &name, body.string("stack", "Stack")?, changes).await?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::CREATED, Json(BUILDPACKS.show(&cc, &user.user, &guid, None).await?)))
}

/// `PATCH /v3/buildpacks/:guid`.
pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, &FIELDS)?;
    buildpacks::update(&cc, &guid, changes(&body)?).await?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok(Json(BUILDPACKS.show(&cc, &user.user, &guid, None).await?))
}

/// `DELETE /v3/buildpacks/:guid`: 202 with its (finished) job.
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    require(user.user.admin)?;
    buildpacks::delete(&cc, &guid).await?;
    metadata::forget(&cc.db, &guid).await?;
    finished_job(&cc, "buildpack.delete").await
}

/// `POST /v3/buildpacks/:guid/upload`: multipart `bits`; 202 with its (finished) job.
pub async fn upload(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    require(user.user.admin)?;
    BUILDPACKS.find_for(&cc, &user.user, &guid).await?;
    // v3 words bad bits as UnprocessableEntity.
    let unprocessable = |e: ApiError| if e.name == "BuildpackBitsUploadInvalid" { invalid(&e.description) } else { e };
    let (filename, data) = multipart_file(&mut multipart, "bits").await.map_err(unprocessable)?;
    buildpacks::upload(&cc, &guid, &filename, &data).await.map_err(unprocessable)?;
    finished_job(&cc, "buildpack.upload").await
}
