//! Cranelift's incremental compilation cache on disk: each function's
//! machine code kept under the hash of its IR. Components that share most
//! of their code — a language runtime and every app's snapshot of it, which
//! differ only in their data — then compile in a fraction of the time: only
//! the functions never seen before go through Cranelift.

use std::borrow::Cow;
use std::path::PathBuf;

use crate::blobstore::sha1_hex;

#[derive(Debug)]
pub struct FunctionCache {
    dir: PathBuf,
}

impl FunctionCache {
    pub fn new(dir: PathBuf) -> std::io::Result<FunctionCache> {
        std::fs::create_dir_all(&dir)?;
        Ok(FunctionCache { dir })
    }

    fn path(&self, key: &[u8]) -> PathBuf {
        let name = sha1_hex(key);
        self.dir.join(&name[..2]).join(&name[2..])
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        std::fs::read(self.path(key)).ok().map(Cow::Owned)
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let path = self.path(key);
        let Some(dir) = path.parent() else { return false };
        // Written aside and renamed: a reader never sees half an entry.
        let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = std::fs::create_dir_all(dir).is_ok() && std::fs::write(&tmp, value).is_ok();
        if written && std::fs::rename(&tmp, &path).is_ok() {
            return true;
        }
        let _ = std::fs::remove_file(&tmp);
        false
    }
}
