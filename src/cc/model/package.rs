//! Packages (v3): each upload of an app's bits, stored under its SHA1;
//! AWAITING_UPLOAD until the bits come, then READY (or FAILED).

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::resource::{Kind::*, Record, Resource, field, text_column};
use crate::cc::error::ApiResult;
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

pub static PACKAGES: Resource = Resource {
    table: "packages",
    path: "/v3/packages",
    fields: &[field("state", Text), field("sha1", Text), field("error", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "PackageNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = packages.app_guid)"),
};

/// A package as stored.
#[derive(Debug, Clone)]
pub struct Package {
    pub guid: String,
    pub app_guid: String,
    /// AWAITING_UPLOAD, READY or FAILED.
    pub state: String,
    /// Where its bits are kept, once uploaded.
    pub sha1: Option<String>,
}

impl Record for Package {
    const RESOURCE: &'static Resource = &PACKAGES;

    fn from_row(row: &AnyRow) -> Package {
        Package {
            guid: text_column(row, "guid").unwrap_or_default(),
            app_guid: text_column(row, "app_guid").unwrap_or_default(),
            state: text_column(row, "state").unwrap_or_default(),
            sha1: text_column(row, "sha1"),
        }
    }
}

impl Package {
    /// Its bits' SHA1 once it is READY.
    pub fn ready_bits(&self) -> Option<&str> {
        self.sha1.as_deref().filter(|_| self.state == "READY")
    }
}

/// Packages, droplets and builds kept per app, newest first, as CCNG's
/// `max_packages_stored`/`max_staged_droplets_stored` keep them: older ones
/// are deleted as new ones come (an app's current droplet always stays).
pub const KEPT_PER_APP: i64 = 5;

/// A new package of the app, awaiting its bits; its guid. The app's
/// oldest packages, droplets and builds beyond [`KEPT_PER_APP`] go.
pub async fn create(db: &AnyPool, app_guid: &str) -> ApiResult<String> {
    prune(db, app_guid).await?;
    let guid = new_guid();
    sqlx::query("INSERT INTO packages (guid, app_guid, state, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&guid)
        .bind(app_guid)
        .bind("AWAITING_UPLOAD")
        .bind(now())
        .execute(db)
        .await?;
    Ok(guid)
}

/// Records how the upload ended: READY with the package's SHA1, or FAILED.
pub async fn uploaded(db: &AnyPool, guid: &str, outcome: Result<&str, &str>) -> ApiResult<()> {
    let (state, sha1, error) = match outcome {
        Ok(sha1) => ("READY", Some(sha1), None),
        Err(error) => ("FAILED", None, Some(error)),
    };
    sqlx::query("UPDATE packages SET state = $1, sha1 = $2, error = $3, updated_at = $4 WHERE guid = $5")
        .bind(state)
        .bind(sha1)
        .bind(error)
        .bind(now())
        .bind(guid)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes the app's packages, builds and (not current) droplets older than
/// its [`KEPT_PER_APP`] newest of each.
pub async fn prune(db: &AnyPool, app_guid: &str) -> ApiResult<()> {
    for (table, except_current) in [
        ("packages", ""),
        ("builds", ""),
        ("droplets", " AND guid <> COALESCE((SELECT droplet_guid FROM apps WHERE guid = $3), '')"),
    ] {
        let sql = format!(
            "DELETE FROM {table} WHERE app_guid = $1 AND id NOT IN (SELECT id FROM {table} WHERE app_guid = $2 \
             ORDER BY id DESC LIMIT {KEPT_PER_APP}){except_current}"
        );
        let mut query = sqlx::query(&sql).bind(app_guid).bind(app_guid);
        if !except_current.is_empty() {
            query = query.bind(app_guid);
        }
        query.execute(db).await?;
    }
    Ok(())
}
