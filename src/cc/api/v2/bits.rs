//! App bits: `PUT /v2/resource_match` (which files the CC already has, by
//! SHA1) and `PUT /v2/apps/:guid/bits` (multipart `resources` + the
//! `application` zip of the rest). The package is assembled from both,
//! stored under its SHA1, and every new file goes into the resource pool so
//! the next push need not send it. With `?async=true` the work is a job.
//! A refused upload changes nothing: the previous package stays.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::jobs;
use crate::blobstore::keys;
use crate::cc::Cc;
use crate::cc::api::multipart::read_parts;
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::app::App;
use crate::cc::model::job::Job;
use crate::cc::packages::{self, PooledFile, is_sha1};

/// A file the client describes by fingerprint instead of sending it.
#[derive(Debug, Clone, Deserialize)]
struct Fingerprint {
    sha1: String,
    #[serde(default)]
    size: u64,
    #[serde(default, rename = "fn")]
    file_name: Option<String>,
    #[serde(default)]
    mode: Option<String>,
}

/// `PUT /v2/resource_match`: the subset of the given fingerprints in the pool.
pub async fn resource_match(State(cc): State<Cc>, _user: CurrentUser, bytes: Bytes) -> ApiResult<Json<Value>> {
    let wanted: Vec<Value> = serde_json::from_slice(&bytes).map_err(ApiError::parse)?;
    let mut known = Vec::new();
    for item in wanted {
        let fingerprint: Fingerprint = serde_json::from_value(item.clone()).map_err(ApiError::parse)?;
        if fingerprint.size > 0
            && is_sha1(&fingerprint.sha1)
            && cc.blobstore.exists(&keys::resource(&fingerprint.sha1)).await?
        {
            known.push(item);
        }
    }
    Ok(Json(Value::Array(known)))
}

/// `PUT /v2/apps/:guid/bits[?async=true]`.
pub async fn upload(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    RawQuery(query): RawQuery,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    writable_app(&cc, &user, &guid).await?;
    let invalid = |reason: &str| ApiError::new("AppBitsUploadInvalid", &[reason]);
    let mut resources: Vec<Fingerprint> = Vec::new();
    let mut application: Option<Vec<u8>> = None;
    for part in read_parts(&mut multipart, cc.config.max_upload_size, "AppBitsUploadInvalid").await? {
        match part.name.as_str() {
            "resources" => {
                resources = serde_json::from_slice(&part.data).map_err(|e| invalid(&format!("resources: {e}")))?
            }
            "application" => application = Some(part.data),
            _ => {}
        }
    }
    if application.is_none() && resources.is_empty() {
        return Err(invalid("missing the application zip and resources"));
    }

    let is_async = query
        .as_deref()
        .is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "async" && v == "true"));
    if is_async {
        let job = Job::create(&cc.db, &cc.id, "app_bits.upload").await?;
        let (cc2, job2) = (cc.clone(), job.clone());
        tokio::spawn(async move {
            let outcome = store_package(&cc2, &guid, resources, application).await;
            Job::finish(&cc2.db, &job2, outcome.err()).await;
        });
        return Ok((StatusCode::CREATED, Json(jobs::render(&Job::find(&cc.db, &job).await?))).into_response());
    }
    store_package(&cc, &guid, resources, application).await?;
    Ok((StatusCode::CREATED, Json(json!({}))).into_response())
}

/// Assembles, stores and records the package; nothing changes on failure.
async fn store_package(cc: &Cc, app: &str, resources: Vec<Fingerprint>, application: Option<Vec<u8>>) -> ApiResult<()> {
    let pooled = resources
        .into_iter()
        .map(|f| PooledFile { sha1: f.sha1, path: f.file_name.unwrap_or_default(), mode: f.mode })
        .collect();
    let sha1 = packages::assemble(cc, pooled, application).await?;
    // v3 sees the upload as a package of the app.
    let package = crate::cc::model::package::create(&cc.db, app).await?;
    crate::cc::model::package::uploaded(&cc.db, &package, Ok(&sha1)).await?;
    App::take_package(&cc.db, app, Some(&sha1)).await?;
    Ok(())
}
