//! Admin buildpacks: wasm components tried in `position` order at staging;
//! admins add, reorder, enable, lock and upload them.

use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use sqlx::Row;

use super::body::Body;
use super::collection::created;
use crate::blobstore::{keys, package, sha1_hex};
use crate::cc::auth::CurrentUser;
use crate::cc::error::taken_or;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::permissions::require;
use crate::cc::{Cc, new_guid, now};
use crate::protocol::STACK;

use crate::cc::model::BUILDPACKS;
use crate::cc::model::resource::text_column;

/// `POST /v2/buildpacks` (admins): a new admin buildpack, at `position`
/// (others move down) or last.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "BuildpackInvalid")?;
    let name = valid_name(&body, body.required_string("name")?)?;
    let guid = new_guid();
    sqlx::query(
        "INSERT INTO buildpacks (guid, name, stack, position, enabled, locked, created_at) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM buildpacks), $4, $5, $6)",
    )
    .bind(&guid)
    .bind(&name)
    .bind(body.string("stack")?.unwrap_or_else(|| STACK.into()))
    .bind(body.bool("enabled")?.unwrap_or(true))
    .bind(body.bool("locked")?.unwrap_or(false))
    .bind(now())
    .execute(&cc.db)
    .await
    .map_err(|e| taken_or(e, "BuildpackNameTaken", &name))?;
    if let Some(position) = body.int("position")? {
        renumber(&cc, Some((&guid, position))).await?;
    }
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
    BUILDPACKS.find(&cc.db, &guid).await?;
    let body = Body::parse(&bytes, "BuildpackInvalid")?;
    let mut update = Assignments::default();
    let name = match body.string("name")? {
        Some(name) => Some(valid_name(&body, name)?),
        None => None,
    };
    if let Some(name) = &name {
        update.set("name", SqlValue::Text(Some(name.clone())));
    }
    for column in ["enabled", "locked"] {
        if let Some(value) = body.bool(column)? {
            update.set(column, SqlValue::Bool(value));
        }
    }
    update.save(&cc.db, "buildpacks", &guid, "BuildpackNameTaken", &name.unwrap_or_default()).await?;
    if let Some(position) = body.int("position")? {
        renumber(&cc, Some((&guid, position))).await?;
    }
    created(&BUILDPACKS, &cc, &guid).await
}

/// `DELETE /v2/buildpacks/:guid` (admins).
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    require(user.user.admin)?;
    BUILDPACKS.find(&cc.db, &guid).await?;
    sqlx::query("DELETE FROM buildpacks WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    renumber(&cc, None).await?;
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
    let row = BUILDPACKS.find(&cc.db, &guid).await?;
    let invalid = |reason: &str| ApiError::new("BuildpackBitsUploadInvalid", &[reason]);
    let mut upload: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| invalid(&e.body_text()))? {
        if field.name() == Some("buildpack") {
            let filename = field.file_name().unwrap_or("buildpack.wasm").to_string();
            let data = field.bytes().await.map_err(|e| invalid(&e.body_text()))?;
            upload = Some((filename, data.to_vec()));
        }
    }
    // Checked once the upload is read, so the connection stays usable.
    let locked =
        row.try_get::<bool, _>("locked").or_else(|_| row.try_get::<i64, _>("locked").map(|v| v != 0)).unwrap_or(false);
    if locked {
        return Err(ApiError::new("BuildpackLocked", &[]));
    }
    let (filename, data) = upload.ok_or_else(|| invalid("a buildpack file is required"))?;
    let wasm = match component_in(&data) {
        Ok(wasm) => wasm,
        Err(e) => {
            // `cf create-buildpack` makes the record, then uploads: a record
            // never given a buildpack goes with bits that are not one.
            if text_column(&row, "blob_key").is_none() {
                sqlx::query("DELETE FROM buildpacks WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
            }
            return Err(invalid(&e));
        }
    };
    let name: String = row.try_get("name").unwrap_or_default();
    let sha1 = sha1_hex(&wasm);
    let key = keys::buildpack(&name, &sha1);
    cc.blobstore.put(&key, wasm.into()).await?;
    sqlx::query("UPDATE buildpacks SET blob_key = $1, sha1 = $2, filename = $3, updated_at = $4 WHERE guid = $5")
        .bind(&key)
        .bind(&sha1)
        .bind(&filename)
        .bind(now())
        .bind(&guid)
        .execute(&cc.db)
        .await?;
    created(&BUILDPACKS, &cc, &guid).await
}

/// A buildpack component: the bytes themselves, or the one `.wasm` in a zip.
fn component_in(data: &[u8]) -> Result<Vec<u8>, String> {
    let is_component = |b: &[u8]| b.len() >= 8 && b[..4] == *b"\0asm" && b[6..8] == [1, 0];
    if is_component(data) {
        return Ok(data.to_vec());
    }
    let limits = package::UnpackLimits { max_total_bytes: 512 * 1024 * 1024, max_ratio: 200 };
    let files =
        package::read_zip(data, limits).map_err(|e| format!("not a wasm component, nor a zip holding one ({e})"))?;
    let mut components = files.into_iter().filter(|f| f.path.ends_with(".wasm") && is_component(&f.contents));
    match (components.next(), components.next()) {
        (Some(one), None) => Ok(one.contents),
        (None, _) => Err("the zip holds no WebAssembly component".into()),
        (Some(_), Some(_)) => Err("the zip holds more than one WebAssembly component".into()),
    }
}

fn valid_name(body: &Body, name: String) -> ApiResult<String> {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Ok(name)
    } else {
        Err(body.invalid("name can only contain letters, digits, underscores and hyphens"))
    }
}

/// Gives buildpacks positions 1..n in their current order, `moved` placed
/// where asked.
async fn renumber(cc: &Cc, moved: Option<(&str, i64)>) -> ApiResult<()> {
    let mut order: Vec<String> =
        sqlx::query_scalar("SELECT guid FROM buildpacks ORDER BY position, id").fetch_all(&cc.db).await?;
    if let Some((guid, position)) = moved {
        order.retain(|g| g != guid);
        let at = (position.max(1) as usize - 1).min(order.len());
        order.insert(at, guid.to_string());
    }
    for (i, guid) in order.iter().enumerate() {
        sqlx::query("UPDATE buildpacks SET position = $1 WHERE guid = $2")
            .bind(i as i64 + 1)
            .bind(guid)
            .execute(&cc.db)
            .await?;
    }
    Ok(())
}
