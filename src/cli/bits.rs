//! The app directory as the cf CLI uploads it: every file fingerprinted by
//! SHA1 for `resource_match`, the ones the CC lacks zipped, links zipped as
//! links (the CC refuses one that leaves the app). Ignored like
//! `cf push` ignores them: `.cfignore` patterns plus `.git`, `.hg`, `.svn`,
//! `_darcs`, `.DS_Store`, `.cfignore` and `manifest.yml`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::blobstore::sha1_hex;

const ALWAYS_IGNORED: [&str; 7] = [".git", ".hg", ".svn", "_darcs", ".DS_Store", ".cfignore", "manifest.yml"];

pub struct AppFile {
    /// Relative, `/`-separated.
    pub name: String,
    pub path: PathBuf,
    pub sha1: String,
    pub size: u64,
    pub mode: u32,
    /// For a symbolic link, its target, `/`-separated; its SHA1 and size
    /// are the target's text's.
    pub link: Option<String>,
}

impl AppFile {
    /// What `resource_match` is asked about; a link is always uploaded.
    pub fn fingerprint(&self) -> Option<Value> {
        self.link
            .is_none()
            .then(|| json!({"fn": self.name, "sha1": self.sha1, "size": self.size, "mode": format!("{:o}", self.mode)}))
    }
}

/// A `.cfignore` line matched against a relative path: `dir/`, `*.ext`,
/// `name` (anywhere) or `/rooted`.
fn ignored(name: &str, patterns: &[String]) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    name.split('/').any(|part| ALWAYS_IGNORED.contains(&part))
        || patterns.iter().any(|p| {
            let p = p.trim_end_matches('/');
            if let Some(rooted) = p.strip_prefix('/') {
                name == rooted || name.starts_with(&format!("{rooted}/"))
            } else if let Some(ext) = p.strip_prefix('*') {
                base.ends_with(ext)
            } else {
                name.split('/').any(|part| part == p)
            }
        })
}

pub fn collect(dir: &Path) -> Result<Vec<AppFile>> {
    let patterns: Vec<String> = std::fs::read_to_string(dir.join(".cfignore"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let mut files = Vec::new();
    walk(dir, dir, &patterns, &mut files)?;
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

fn walk(root: &Path, dir: &Path, patterns: &[String], files: &mut Vec<AppFile>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = path.strip_prefix(root)?.to_string_lossy().replace('\\', "/");
        if ignored(&name, patterns) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, patterns, files)?;
        } else if kind.is_file() {
            let contents = std::fs::read(&path)?;
            files.push(AppFile {
                sha1: sha1_hex(&contents),
                size: contents.len() as u64,
                mode: mode(&entry.metadata()?),
                name,
                path,
                link: None,
            });
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&path)?.to_string_lossy().replace('\\', "/");
            files.push(AppFile {
                sha1: sha1_hex(target.as_bytes()),
                size: target.len() as u64,
                mode: 0o777,
                name,
                path,
                link: Some(target),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn mode(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode(_metadata: &std::fs::Metadata) -> u32 {
    0o644
}

/// A zip of these files.
pub fn zip(files: &[&AppFile]) -> Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for file in files {
        let options = zip::write::SimpleFileOptions::default().unix_permissions(file.mode);
        if let Some(target) = &file.link {
            writer.add_symlink(file.name.as_str(), target.as_str(), options)?;
            continue;
        }
        writer.start_file(file.name.as_str(), options)?;
        writer.write_all(&std::fs::read(&file.path)?)?;
    }
    Ok(writer.finish()?.into_inner())
}
