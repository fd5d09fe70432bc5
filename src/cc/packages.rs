//! App packages: the bits a user pushed, assembled from the files the
//! resource pool already has (by SHA1) and an uploaded zip of the rest,
//! stored in the blobstore under the package's SHA1. v2's
//! `PUT /v2/apps/:guid/bits` and v3's package upload both come here.

use super::Cc;
use super::error::{ApiError, ApiResult};
use crate::blobstore::package::{self, PackageFile, UnpackLimits};
use crate::blobstore::{keys, sha1_hex};

/// A file of the package the client did not send: the pool has it.
pub struct PooledFile {
    pub sha1: String,
    pub path: String,
    /// Octal, e.g. `644`.
    pub mode: Option<String>,
}

pub fn is_sha1(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Assembles a package from files of the resource pool and an uploaded zip
/// of the rest (each of whose files joins the pool), stores it under its
/// SHA1 and returns that; AppBitsUploadInvalid for a bad upload.
pub async fn assemble(cc: &Cc, resources: Vec<PooledFile>, application: Option<Vec<u8>>) -> ApiResult<String> {
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
        let path = package::safe_path(&fingerprint.path).map_err(|e| invalid(&e))?;
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
    Ok(sha1)
}
