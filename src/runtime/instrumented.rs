//! Runtimes instrumented for snapshots, kept. Before wizer can snapshot a
//! component ([`super::preinit`]) it instruments it: validates it whole,
//! parses it and writes it again with functions that read its state —
//! 0.2–0.3 s for the Python runtime, on every staging. A DEA stages many
//! apps on few runtimes, and the result depends only on the runtime's
//! bytes, so the last few are kept in memory by their SHA1.

use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow};
use wasmtime_wizer::{ComponentContext, Wizer};

use crate::blobstore::sha1_hex;

/// Runtimes kept (the built-in JavaScript and Python ones, and a few
/// more); the least recently used goes first.
const KEPT: usize = 4;

/// A runtime instrumented for snapshots: wizer's view of it, which
/// snapshotting needs, and the instrumented component.
pub struct Instrumented {
    // Borrows the heap bytes of `_wasm`, which never move or change while
    // this is alive: declared first, so it is dropped before them.
    context: ComponentContext<'static>,
    pub bytes: Vec<u8>,
    /// Of `bytes`, which compiled code is cached by: hashed once here,
    /// not on every staging.
    pub sha1: String,
    _wasm: Box<[u8]>,
}

impl Instrumented {
    fn new(wizer: &Wizer, wasm: &[u8]) -> Result<Instrumented> {
        let wasm: Box<[u8]> = wasm.into();
        let (context, bytes) =
            std::panic::catch_unwind(|| wizer.instrument_component(&wasm)).map_err(|panic| wizer_failed(&*panic))??;
        // SAFETY: `context` borrows only the allocation `wasm` owns, which
        // moves into the same struct unchanged, is never handed out mutably
        // and is dropped after `context` (field order).
        let context = unsafe { std::mem::transmute::<ComponentContext<'_>, ComponentContext<'static>>(context) };
        Ok(Instrumented { context, sha1: sha1_hex(&bytes), bytes, _wasm: wasm })
    }

    pub fn context(&self) -> &ComponentContext<'_> {
        &self.context
    }
}

/// The runtime `wasm` instrumented by `wizer` (always configured the same
/// way by its one caller), from memory if it was before.
pub fn instrument(wizer: &Wizer, wasm: &[u8]) -> Result<Arc<Instrumented>> {
    static KEPT_RUNTIMES: Mutex<Vec<(String, Arc<Instrumented>)>> = Mutex::new(Vec::new());
    let sha1 = sha1_hex(wasm);
    let mut kept = KEPT_RUNTIMES.lock().expect("instrumented runtimes");
    if let Some(at) = kept.iter().position(|(key, _)| *key == sha1) {
        let entry = kept.remove(at);
        let instrumented = entry.1.clone();
        kept.push(entry);
        return Ok(instrumented);
    }
    drop(kept);
    let instrumented = Arc::new(Instrumented::new(wizer, wasm)?);
    let mut kept = KEPT_RUNTIMES.lock().expect("instrumented runtimes");
    kept.push((sha1, instrumented.clone()));
    if kept.len() > KEPT {
        kept.remove(0);
    }
    Ok(instrumented)
}

/// What wizer said as it panicked (on a component shape it does not expect).
pub(super) fn wizer_failed(panic: &(dyn std::any::Any + Send)) -> anyhow::Error {
    let said = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
    anyhow!("wizer failed: {}", said.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::snapshot_base::leb128;

    #[test]
    fn a_runtime_is_instrumented_once_and_kept() {
        // A component with one core module holding a memory and a global:
        // what wizer instruments.
        let module = wasm_module();
        let mut component = b"\0asm\x0d\x00\x01\x00".to_vec();
        component.push(1); // a core module section
        leb128(module.len(), &mut component);
        component.extend_from_slice(&module);
        let wizer = Wizer::new();
        let first = instrument(&wizer, &component).unwrap();
        assert!(first.bytes.len() > component.len(), "accessors were added");
        let again = instrument(&wizer, &component).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the second staging finds it kept");
    }

    /// `(module (memory 1) (global (mut i32) (i32.const 0)))`, encoded.
    fn wasm_module() -> Vec<u8> {
        let mut module = b"\0asm\x01\x00\x00\x00".to_vec();
        module.extend_from_slice(&[5, 3, 1, 0, 1]); // memory section: one memory, min 1
        module.extend_from_slice(&[6, 6, 1, 0x7f, 1, 0x41, 0, 0x0b]); // global section
        module
    }
}
