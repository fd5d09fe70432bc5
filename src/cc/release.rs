//! The built-in buildpacks as cf-release shipped buildpacks: release
//! packages, each a name, a version (its crate's) and bits known by SHA1.
//! Every CC installs them at start, idempotently — the same SHA1 does
//! nothing; a new version replaces the bits of the admin buildpack of that
//! name, keeping the position and enabled flag an admin chose, and leaving
//! a locked buildpack alone (CF's `locked`: its bits do not change). Many
//! CCs starting at once install each package once.

use anyhow::Result;

use super::Cc;
use super::model::buildpack::{self, Released};
use crate::blobstore::{keys, sha1_hex};

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
    let current = buildpack::installed(&cc.db, package.name).await.map_err(|e| anyhow::anyhow!("{}", e.description))?;
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
    let filename = package.filename();
    let released = Released { name: package.name, filename: &filename, blob_key: &key, sha1: &sha1 };
    let installed = match current {
        Some(_) => buildpack::replace_released(&cc.db, &released).await,
        // A package new in this release goes where the release puts it.
        None => buildpack::insert_released(&cc.db, &released, position).await,
    };
    installed.map_err(|e| anyhow::anyhow!("installing buildpack {}: {}", package.name, e.description))?;
    tracing::info!("installed buildpack {} version {} ({sha1})", package.name, package.version());
    Ok(())
}
