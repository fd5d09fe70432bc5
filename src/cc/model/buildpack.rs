//! Admin buildpacks: the buildpack components staging tries, in order of
//! position.

use sqlx::{AnyPool, Row};

use super::resource::{Kind::*, Resource, bool_column, field, text_column};
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};
use crate::protocol::STACK;
use crate::protocol::messages::AdminBuildpack;

pub static BUILDPACKS: Resource = Resource {
    table: "buildpacks",
    path: "/v2/buildpacks",
    fields: &[
        field("name", Text),
        field("stack", Text),
        field("position", Int),
        field("enabled", Bool),
        field("locked", Bool),
        field("filename", Text),
    ],
    to_one: &[],
    to_many: &[],
    not_found: "NotFound",
    filters: &["name", "stack", "position", "enabled"],
    scope: None,
    visibility: Visibility::Everyone,
};

/// A buildpack as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buildpack {
    pub guid: String,
    pub name: String,
    pub locked: bool,
    /// Where its component is, once given one.
    pub blob_key: Option<String>,
}

impl Buildpack {
    /// The buildpack by guid, or NotFound.
    pub async fn find(db: &AnyPool, guid: &str) -> ApiResult<Buildpack> {
        let row = BUILDPACKS.find(db, guid).await?;
        Ok(Buildpack {
            guid: text_column(&row, "guid").unwrap_or_default(),
            name: text_column(&row, "name").unwrap_or_default(),
            locked: bool_column(&row, "locked").unwrap_or(false),
            blob_key: text_column(&row, "blob_key"),
        })
    }

    /// Stores a buildpack last in order; BuildpackNameTaken if one has the name.
    pub async fn insert(
        db: &AnyPool,
        guid: &str,
        name: &str,
        stack: &str,
        enabled: bool,
        locked: bool,
    ) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO buildpacks (guid, name, stack, position, enabled, locked, created_at) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM buildpacks), $4, $5, $6)",
        )
        .bind(guid)
        .bind(name)
        .bind(stack)
        .bind(enabled)
        .bind(locked)
        .bind(now())
        .execute(db)
        .await
        .map_err(|e| taken_or(e, "BuildpackNameTaken", name))?;
        Ok(())
    }

    /// Records the buildpack's component: its blob, SHA1 and file name.
    pub async fn set_component(db: &AnyPool, guid: &str, key: &str, sha1: &str, filename: &str) -> ApiResult<()> {
        sqlx::query("UPDATE buildpacks SET blob_key = $1, sha1 = $2, filename = $3, updated_at = $4 WHERE guid = $5")
            .bind(key)
            .bind(sha1)
            .bind(filename)
            .bind(now())
            .bind(guid)
            .execute(db)
            .await?;
        Ok(())
    }

    /// The guids of every buildpack in order.
    pub async fn guids_in_order(db: &AnyPool) -> ApiResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT guid FROM buildpacks ORDER BY position, id").fetch_all(db).await?)
    }

    /// Gives the buildpack `position` (from 1).
    pub async fn set_position(db: &AnyPool, guid: &str, position: i64) -> ApiResult<()> {
        sqlx::query("UPDATE buildpacks SET position = $1 WHERE guid = $2")
            .bind(position)
            .bind(guid)
            .execute(db)
            .await?;
        Ok(())
    }
}

/// The SHA1 of the component installed as the buildpack called `name`, and
/// whether it is locked, if there is such a buildpack.
pub async fn installed(db: &AnyPool, name: &str) -> ApiResult<Option<(Option<String>, bool)>> {
    let row = sqlx::query("SELECT sha1, locked FROM buildpacks WHERE name = $1").bind(name).fetch_optional(db).await?;
    Ok(row.map(|row| (text_column(&row, "sha1"), bool_column(&row, "locked").unwrap_or(false))))
}

/// A buildpack's component as a release ships it.
pub struct Released<'a> {
    pub name: &'a str,
    pub filename: &'a str,
    pub blob_key: &'a str,
    pub sha1: &'a str,
}

/// Gives the unlocked buildpack called `released.name` the released component.
pub async fn replace_released(db: &AnyPool, released: &Released<'_>) -> ApiResult<()> {
    sqlx::query(
        "UPDATE buildpacks SET blob_key = $1, sha1 = $2, filename = $3, updated_at = $4 WHERE name = $5 AND locked = $6",
    )
    .bind(released.blob_key)
    .bind(released.sha1)
    .bind(released.filename)
    .bind(now())
    .bind(released.name)
    .bind(false)
    .execute(db)
    .await?;
    Ok(())
}

/// Adds a released buildpack at `position`, the ones from there on moving
/// down one, unless another CC just added it.
pub async fn insert_released(db: &AnyPool, released: &Released<'_>, position: i64) -> ApiResult<()> {
    let inserted = sqlx::query(
        "INSERT INTO buildpacks (guid, name, stack, position, enabled, locked, filename, blob_key, sha1, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (name) DO NOTHING",
    )
    .bind(new_guid())
    .bind(released.name)
    .bind(STACK)
    .bind(position)
    .bind(true)
    .bind(false)
    .bind(released.filename)
    .bind(released.blob_key)
    .bind(released.sha1)
    .bind(now())
    .execute(db)
    .await?;
    if inserted.rows_affected() == 1 {
        sqlx::query("UPDATE buildpacks SET position = position + 1 WHERE position >= $1 AND name <> $2")
            .bind(position)
            .bind(released.name)
            .execute(db)
            .await?;
    }
    Ok(())
}

/// The enabled buildpacks that have a component, in detection order.
pub async fn enabled_in_order(db: &AnyPool) -> ApiResult<Vec<AdminBuildpack>> {
    let rows = sqlx::query(
        "SELECT name, blob_key, sha1 FROM buildpacks WHERE enabled = $1 AND blob_key IS NOT NULL ORDER BY position, id",
    )
    .bind(true)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|r| AdminBuildpack {
            name: r.try_get("name").unwrap_or_default(),
            key: r.try_get("blob_key").unwrap_or_default(),
            sha1: text_column(r, "sha1").unwrap_or_default(),
        })
        .collect())
}
