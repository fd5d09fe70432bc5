//! Admin buildpacks, whichever API asks: wasm components tried in
//! `position` order at staging; added (at a position, the others moving
//! down, or last), changed, reordered, deleted, and given their component
//! (a `.wasm`, or a zip holding one) — a record never given a component
//! goes with bits that are not one, as `cf create-buildpack` makes the
//! record first. Admins only: the callers check.

use super::error::{ApiError, ApiResult};
use super::model::BUILDPACKS;
use super::model::buildpack::Buildpack;
use super::model::sql::{Assignments, SqlValue};
use super::{Cc, new_guid};
use crate::blobstore::{keys, package, sha1_hex};
use crate::protocol::STACK;

/// What a request sets of a buildpack (None: left as it is).
#[derive(Debug, Default)]
pub struct BuildpackChanges {
    pub name: Option<String>,
    pub position: Option<i64>,
    pub enabled: Option<bool>,
    pub locked: Option<bool>,
}

/// Whether `name` may name a buildpack: letters, digits, `_` and `-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A new buildpack (its name checked by the caller) for `stack`; its guid.
pub async fn create(cc: &Cc, name: &str, stack: Option<String>, changes: BuildpackChanges) -> ApiResult<String> {
    let guid = new_guid();
    let stack = stack.unwrap_or_else(|| STACK.into());
    let (enabled, locked) = (changes.enabled.unwrap_or(true), changes.locked.unwrap_or(false));
    Buildpack::insert(&cc.db, &guid, name, &stack, enabled, locked).await?;
    if let Some(position) = changes.position {
        renumber(cc, Some((&guid, position))).await?;
    }
    Ok(guid)
}

/// Applies `changes` (a new name checked by the caller).
pub async fn update(cc: &Cc, guid: &str, changes: BuildpackChanges) -> ApiResult<()> {
    BUILDPACKS.find(&cc.db, guid).await?;
    let mut update = Assignments::default();
    if let Some(name) = &changes.name {
        update.set("name", SqlValue::Text(Some(name.clone())));
    }
    for (column, value) in [("enabled", changes.enabled), ("locked", changes.locked)] {
        if let Some(value) = value {
            update.set(column, SqlValue::Bool(value));
        }
    }
    update.save(&cc.db, "buildpacks", guid, "BuildpackNameTaken", &changes.name.unwrap_or_default()).await?;
    if let Some(position) = changes.position {
        renumber(cc, Some((guid, position))).await?;
    }
    Ok(())
}

pub async fn delete(cc: &Cc, guid: &str) -> ApiResult<()> {
    BUILDPACKS.find(&cc.db, guid).await?;
    BUILDPACKS.delete(&cc.db, guid).await?;
    renumber(cc, None).await
}

/// Gives the buildpack its component from `data` (uploaded as `filename`);
/// BuildpackLocked, or BuildpackBitsUploadInvalid.
pub async fn upload(cc: &Cc, guid: &str, filename: &str, data: &[u8]) -> ApiResult<()> {
    let buildpack = Buildpack::find(&cc.db, guid).await?;
    if buildpack.locked {
        return Err(ApiError::new("BuildpackLocked", &[]));
    }
    let wasm = match component_in(data) {
        Ok(wasm) => wasm,
        Err(e) => {
            if buildpack.blob_key.is_none() {
                BUILDPACKS.delete(&cc.db, guid).await?;
            }
            return Err(ApiError::new("BuildpackBitsUploadInvalid", &[&e]));
        }
    };
    let sha1 = sha1_hex(&wasm);
    let key = keys::buildpack(&buildpack.name, &sha1);
    cc.blobstore.put(&key, wasm.into()).await?;
    Buildpack::set_component(&cc.db, guid, &key, &sha1, filename).await
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

/// Gives buildpacks positions 1..n in their current order, `moved` placed
/// where asked.
async fn renumber(cc: &Cc, moved: Option<(&str, i64)>) -> ApiResult<()> {
    let mut order = Buildpack::guids_in_order(&cc.db).await?;
    if let Some((guid, position)) = moved {
        order.retain(|g| g != guid);
        let at = (position.max(1) as usize - 1).min(order.len());
        order.insert(at, guid.to_string());
    }
    for (i, guid) in order.iter().enumerate() {
        Buildpack::set_position(&cc.db, guid, i as i64 + 1).await?;
    }
    Ok(())
}
