//! Droplets and packages on the DEA's disk: unpacking an app package (a
//! zip, checked again here — the DEA trusts no blob), packing a staged app
//! into a droplet (tar.gz of `app/` and `staging_info.yml`) and unpacking
//! one for an instance; and the `staging_info.yml` a buildpack's release
//! produces.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

use crate::blobstore::package::{self, Limits};

pub const STAGING_INFO: &str = "staging_info.yml";

/// What staging learned, kept inside the droplet (CF's staging_info.yml).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StagingInfo {
    pub detected_buildpack: String,
    pub start_command: String,
    #[serde(default)]
    pub config_vars: Vec<(String, String)>,
}

/// Writes the files of a package zip under `dest`.
pub fn unpack_package(zip: &[u8], dest: &Path, limits: Limits) -> Result<()> {
    let files = package::read_zip(zip, limits).map_err(|e| anyhow!("invalid app package: {e}"))?;
    for file in files {
        let path = dest.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if file.symlink {
            make_symlink(&String::from_utf8_lossy(&file.contents), &path)?;
        } else {
            std::fs::write(&path, &file.contents).with_context(|| format!("writing {}", path.display()))?;
            set_mode(&path, file.mode)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn make_symlink(target: &str, path: &Path) -> Result<()> {
    Ok(std::os::unix::fs::symlink(target, path)?)
}

#[cfg(not(unix))]
fn make_symlink(target: &str, path: &Path) -> Result<()> {
    // Without unprivileged symlinks, a link becomes a copy of its target's
    // path as text, which is what git does too.
    Ok(std::fs::write(path, target)?)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o600))?)
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// A tar.gz of `dir`'s entries named in `entries` (e.g. `app`, `staging_info.yml`).
pub fn pack(dir: &Path, entries: &[&str]) -> Result<Vec<u8>> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(encoder);
    tar.follow_symlinks(false);
    for entry in entries {
        let path = dir.join(entry);
        if path.is_dir() {
            tar.append_dir_all(entry, &path)?;
        } else if path.exists() {
            tar.append_path_with_name(&path, entry)?;
        }
    }
    Ok(tar.into_inner()?.finish()?)
}

/// Unpacks a tar.gz under `dest`; entries cannot land outside it.
pub fn unpack(bytes: &[u8], dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    archive.set_preserve_permissions(true);
    archive.unpack(dest).with_context(|| format!("unpacking into {}", dest.display()))
}

pub fn read_staging_info(dir: &Path) -> Result<StagingInfo> {
    let text = std::fs::read_to_string(dir.join(STAGING_INFO)).context("the droplet has no staging_info.yml")?;
    serde_yaml::from_str(&text).context("the droplet's staging_info.yml is invalid")
}

pub fn write_staging_info(dir: &Path, info: &StagingInfo) -> Result<()> {
    Ok(std::fs::write(dir.join(STAGING_INFO), serde_yaml::to_string(info)?)?)
}
