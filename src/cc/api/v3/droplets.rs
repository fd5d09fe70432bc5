//! `/v3/droplets` beyond reading: a droplet a user uploads (`cf push
//! --droplet`: created AWAITING_UPLOAD, then its tar.gz — checked to be a
//! droplet, with a `staging_info.yml` — makes it STAGED), one copied from
//! another app's (`?source_guid=`), a droplet's bits (`cf
//! download-droplet`) and a package's droplets.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::apps::finished_job;
use super::body::{Body, invalid};
use crate::blobstore::{keys, sha1_hex};
use crate::cc::Cc;
use crate::cc::api::multipart::read_parts;
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::Record;
use crate::cc::model::droplet::Droplet;
use crate::cc::model::droplet::{self, ProcessTypes};
use crate::cc::model::metadata;
use crate::cc::model::sql::Condition;
use crate::cc::v3::droplet::DROPLETS;
use crate::cc::v3::package::PACKAGES;
use crate::protocol::MAX_PROCESS_TYPES;
use crate::protocol::droplet::staging_info_of;

/// `POST /v3/droplets` `{"relationships": {"app": …}, "process_types": {…}}`:
/// 201, AWAITING_UPLOAD; with `?source_guid=`, a STAGED copy of that droplet.
pub async fn create(
    State(cc): State<Cc>,
    user: CurrentUser,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["relationships", "process_types", "metadata"])?;
    let app = body
        .string("relationships/app/data/guid", "App guid")?
        .ok_or_else(|| invalid("Relationships app can't be blank"))?;
    writable_app(&cc, &user, &app).await.map_err(|e| if e.status == 404 { invalid("App must exist") } else { e })?;
    let source = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "source_guid")
        .map(|(_, value)| value.into_owned());
    let guid = match source {
        Some(source) => {
            DROPLETS.find_for(&cc, &user.user, &source).await?;
            droplet::copy(&cc.db, &source, &app).await?
        }
        None => droplet::create_awaiting_upload(&cc.db, &app, &process_types(&body)?).await?,
    };
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::CREATED, Json(DROPLETS.show(&cc, &user.user, &guid, None).await?)))
}

/// `process_types`: commands by type, strings, at most [`MAX_PROCESS_TYPES`].
fn process_types(body: &Body) -> ApiResult<ProcessTypes> {
    let Some(given) = body.at("process_types") else { return Ok(ProcessTypes::new()) };
    let types = given.as_object().filter(|types| types.len() <= MAX_PROCESS_TYPES);
    let types =
        types.ok_or_else(|| invalid(&format!("Process types must be an object of at most {MAX_PROCESS_TYPES}")))?;
    types
        .iter()
        .map(|(kind, command)| match command.as_str() {
            Some(command) if !kind.is_empty() => Ok((kind.clone(), command.to_string())),
            _ => Err(invalid("Process types must map a type to its command")),
        })
        .collect()
}

/// `POST /v3/droplets/:guid/upload` (multipart `bits`, a droplet's tar.gz):
/// 202 with a job, finished once the bits are stored and the droplet STAGED.
pub async fn upload(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    let droplet = Droplet::find_for(&cc.db, &guid, &user.user).await?;
    writable_app(&cc, &user, &droplet.app_guid).await?;
    if droplet.state != "AWAITING_UPLOAD" {
        return Err(invalid("Droplet may be uploaded only once, while it is AWAITING_UPLOAD"));
    }
    let parts = read_parts(&mut multipart, cc.config.max_upload_size, "DropletUploadInvalid").await?;
    let bits = parts.into_iter().find(|part| part.name == "bits").map(|part| part.data);
    let bits = bits.ok_or_else(|| ApiError::new("DropletUploadInvalid", &["a bits file is required"]))?;
    let info = staging_info_of(&bits)
        .map_err(|why| ApiError::new("DropletUploadInvalid", &[&format!("not a droplet: {why}")]))?;
    let sha1 = sha1_hex(&bits);
    cc.blobstore.put(&keys::droplet(&sha1), bits.into()).await?;
    droplet::uploaded(&cc.db, &guid, &sha1, &info).await?;
    finished_job(&cc, "droplet.upload").await
}

/// `GET /v3/droplets/:guid/download`: the droplet's bits, a tar.gz of the
/// staged app (`cf download-droplet`).
pub async fn download_droplet(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<axum::response::Response> {
    let droplet = Droplet::find_for(&cc.db, &guid, &user.user).await?;
    let sha1 = droplet.sha1.ok_or_else(|| ApiError::new("DropletNotFound", &[&guid]))?;
    let bits = cc.blobstore.get(&keys::droplet(&sha1)).await?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "application/gzip".to_string()),
        (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"droplet_{guid}.tgz\"")),
    ];
    Ok(axum::response::IntoResponse::into_response((headers, bits)))
}

/// `GET /v3/packages/:guid/droplets`: what staging the package made.
pub async fn droplets_of_package(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(package): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    PACKAGES.find_for(&cc, &user.user, &package).await?;
    let path = format!("/v3/packages/{package}/droplets");
    let fixed = vec![Condition::eq("package_guid", &package)];
    Ok(Json(DROPLETS.list(&cc, &user.user, query.as_deref(), fixed, &path).await?))
}
