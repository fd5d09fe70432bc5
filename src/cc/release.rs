//! The built-in buildpacks as cf-release shipped buildpacks: release
//! packages, each a name, a version (its crate's) and bits known by SHA1.
//! Every CC installs them at start, idempotently — the same SHA1 does
//! nothing; a new version replaces the bits of the admin buildpack of that
//! name, keeping the position and enabled flag an admin chose, and leaving
//! a locked buildpack alone (CF's `locked`: its bits do not change). Many
//! CCs starting at once install each package once.

use anyhow::Result;
use sqlx::Row;

use super::model::resource::bool_column;
use super::{Cc, new_guid, now};
use crate::blobstore::{keys, sha1_hex};
use crate::protocol::STACK;

pub struct ReleasePackage {
    pub name: &'static str,
    /// The guest crate's Cargo.toml, which holds the version.
    manifest: &'static str,
    pub bits: &'static [u8],
}

/// In detection order.
pub const BUILTIN_BUILDPACKS: &[ReleasePackage] = &[
    ReleasePackage {
        name: "wasm_buildpack",
        manifest: include_str!("../../buildpacks-wasm/wasm/Cargo.toml"),
        bits: include_bytes!("../../buildpacks-wasm/wasm_buildpack.wasm"),
    },
    ReleasePackage {
        name: "js_buildpack",
        manifest: include_str!("../../buildpacks-wasm/js/Cargo.toml"),
        bits: include_bytes!("../../buildpacks-wasm/js_buildpack.wasm"),
    },
    ReleasePackage {
        name: "python_buildpack",
        manifest: include_str!("../../buildpacks-wasm/python/Cargo.toml"),
        bits: include_bytes!("../../buildpacks-wasm/python_buildpack.wasm"),
    },
    ReleasePackage {
        name: "staticfile_buildpack",
        manifest: include_str!("../../buildpacks-wasm/staticfile/Cargo.toml"),
        bits: include_bytes!("../../buildpacks-wasm/staticfile_buildpack.wasm"),
    },
];

impl ReleasePackage {
    pub fn version(&self) -> &'static str {
        self.manifest.lines().find_map(|line| line.strip_prefix("version = \"")?.strip_suffix('"')).unwrap_or("0.0.0")
    }

    pub fn sha1(&self) -> String {
        sha1_hex(self.bits)
    }

    /// What `cf buildpacks` shows as the buildpack's file.
    pub fn filename(&self) -> String {
        format!("{}-v{}.wasm", self.name, self.version())
    }
}

/// Installs every built-in buildpack that is missing or of another version.
pub async fn install_builtin_buildpacks(cc: &Cc) -> Result<()> {
    for (position, package) in BUILTIN_BUILDPACKS.iter().enumerate() {
        install(cc, package, position as i64 + 1).await?;
    }
    Ok(())
}

async fn install(cc: &Cc, package: &ReleasePackage, position: i64) -> Result<()> {
    let sha1 = package.sha1();
    let row = sqlx::query("SELECT sha1, locked FROM buildpacks WHERE name = $1")
        .bind(package.name)
        .fetch_optional(&cc.db)
        .await?;
    let current = row.map(|row| {
        let locked = bool_column(&row, "locked").unwrap_or(false);
        (row.try_get::<Option<String>, _>("sha1").ok().flatten(), locked)
    });
    match &current {
        Some((installed, _)) if installed.as_deref() == Some(sha1.as_str()) => return Ok(()),
        Some((_, true)) => {
            tracing::warn!("buildpack {} is locked: version {} not installed", package.name, package.version());
            return Ok(());
        }
        _ => {}
    }
    let key = keys::buildpack(package.name, &sha1);
    cc.blobstore.put(&key, package.bits.to_vec().into()).await?;
    if current.is_some() {
        sqlx::query(
            "UPDATE buildpacks SET blob_key = $1, sha1 = $2, filename = $3, updated_at = $4 WHERE name = $5 AND locked = $6",
        )
        .bind(&key)
        .bind(&sha1)
        .bind(package.filename())
        .bind(now())
        .bind(package.name)
        .bind(false)
        .execute(&cc.db)
        .await?;
    } else {
        let inserted = sqlx::query(
            "INSERT INTO buildpacks (guid, name, stack, position, enabled, locked, filename, blob_key, sha1, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (name) DO NOTHING",
        )
        .bind(new_guid())
        .bind(package.name)
        .bind(STACK)
        .bind(position)
        .bind(true)
        .bind(false)
        .bind(package.filename())
        .bind(&key)
        .bind(&sha1)
        .bind(now())
        .execute(&cc.db)
        .await?;
        if inserted.rows_affected() == 1 {
            // A package new in this release goes where the release puts
            // it; the buildpacks from there on move down one.
            sqlx::query("UPDATE buildpacks SET position = position + 1 WHERE position >= $1 AND name <> $2")
                .bind(position)
                .bind(package.name)
                .execute(&cc.db)
                .await?;
        }
    }
    tracing::info!("installed buildpack {} version {} ({sha1})", package.name, package.version());
    Ok(())
}
