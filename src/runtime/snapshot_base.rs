//! Serving a snapshot before it is compiled. A language runtime's snapshot
//! ([`super::preinit`]) is megabytes of code — the runtime's own — with the
//! app's state as data, and compiling it takes seconds even when every
//! function is in the cache: too long to wait for after a push. But the
//! DEA that took it has the code it was taken of compiled already (the
//! runtime, instrumented to be snapshotted). So the snapshot names that
//! component (by SHA1, in a custom section), and an instance of a
//! snapshot not compiled yet starts from it where it is at hand: each new
//! store then loads the app itself, calling `initialize` as staging did,
//! until the snapshot, compiled meanwhile, takes over for the stores that
//! follow. Elsewhere (a DEA that did not stage it) the snapshot is
//! compiled first, as any component.

use anyhow::Result;
use tokio::task::JoinHandle;
use wasmtime::component::Component;

use super::{Compiled, Runtime};
use crate::blobstore::sha1_hex;

/// The custom section naming the component a snapshot was taken of.
const SECTION: &str = "wasmfoundry-snapshot-of";

/// `snapshot` with a section naming `base`, the component it was taken of.
pub fn mark(mut snapshot: Vec<u8>, base: &[u8]) -> Vec<u8> {
    let mut contents = Vec::new();
    leb128(SECTION.len(), &mut contents);
    contents.extend_from_slice(SECTION.as_bytes());
    contents.extend_from_slice(sha1_hex(base).as_bytes());
    snapshot.push(0); // a custom section
    leb128(contents.len(), &mut snapshot);
    snapshot.extend_from_slice(&contents);
    snapshot
}

/// `value` in unsigned LEB128, as wasm encodes sizes.
pub(super) fn leb128(mut value: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The SHA1 of the component `wasm` is a snapshot of, if it says. Only
/// the outer component's sections are read: nested modules (the runtime's
/// megabytes of code) are stepped over, not parsed.
fn base_sha1(wasm: &[u8]) -> Option<String> {
    use wasmparser::{Chunk, Payload};
    let mut parser = wasmparser::Parser::new(0);
    let mut offset = 0;
    loop {
        let Chunk::Parsed { consumed, payload } = parser.parse(wasm.get(offset..)?, true).ok()? else {
            return None;
        };
        offset += consumed;
        match payload {
            // The outer parser has counted the nested binary already; its
            // bytes are only to be passed over.
            Payload::ModuleSection { unchecked_range, .. } | Payload::ComponentSection { unchecked_range, .. } => {
                offset = unchecked_range.end;
            }
            Payload::CustomSection(section) if section.name() == SECTION => {
                return String::from_utf8(section.data().to_vec()).ok();
            }
            Payload::End(_) => return None,
            _ => {}
        }
    }
}

/// A snapshot compiling, to take over from the base an instance started
/// with.
pub type Compiling = JoinHandle<Result<Component>>;

/// What an instance of the guest in `wasm` starts from.
pub enum Start {
    Compiled(Compiled),
    /// The component the snapshot was taken of; stores made from it load
    /// the app. The snapshot's compile runs meanwhile.
    Base {
        base: Component,
        snapshot: Compiling,
    },
}

/// The compiled guest in `wasm`, whose SHA1 is `sha1` (hashed once by
/// the caller: a snapshot is tens of megabytes); for a snapshot not
/// compiled yet whose base this runtime has, that base, with the snapshot
/// compiling.
pub async fn start(runtime: &Runtime, sha1: String, wasm: Vec<u8>) -> Result<Start> {
    let base = match base_sha1(&wasm) {
        Some(base_sha1) if !runtime.is_compiled(&sha1) => runtime.compiled_by_sha1(&base_sha1).await,
        _ => None,
    };
    if let Some(Compiled::Component(base)) = base {
        let runtime = runtime.clone();
        let snapshot = tokio::spawn(async move { runtime.compile_known(&sha1, &wasm).await?.into_component() });
        return Ok(Start::Base { base, snapshot });
    }
    runtime.compile_known(&sha1, &wasm).await.map(Start::Compiled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marked_component_names_its_base_and_stays_valid() {
        // An empty component: the preamble of a layer-1 binary.
        let component = b"\0asm\x0d\x00\x01\x00".to_vec();
        assert_eq!(base_sha1(&component), None);
        let marked = mark(component, b"the runtime");
        assert_eq!(base_sha1(&marked), Some(sha1_hex(b"the runtime")));
        Component::new(&wasmtime::Engine::default(), &marked).expect("a custom section is valid anywhere");
    }

    #[test]
    fn a_section_inside_a_nested_module_names_nothing() {
        // A core module that carries a section of the same name, nested in
        // a component: only the component's own sections count.
        let module = mark(b"\0asm\x01\x00\x00\x00".to_vec(), b"not this");
        let mut component = b"\0asm\x0d\x00\x01\x00".to_vec();
        component.push(1); // a core module section
        leb128(module.len(), &mut component);
        component.extend_from_slice(&module);
        assert_eq!(base_sha1(&component), None);
        assert_eq!(base_sha1(&mark(component, b"this")), Some(sha1_hex(b"this")));
    }
}
