//! Droplets and packages on the DEA's disk: unpacking an app package (a
//! zip, checked again here — the DEA trusts no blob), packing a staged app
//! into a droplet (tar.gz of `app/` and `staging_info.yml`) and unpacking
//! one for an instance; and the `staging_info.yml` a buildpack's release
//! produces.

use std::path::Path;

use anyhow::{Context, Result, anyhow};

use super::links::{self, Link};
use crate::blobstore::package::{self, UnpackLimits};

pub use crate::protocol::droplet::{STAGING_INFO, StagingInfo};

/// How many bytes an app may unpack to, copies of its links included.
pub const MAX_APP_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Writes the files of a package zip under `dest`, its links last.
pub fn unpack_package(zip: &[u8], dest: &Path, limits: UnpackLimits) -> Result<()> {
    let files = package::read_zip(zip, limits).map_err(|e| anyhow!("invalid app package: {e}"))?;
    let mut links = Vec::new();
    for file in files {
        if file.symlink {
            links.push(Link { path: file.path, target: String::from_utf8_lossy(&file.contents).into_owned() });
            continue;
        }
        let path = dest.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &file.contents).with_context(|| format!("writing {}", path.display()))?;
        set_mode(&path, file.mode)?;
    }
    links::create(dest, &links, limits.max_total_bytes)
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

/// A tar.gz of `dir`'s entries named in `entries` (e.g. `app`,
/// `staging_info.yml`), reproducible: the same files give the same bytes
/// (names in order, fixed times and owners), so a droplet staged again from
/// the same package has the same SHA1 and every cache keyed by it hits.
///
/// Compressed at gzip's fastest level: packing is on the way from push to
/// running app, and a language runtime's snapshot is megabytes.
pub fn pack(dir: &Path, entries: &[&str]) -> Result<Vec<u8>> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(encoder);
    tar.mode(tar::HeaderMode::Deterministic);
    tar.follow_symlinks(false);
    for entry in entries {
        let path = dir.join(entry);
        if path.symlink_metadata().is_ok() {
            append_in_order(&mut tar, &path, Path::new(entry))?;
        }
    }
    Ok(tar.into_inner()?.finish()?)
}

/// Appends `path` as `name`, a directory's entries sorted by name.
fn append_in_order<W: std::io::Write>(tar: &mut tar::Builder<W>, path: &Path, name: &Path) -> Result<()> {
    if !path.symlink_metadata()?.is_dir() {
        tar.append_path_with_name(path, name)?;
        return Ok(());
    }
    tar.append_dir(name, path)?;
    let mut children = std::fs::read_dir(path)?.collect::<std::io::Result<Vec<_>>>()?;
    children.sort_by_key(|child| child.file_name());
    for child in children {
        append_in_order(tar, &child.path(), &name.join(child.file_name()))?;
    }
    Ok(())
}

/// Unpacks a tar.gz under `dest`; entries cannot land outside it. As
/// `tar` does, directories come last (a read-only one would refuse its
/// files), and links after them.
pub fn unpack(bytes: &[u8], dest: &Path) -> Result<()> {
    let unpacking = || format!("unpacking into {}", dest.display());
    std::fs::create_dir_all(dest)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let (mut directories, mut links) = (Vec::new(), Vec::new());
    for entry in archive.entries().with_context(unpacking)? {
        let mut entry = entry.with_context(unpacking)?;
        entry.set_preserve_permissions(true);
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            directories.push(entry);
        } else if kind.is_symlink() {
            let path = package::safe_path(&entry.path()?.to_string_lossy()).map_err(|e| anyhow!(e));
            let target = entry.link_name()?.ok_or_else(|| anyhow!("a link without a target"));
            let (path, target) = (path.with_context(unpacking)?, target.with_context(unpacking)?);
            links.push(Link { path, target: target.to_string_lossy().into_owned() });
        } else {
            entry.unpack_in(dest).with_context(unpacking)?;
        }
    }
    directories.sort_by(|a, b| b.path_bytes().cmp(&a.path_bytes()));
    for mut directory in directories {
        directory.unpack_in(dest).with_context(unpacking)?;
    }
    links::create(dest, &links, MAX_APP_BYTES).with_context(unpacking)
}

pub fn read_staging_info(dir: &Path) -> Result<StagingInfo> {
    let text = std::fs::read_to_string(dir.join(STAGING_INFO)).context("the droplet has no staging_info.yml")?;
    serde_yaml::from_str(&text).context("the droplet's staging_info.yml is invalid")
}

pub fn write_staging_info(dir: &Path, info: &StagingInfo) -> Result<()> {
    Ok(std::fs::write(dir.join(STAGING_INFO), serde_yaml::to_string(info)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_files_pack_to_the_same_bytes() {
        let pack_files = |order: &[&str], mtime: u64| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("app/sub")).unwrap();
            for name in order {
                let path = dir.path().join("app").join(name);
                std::fs::write(&path, format!("contents of {name}")).unwrap();
                let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
                std::fs::File::options().write(true).open(&path).unwrap().set_modified(time).unwrap();
            }
            std::fs::write(dir.path().join(STAGING_INFO), "detected_buildpack: wasm\n").unwrap();
            pack(dir.path(), &["app", STAGING_INFO]).unwrap()
        };
        let first = pack_files(&["a.wasm", "sub/b.txt", "c.txt"], 1_000_000);
        let again = pack_files(&["c.txt", "sub/b.txt", "a.wasm"], 2_000_000);
        assert_eq!(first, again, "written in another order at another time, packed the same");
        assert_ne!(first, pack_files(&["a.wasm", "sub/b.txt"], 1_000_000));
    }
}
