//! v3's way from bits to a running droplet: `POST /v3/resource_matches`,
//! `POST /v3/packages` and its `upload`, `POST /v3/builds` (staging the
//! package, by the same stager as v2's), and setting the app's current
//! droplet.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::body::{Body, invalid};
use crate::blobstore::keys;
use crate::cc::api::multipart::read_parts;
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::Record;
use crate::cc::model::app::App;
use crate::cc::model::package::Package;
use crate::cc::model::{build, package};
use crate::cc::packages::{self, PooledFile, is_sha1};
use crate::cc::v3::build::BUILDS;
use crate::cc::v3::droplet::DROPLETS;
use crate::cc::v3::package::PACKAGES;
use crate::cc::{Cc, stager};

/// `POST /v3/resource_matches`: the given files the resource pool has (201, as CF answers).
pub async fn resource_matches(
    State(cc): State<Cc>,
    _user: CurrentUser,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["resources"])?;
    let wanted = body.at("resources").and_then(Value::as_array).ok_or_else(|| invalid("Resources must be an array"))?;
    let mut known = Vec::new();
    for item in wanted {
        let sha1 = item.pointer("/checksum/value").and_then(Value::as_str).unwrap_or_default();
        let size = item.get("size_in_bytes").and_then(Value::as_u64).unwrap_or(0);
        if size > 0 && is_sha1(sha1) && cc.blobstore.exists(&keys::resource(sha1)).await? {
            known.push(item.clone());
        }
    }
    Ok((StatusCode::CREATED, Json(json!({"resources": known}))))
}

/// `POST /v3/packages` `{"type": "bits", "relationships": {"app": …}}`;
/// with `?source_guid=` a copy of that package's bits for the app (`cf
/// copy-source`), READY at once.
pub async fn create(
    State(cc): State<Cc>,
    user: CurrentUser,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["type", "relationships", "data", "metadata"])?;
    let source = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "source_guid")
        .map(|(_, value)| value.into_owned());
    if source.is_none() && body.string("type", "Type")?.as_deref() != Some("bits") {
        return Err(invalid("Type must be 'bits': packages here are app bits (no docker images)"));
    }
    let app = body
        .string("relationships/app/data/guid", "App guid")?
        .ok_or_else(|| invalid("Relationships app can't be blank"))?;
    writable_app(&cc, &user, &app).await.map_err(|e| if e.status == 404 { invalid("App must exist") } else { e })?;
    let bits = match &source {
        Some(source) => {
            let package = Package::find_for(&cc.db, source, &user.user).await?;
            let bits = package.ready_bits().ok_or_else(|| invalid("The source package has no bits to copy"))?;
            Some(bits.to_string())
        }
        None => None,
    };
    let guid = package::create(&cc.db, &app).await?;
    if let Some(sha1) = bits {
        package::uploaded(&cc.db, &guid, Ok(&sha1)).await?;
    }
    Ok((StatusCode::CREATED, Json(PACKAGES.show(&cc, &user.user, &guid, None).await?)))
}

/// The package, if the user may change its app.
async fn writable_package(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<Package> {
    let package = Package::find_for(&cc.db, guid, &user.user).await?;
    writable_app(cc, user, &package.app_guid).await?;
    Ok(package)
}

/// `POST /v3/packages/:guid/upload`: multipart `bits` (a zip of what the
/// pool lacks) and `resources` (the pool's files, by checksum).
pub async fn upload(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    mut multipart: Multipart,
) -> ApiResult<Json<Value>> {
    if writable_package(&cc, &user, &guid).await?.state != "AWAITING_UPLOAD" {
        return Err(ApiError::new("PackageBitsAlreadyUploaded", &[]));
    }
    let bad = |reason: &str| ApiError::new("AppBitsUploadInvalid", &[reason]);
    let (mut resources, mut bits) = (Vec::new(), None);
    for part in read_parts(&mut multipart, cc.config.max_upload_size, "AppBitsUploadInvalid").await? {
        match part.name.as_str() {
            "resources" => {
                let list: Vec<Value> =
                    serde_json::from_slice(&part.data).map_err(|e| bad(&format!("resources: {e}")))?;
                for item in list {
                    let sha1 = item.pointer("/checksum/value").and_then(Value::as_str).unwrap_or_default().to_string();
                    let path = item.get("path").and_then(Value::as_str).unwrap_or_default().to_string();
                    let mode = item.get("mode").and_then(Value::as_str).map(str::to_string);
                    resources.push(PooledFile { sha1, path, mode });
                }
            }
            "bits" => bits = Some(part.data),
            _ => {}
        }
    }
    if bits.is_none() && resources.is_empty() {
        return Err(bad("missing the bits zip and resources"));
    }
    match packages::assemble(&cc, resources, bits).await {
        Ok(sha1) => package::uploaded(&cc.db, &guid, Ok(&sha1)).await?,
        Err(e) => {
            package::uploaded(&cc.db, &guid, Err(&e.description)).await?;
            return Err(e);
        }
    }
    Ok(Json(PACKAGES.show(&cc, &user.user, &guid, None).await?))
}

/// `POST /v3/builds` `{"package": {"guid": …}}`: stages the package as the
/// app's, which the build then follows.
pub async fn create_build(
    State(cc): State<Cc>,
    user: CurrentUser,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body =
        Body::parse(&bytes, &["package", "lifecycle", "staging_memory_in_mb", "staging_disk_in_mb", "metadata"])?;
    let package = body.string("package/guid", "Package guid")?.ok_or_else(|| invalid("Package guid can't be blank"))?;
    let found = writable_package(&cc, &user, &package).await.map_err(|e| {
        if e.status == 404 {
            invalid("Unable to use package. Ensure that the package exists and you have access to it.")
        } else {
            e
        }
    })?;
    let bits = found.ready_bits().ok_or_else(|| invalid("Package must be in the READY state to stage"))?;
    let user_id = (user.user.guid.as_str(), user.user.username.as_str());
    let guid = build::create(&cc.db, &found.app_guid, &package, Some(bits), user_id).await?;
    tokio::spawn(stager::stage_and_start(cc.clone(), found.app_guid));
    Ok((StatusCode::CREATED, Json(BUILDS.show(&cc, &user.user, &guid, None).await?)))
}

/// `GET /v3/builds/:guid`, brought up to date with the staging.
pub async fn show_build(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    BUILDS.find_for(&cc, &user.user, &guid).await?;
    build::follow(&cc.db, &guid).await?;
    Ok(Json(BUILDS.show(&cc, &user.user, &guid, query.as_deref()).await?))
}

fn current_droplet_relationship(cc: &Cc, app: &str, droplet: Option<&str>) -> Value {
    let url = cc.config.external_url();
    json!({
        "data": droplet.map(|guid| json!({"guid": guid})),
        "links": {
            "self": {"href": format!("{url}/v3/apps/{app}/relationships/current_droplet")},
            "related": {"href": format!("{url}/v3/apps/{app}/droplets/current")},
        },
    })
}

/// `PATCH /v3/apps/:guid/relationships/current_droplet` `{"data": {"guid": …}}`:
/// the droplet the app's instances run from their next start.
pub async fn set_current_droplet(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(app): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    writable_app(&cc, &user, &app).await?;
    let body = Body::parse(&bytes, &["data"])?;
    let droplet = body.string("data/guid", "Droplet guid")?.ok_or_else(|| invalid("Data guid can't be blank"))?;
    App::set_current_droplet(&cc.db, &app, &droplet).await?;
    Ok(Json(current_droplet_relationship(&cc, &app, Some(&droplet))))
}

/// The app's current droplet guid, if it has one.
async fn current_droplet(cc: &Cc, user: &CurrentUser, app: &str) -> ApiResult<Option<String>> {
    Ok(App::find_for(&cc.db, app, &user.user).await?.droplet_guid)
}

/// `GET /v3/apps/:guid/relationships/current_droplet`.
pub async fn current_droplet_link(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(app): Path<String>,
) -> ApiResult<Json<Value>> {
    let droplet = current_droplet(&cc, &user, &app).await?;
    Ok(Json(current_droplet_relationship(&cc, &app, droplet.as_deref())))
}

/// `GET /v3/apps/:guid/droplets/current`.
pub async fn show_current_droplet(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(app): Path<String>,
) -> ApiResult<Json<Value>> {
    let droplet = current_droplet(&cc, &user, &app).await?.ok_or_else(|| ApiError::new("DropletNotFound", &[""]))?;
    Ok(Json(DROPLETS.show(&cc, &user.user, &droplet, None).await?))
}
