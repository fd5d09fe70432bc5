//! Multipart uploads (`cf push`'s app bits, v3 packages and droplets,
//! buildpacks): every field read whole, the upload refused with its own CF error once it
//! passes the platform's `max_upload_size`.

use axum::extract::Multipart;

use crate::cc::error::{ApiError, ApiResult};

/// A multipart field: its name and bytes.
pub struct Part {
    pub name: String,
    pub data: Vec<u8>,
}

/// Every field of the upload, at most `max` bytes in all; `error` names the
/// CF error (with one `%s`: why) a bad or too large upload gets.
pub async fn read_parts(multipart: &mut Multipart, max: u64, error: &str) -> ApiResult<Vec<Part>> {
    let invalid = |reason: &str| ApiError::new(error, &[reason]);
    let (mut parts, mut total) = (Vec::new(), 0u64);
    while let Some(mut field) = multipart.next_field().await.map_err(|e| invalid(&e.body_text()))? {
        let name = field.name().unwrap_or_default().to_string();
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| invalid(&e.body_text()))? {
            total += chunk.len() as u64;
            if total > max {
                return Err(invalid(&format!("the upload is larger than the maximum of {max} bytes")));
            }
            data.extend_from_slice(&chunk);
        }
        parts.push(Part { name, data });
    }
    Ok(parts)
}

/// The uploaded file of a multipart `field`: its name and bytes.
pub async fn multipart_file(multipart: &mut Multipart, field: &str) -> ApiResult<(String, Vec<u8>)> {
    let invalid = |reason: &str| ApiError::new("BuildpackBitsUploadInvalid", &[reason]);
    let mut upload = None;
    while let Some(part) = multipart.next_field().await.map_err(|e| invalid(&e.body_text()))? {
        if part.name() == Some(field) {
            let filename = part.file_name().unwrap_or("buildpack.wasm").to_string();
            let data = part.bytes().await.map_err(|e| invalid(&e.body_text()))?;
            upload = Some((filename, data.to_vec()));
        }
    }
    upload.ok_or_else(|| invalid("a buildpack file is required"))
}
