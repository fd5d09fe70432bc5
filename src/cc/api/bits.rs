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
use crate::blobstore::package::{self, PackageFile, UnpackLimits};
use crate::blobstore::{keys, sha1_hex};
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::job::Job;
use crate::cc::{Cc, now};

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

fn is_sha1(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
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
    let max = cc.config.max_upload_size;
    let mut resources: Vec<Fingerprint> = Vec::new();
    let mut application: Option<Vec<u8>> = None;
    while let Some(mut part) = multipart.next_field().await.map_err(|e| invalid(&e.body_text()))? {
        let name = part.name().unwrap_or_default().to_string();
        let mut data = Vec::new();
        while let Some(chunk) = part.chunk().await.map_err(|e| invalid(&e.body_text()))? {
            if (data.len() + chunk.len()) as u64 > max {
                return Err(invalid(&format!("the upload is larger than the maximum of {max} bytes")));
            }
            data.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "resources" => {
                resources = serde_json::from_slice(&data).map_err(|e| invalid(&format!("resources: {e}")))?
            }
            "application" => application = Some(data),
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
    let invalid = |reason: &str| ApiError::new("AppBitsUploadInvalid", &[reason]);
    let limits = UnpackLimits { max_total_bytes: cc.config.max_upload_size, max_ratio: 200 };
    let uploaded = match application {
        Some(zip) if !zip.is_empty() => tokio::task::spawn_blocking(move || package::read_zip(&zip, limits))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|e| invalid(&e))?,
        _ => Vec::new(),
    };
    let mut files = Vec::with_capacity(uploaded.len() + resources.len());
    for fingerprint in &resources {
        let path = package::safe_path(fingerprint.file_name.as_deref().unwrap_or_default()).map_err(|e| invalid(&e))?;
        if !is_sha1(&fingerprint.sha1) {
            return Err(invalid(&format!("{path} has no valid sha1")));
        }
        let contents =
            cc.blobstore.get_opt(&keys::resource(&fingerprint.sha1)).await?.ok_or_else(|| {
                invalid(&format!("{path} ({}) is not in the resource pool; upload it", fingerprint.sha1))
            })?;
        let mode = fingerprint.mode.as_deref().and_then(|m| u32::from_str_radix(m, 8).ok()).unwrap_or(0o644);
        files.push(PackageFile { path, mode, contents: contents.to_vec(), symlink: false });
    }
    for file in &uploaded {
        if !file.symlink && !file.contents.is_empty() {
            let key = keys::resource(&sha1_hex(&file.contents));
            if !cc.blobstore.exists(&key).await? {
                cc.blobstore.put(&key, file.contents.clone().into()).await?;
            }
        }
    }
    files.extend(uploaded);
    let zip = tokio::task::spawn_blocking(move || package::write_zip(&mut files))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(|e| invalid(&e))?;
    let sha1 = sha1_hex(&zip);
    cc.blobstore.put(&keys::package(&sha1), zip.into()).await?;
    sqlx::query(
        "UPDATE apps SET package_hash = $1, package_state = $2, package_updated_at = $3, staging_failed_reason = NULL, \
         staging_failed_description = NULL, updated_at = $4 WHERE guid = $5",
    )
    .bind(&sha1)
    .bind("PENDING")
    .bind(now())
    .bind(now())
    .bind(app)
    .execute(&cc.db)
    .await?;
    Ok(())
}
