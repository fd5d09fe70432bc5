//! Caches of files named by what they hold (a droplet by its SHA1,
//! compiled code by its source's SHA1 and the engine), kept within a size
//! as Diego's executor keeps its download cache: past the budget, the files
//! used least recently go first, and never one still in use. A use is
//! marked by [`touch`] (the file's modification time), so the order
//! survives a restart and needs no index beside the files.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Marks the cached file at `path` used now. Best effort: a file that
/// cannot be touched is only older in the order than it should be.
pub fn touch(path: &Path) {
    let _ = std::fs::File::options().write(true).open(path).and_then(|file| file.set_modified(SystemTime::now()));
}

/// What a [`trim`] removed and what it left.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// The names of the files removed.
    pub removed: Vec<String>,
    pub removed_bytes: u64,
    pub kept_bytes: u64,
}

/// Removes the least recently used files under `dirs` (at any depth)
/// until they hold at most `budget` bytes, sparing every file whose name
/// `in_use` says is in use. Files being written (named `.…`, see
/// [`crate::write_aside`]) are neither counted nor removed; a file that
/// cannot be removed (Windows refuses while it is mapped) is kept.
pub fn trim(dirs: &[PathBuf], budget: u64, in_use: impl Fn(&str) -> bool) -> io::Result<Trimmed> {
    let mut files = Vec::new();
    for dir in dirs {
        list(dir, &mut files)?;
    }
    let mut trimmed = Trimmed { kept_bytes: files.iter().map(|f| f.bytes).sum(), ..Trimmed::default() };
    files.sort_by_key(|file| file.used);
    for file in files {
        if trimmed.kept_bytes <= budget {
            break;
        }
        let name = file.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if in_use(&name) || std::fs::remove_file(&file.path).is_err() {
            continue;
        }
        trimmed.kept_bytes -= file.bytes;
        trimmed.removed_bytes += file.bytes;
        trimmed.removed.push(name);
    }
    Ok(trimmed)
}

struct CachedFile {
    path: PathBuf,
    bytes: u64,
    used: SystemTime,
}

/// The cached files under `dir`; none when it is not there.
fn list(dir: &Path, files: &mut Vec<CachedFile>) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // Gone since it was listed (another trim, a rename): skipped.
        let Ok(metadata) = entry.metadata() else { continue };
        if metadata.is_dir() {
            list(&entry.path(), files)?;
        } else if metadata.is_file() {
            files.push(CachedFile {
                path: entry.path(),
                bytes: metadata.len(),
                used: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A file of `bytes` bytes last used `age` seconds ago.
    fn cached(dir: &Path, name: &str, bytes: usize, age: u64) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![0u8; bytes]).unwrap();
        let used = SystemTime::now() - Duration::from_secs(age);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(used).unwrap();
    }

    #[test]
    fn the_least_recently_used_go_first_and_what_is_in_use_stays() {
        let dir = tempfile::tempdir().unwrap();
        let (droplets, compiled) = (dir.path().join("droplets"), dir.path().join("compiled"));
        cached(&droplets, "oldest.tgz", 100, 500);
        cached(&droplets, "running.tgz", 100, 400);
        cached(&compiled, "functions/ab/older", 100, 300);
        cached(&compiled, "newer.cwasm", 100, 200);
        cached(&compiled, "newest.cwasm", 100, 100);
        cached(&compiled, ".being-written.tmp", 1000, 1000);

        let trimmed = trim(&[droplets.clone(), compiled.clone()], 250, |name| name == "running.tgz").unwrap();
        assert_eq!(trimmed.removed, ["oldest.tgz", "older", "newer.cwasm"]);
        assert_eq!((trimmed.removed_bytes, trimmed.kept_bytes), (300, 200));
        assert!(droplets.join("running.tgz").is_file());
        assert!(compiled.join("newest.cwasm").is_file());
        assert!(compiled.join(".being-written.tmp").is_file());

        // Within the budget nothing goes; a touched file is the newest.
        touch(&droplets.join("running.tgz"));
        assert_eq!(trim(&[droplets.clone(), compiled.clone()], 200, |_| false).unwrap().removed, Vec::<String>::new());
        let trimmed = trim(&[droplets, compiled, dir.path().join("absent")], 100, |_| false).unwrap();
        assert_eq!(trimmed.removed, ["newest.cwasm"]);
    }
}
