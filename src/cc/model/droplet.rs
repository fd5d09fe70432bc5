//! Droplets (v3): what staging a package made — or a user uploaded, or
//! copied from another app — stored under its SHA1, with the buildpack
//! that made it and its commands by process type. An app keeps its 5
//! newest ([`super::package::prune`]).

use std::collections::BTreeMap;

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::resource::{Kind::*, Record, Resource, field, text_column};
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};
use crate::protocol::droplet::StagingInfo;

pub static DROPLETS: Resource = Resource {
    table: "droplets",
    path: "/v3/droplets",
    fields: &[field("state", Text), field("sha1", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "DropletNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = droplets.app_guid)"),
};

/// A droplet as stored.
#[derive(Debug, Clone)]
pub struct Droplet {
    pub guid: String,
    pub app_guid: String,
    /// AWAITING_UPLOAD, STAGING, STAGED, FAILED…
    pub state: String,
    /// Where its bits are kept, once there are any.
    pub sha1: Option<String>,
}

impl Record for Droplet {
    const RESOURCE: &'static Resource = &DROPLETS;

    fn from_row(row: &AnyRow) -> Droplet {
        Droplet {
            guid: text_column(row, "guid").unwrap_or_default(),
            app_guid: text_column(row, "app_guid").unwrap_or_default(),
            state: text_column(row, "state").unwrap_or_default(),
            sha1: text_column(row, "sha1"),
        }
    }
}

/// A droplet's commands by process type, as stored (JSON).
pub type ProcessTypes = BTreeMap<String, String>;

/// Stores a droplet the user will upload for the app (`cf push
/// --droplet`), AWAITING_UPLOAD; its guid.
pub async fn create_awaiting_upload(db: &AnyPool, app: &str, process_types: &ProcessTypes) -> ApiResult<String> {
    let guid = new_guid();
    sqlx::query(
        "INSERT INTO droplets (guid, app_guid, state, process_types, created_at) VALUES ($1, $2, 'AWAITING_UPLOAD', $3, $4)",
    )
    .bind(&guid)
    .bind(app)
    .bind(serde_json::to_string(process_types).unwrap_or_default())
    .bind(now())
    .execute(db)
    .await?;
    super::package::prune(db, app).await?;
    Ok(guid)
}

/// An uploaded droplet's bits are stored under `sha1`: STAGED, with what
/// its staging_info.yml says (a web command from it unless the droplet
/// was given its own).
pub async fn uploaded(db: &AnyPool, guid: &str, sha1: &str, info: &StagingInfo) -> ApiResult<()> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT process_types FROM droplets WHERE guid = $1").bind(guid).fetch_one(db).await?;
    let mut process_types: ProcessTypes = stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    process_types.entry("web".into()).or_insert_with(|| info.start_command.clone());
    sqlx::query(
        "UPDATE droplets SET state = 'STAGED', sha1 = $1, detect_output = $2, start_command = $3, process_types = $4, \
         updated_at = $5 WHERE guid = $6",
    )
    .bind(sha1)
    .bind(&info.detected_buildpack)
    .bind(&process_types["web"])
    .bind(serde_json::to_string(&process_types).unwrap_or_default())
    .bind(now())
    .bind(guid)
    .execute(db)
    .await?;
    Ok(())
}

/// A copy of a STAGED droplet for an app (its bits shared, as the
/// blobstore keys them by SHA1), STAGED at once; its guid.
pub async fn copy(db: &AnyPool, source: &str, app: &str) -> ApiResult<String> {
    let guid = new_guid();
    let copied = sqlx::query(
        "INSERT INTO droplets (guid, app_guid, state, sha1, buildpack, detect_output, start_command, process_types, \
         created_at) SELECT $1, $2, state, sha1, buildpack, detect_output, start_command, process_types, $3 \
         FROM droplets WHERE guid = $4 AND state = 'STAGED'",
    )
    .bind(&guid)
    .bind(app)
    .bind(now())
    .bind(source)
    .execute(db)
    .await?;
    if copied.rows_affected() == 0 {
        return Err(ApiError::new("UnprocessableEntity", &["The source droplet must be STAGED to be copied"]));
    }
    super::package::prune(db, app).await?;
    Ok(guid)
}

/// The SHA1 of a STAGED droplet of the app, if `guid` is one.
pub async fn staged_sha1(db: &AnyPool, guid: &str, app: &str) -> ApiResult<Option<String>> {
    let sha1: Option<Option<String>> =
        sqlx::query_scalar("SELECT sha1 FROM droplets WHERE guid = $1 AND app_guid = $2 AND state = 'STAGED'")
            .bind(guid)
            .bind(app)
            .fetch_optional(db)
            .await?;
    Ok(sha1.flatten())
}
