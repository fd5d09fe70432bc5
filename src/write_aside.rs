//! Files written whole: beside their place under a name of their own, then
//! renamed over it, so a reader never sees half of one and two writers never
//! mix their bytes.
//!
//! Windows refuses that rename where Unix would not: while another process
//! has the old file mapped (compiled code an instance runs from) or open
//! without `FILE_SHARE_DELETE`, and for a moment after a file is written
//! (virus scanners and indexers open new files). A file named by what it
//! holds — a droplet by its SHA1, compiled code by its source's hash — that
//! is there already is as good as ours, so [`content_addressed`] keeps it; a
//! file that must be replaced ([`replace`]) is tried again for a while.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Writes a file whose name says what it holds; one already there stays.
pub fn content_addressed(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let aside = write_beside(path, bytes)?;
    let renamed = std::fs::rename(&aside, path);
    if renamed.is_err() {
        let _ = std::fs::remove_file(&aside);
        if path.is_file() {
            return Ok(());
        }
    }
    renamed
}

/// Replaces a file with `bytes`, trying again while the OS refuses.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    const TRIES: u64 = 20;
    let aside = write_beside(path, bytes)?;
    let mut renamed = std::fs::rename(&aside, path);
    for waited in 1..TRIES {
        if renamed.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10 * waited));
        renamed = std::fs::rename(&aside, path);
    }
    if renamed.is_err() {
        let _ = std::fs::remove_file(&aside);
    }
    renamed
}

fn write_beside(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let aside = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    match std::fs::write(&aside, bytes) {
        Ok(()) => Ok(aside),
        Err(e) => {
            let _ = std::fs::remove_file(&aside);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn files_are_written_whole_and_nothing_is_left_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        replace(&path, b"one").unwrap();
        replace(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        content_addressed(&dir.path().join("ab12"), b"x").unwrap();
        content_addressed(&dir.path().join("ab12"), b"x").unwrap();
        assert_eq!(names(dir.path()), ["ab12", "state.json"]);
    }

    #[test]
    fn a_place_that_is_not_a_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let taken = dir.path().join("taken");
        std::fs::create_dir_all(taken.join("inside")).unwrap();
        assert!(content_addressed(&taken, b"x").is_err(), "a directory is not the file named");
        assert!(content_addressed(&dir.path().join("missing/dir/file"), b"x").is_err());
        assert_eq!(names(dir.path()), ["taken"], "nothing left beside");
    }
}
