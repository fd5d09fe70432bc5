//! Cranelift's incremental compilation cache on disk: each function's
//! machine code kept under the hash of its IR. Components that share most
//! of their code — a language runtime and every app's snapshot of it, which
//! differ only in their data — then compile in a fraction of the time: only
//! the functions never seen before go through Cranelift.

use std::borrow::Cow;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::blobstore::sha1_hex;

#[derive(Debug)]
pub struct FunctionCache {
    dir: PathBuf,
    counts: Arc<Counts>,
}

/// How many functions were found in the cache and how many compiled, for
/// the compile log line (counted per process: compiles at the same time
/// add to one another's figures).
#[derive(Debug, Default)]
pub struct Counts {
    pub found: AtomicU64,
    pub compiled: AtomicU64,
    pub compiled_bytes: AtomicU64,
}

impl Counts {
    /// (found, compiled, bytes of machine code compiled) so far.
    pub fn read(&self) -> (u64, u64, u64) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        (load(&self.found), load(&self.compiled), load(&self.compiled_bytes))
    }
}

impl FunctionCache {
    pub fn new(dir: PathBuf) -> std::io::Result<FunctionCache> {
        std::fs::create_dir_all(&dir)?;
        Ok(FunctionCache { dir, counts: Arc::default() })
    }

    pub fn counts(&self) -> Arc<Counts> {
        self.counts.clone()
    }

    fn path(&self, key: &[u8]) -> PathBuf {
        let name = sha1_hex(key);
        self.dir.join(&name[..2]).join(&name[2..])
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        // Opened writable to mark the use on the same handle (a compile
        // gets tens of thousands of functions): the cache's order
        // ([`crate::file_cache`]) is by last use.
        let mut file = std::fs::File::options().read(true).write(true).open(self.path(key)).ok()?;
        let mut found = Vec::new();
        file.read_to_end(&mut found).ok()?;
        let _ = file.set_modified(std::time::SystemTime::now());
        self.counts.found.fetch_add(1, Ordering::Relaxed);
        Some(Cow::Owned(found))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        self.counts.compiled.fetch_add(1, Ordering::Relaxed);
        self.counts.compiled_bytes.fetch_add(value.len() as u64, Ordering::Relaxed);
        let path = self.path(key);
        let Some(dir) = path.parent() else { return false };
        std::fs::create_dir_all(dir).is_ok() && crate::write_aside::content_addressed(&path, &value).is_ok()
    }
}
