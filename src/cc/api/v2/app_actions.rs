//! What a developer does to an app besides editing it: read its
//! environment (`/env`), restage it, and download its package or droplet.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::blobstore::keys;
use crate::cc::api::app_access::environment;
use crate::cc::app_changes::app_event;
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::APPS;
use crate::cc::model::Record;
use crate::cc::model::app::App;
use crate::cc::{Cc, stager};

/// `GET /v2/apps/:guid/env` (space developers): what the app's instances
/// get, split as CF shows it.
pub async fn env(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let env = environment(&cc, &writable_app(&cc, &user, &guid).await?).await?;
    Ok(Json(json!({
        "staging_env_json": env.staging_group,
        "running_env_json": env.running_group,
        "environment_json": env.user,
        "system_env_json": {"VCAP_SERVICES": env.vcap_services},
        "application_env_json": {"VCAP_APPLICATION": env.vcap_application},
    })))
}

/// `POST /v2/apps/:guid/restage`: stage the current package again, and
/// start the new droplet if the app is started.
pub async fn restage(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    let app = writable_app(&cc, &user, &guid).await?;
    if app.package_hash.is_none() {
        return Err(ApiError::new("NotStaged", &[]));
    }
    // A new droplet is a new version; the old instances serve on until
    // the new ones run (the health manager leaves an app that stages alone).
    App::restage(&cc.db, &guid).await?;
    app_event(&cc, &user, "audit.app.restage", &App::find(&cc.db, &guid).await?, json!({})).await;
    if app.is_started() {
        tokio::spawn(stager::stage_and_start(cc.clone(), guid.clone()));
    }
    Ok((StatusCode::CREATED, Json(APPS.get(&cc.db, &guid).await?)).into_response())
}

/// `GET /v2/apps/:guid/download`: the package as uploaded (a zip).
pub async fn download(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    let app = writable_app(&cc, &user, &guid).await?;
    let missing = || ApiError::new("AppPackageNotFound", &[&guid]);
    let sha1 = app.package_hash.ok_or_else(missing)?;
    let bytes = cc.blobstore.get_opt(&keys::package(&sha1)).await?.ok_or_else(missing)?;
    Ok(([("content-type", "application/zip")], Body::from(bytes)).into_response())
}

/// `GET /v2/apps/:guid/droplet/download`: the staged droplet (a tar.gz).
pub async fn droplet_download(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<Response> {
    let app = writable_app(&cc, &user, &guid).await?;
    let missing = || ApiError::new("NotStaged", &[]);
    let sha1 = app.droplet_hash.ok_or_else(missing)?;
    let bytes = cc.blobstore.get_opt(&keys::droplet(&sha1)).await?.ok_or_else(missing)?;
    Ok(([("content-type", "application/gzip")], Body::from(bytes)).into_response())
}
