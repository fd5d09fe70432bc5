//! The imports a component gets: WASI 0.2 and 0.3 with their wasi:http
//! (outgoing requests held to the guest's network rules by
//! [`super::network::CheckedRequests`]), with the
//! file writes (`descriptor.write`, and the streams of
//! `write-via-stream`/`append-via-stream`) replaced by versions that check
//! the guest's disk quota first (past it they fail with `quota`, EDQUOT)
//! and then do what wasmtime-wasi does.
//!
//! The replaced functions are named with the WASI version wasmtime-wasi
//! implements; guests importing any older 0.2 version link to them too.

use std::sync::Arc;

use anyhow::Result;
use bytes::Bytes;
use wasmtime::Engine;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::{ErrorCode, HostDescriptor};
use wasmtime_wasi::p2::{DynOutputStream, FsResult, OutputStream, Pollable, StreamError, StreamResult};

use super::Compiled;
use super::guest::GuestState;
use super::limits::Disk;

const WASI_FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// The linker for component guests of `engine`.
pub fn linker(engine: &Engine) -> Result<Linker<GuestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    linker.allow_shadowing(true);
    check_file_writes(&mut linker)?;
    linker.allow_shadowing(false);
    Ok(linker)
}

/// Whether every file write of `program` goes through the WASI 0.2 calls
/// this linker checks: a component that imports no WASI 0.3 filesystem.
pub fn file_writes_checked(program: &Compiled, engine: &Engine) -> bool {
    match program {
        Compiled::Module(_) => false,
        Compiled::Component(component) => {
            !component.component_type().imports(engine).any(|(name, _)| name.starts_with("wasi:filesystem/types@0.3"))
        }
    }
}

type Filesize = u64;

fn check_file_writes(linker: &mut Linker<GuestState>) -> Result<()> {
    let mut types = linker.instance(WASI_FILESYSTEM_TYPES)?;
    types.func_wrap_async(
        "[method]descriptor.write",
        |mut store, (fd, buffer, offset): (Resource<Descriptor>, Vec<u8>, Filesize)| {
            Box::new(async move {
                if let Some(disk) = &store.data().limits.disk
                    && !disk.write(buffer.len() as u64)
                {
                    return Ok((Err(ErrorCode::Quota),));
                }
                let written = HostDescriptor::write(&mut store.data_mut().filesystem(), fd, buffer, offset).await;
                Ok((error_code(written)?,))
            })
        },
    )?;
    types.func_wrap(
        "[method]descriptor.write-via-stream",
        |mut store, (fd, offset): (Resource<Descriptor>, Filesize)| {
            let state = store.data_mut();
            let stream = HostDescriptor::write_via_stream(&mut state.filesystem(), fd, offset);
            Ok((within_quota(state, error_code(stream)?)?,))
        },
    )?;
    types.func_wrap("[method]descriptor.append-via-stream", |mut store, (fd,): (Resource<Descriptor>,)| {
        let state = store.data_mut();
        let stream = HostDescriptor::append_via_stream(&mut state.filesystem(), fd);
        Ok((within_quota(state, error_code(stream)?)?,))
    })?;
    Ok(())
}

/// A filesystem result as the guest sees it: its error code, or a trap.
fn error_code<T>(result: FsResult<T>) -> wasmtime::Result<Result<T, ErrorCode>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(error) => Ok(Err(error.downcast()?)),
    }
}

/// Swaps a new file stream for one that checks the disk quota.
fn within_quota(
    state: &mut GuestState,
    stream: Result<Resource<DynOutputStream>, ErrorCode>,
) -> wasmtime::Result<Result<Resource<DynOutputStream>, ErrorCode>> {
    let (Ok(stream), Some(disk)) = (&stream, &state.limits.disk) else { return Ok(stream) };
    let disk = disk.clone();
    let inner = state.table.delete(Resource::<DynOutputStream>::new_own(stream.rep()))?;
    let checked: DynOutputStream = Box::new(QuotaStream { inner, disk });
    Ok(Ok(state.table.push(checked)?))
}

/// A file output stream whose writes count against a disk quota.
struct QuotaStream {
    inner: DynOutputStream,
    disk: Arc<Disk>,
}

impl QuotaStream {
    fn reserve(&self, bytes: usize) -> StreamResult<()> {
        if self.disk.write(bytes as u64) {
            return Ok(());
        }
        let error = std::io::Error::new(
            std::io::ErrorKind::QuotaExceeded,
            format!("disk quota of {} MB exceeded", self.disk.limit_mb()),
        );
        Err(StreamError::LastOperationFailed(error.into()))
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for QuotaStream {
    async fn ready(&mut self) {
        self.inner.ready().await
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for QuotaStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.reserve(bytes.len())?;
        self.inner.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.inner.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.inner.check_write()
    }

    fn write_zeroes(&mut self, count: usize) -> StreamResult<()> {
        self.reserve(count)?;
        self.inner.write_zeroes(count)
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}
