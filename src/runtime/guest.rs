//! What every guest store holds: its WASI context, wasi:http context and
//! resource table, and the [`Quota`] that enforces its memory limit and
//! remembers whether the guest ran into it (so a crash can say why).
//! [`LogStream`] hands a guest's stdout/stderr to a callback line by line.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

pub struct GuestState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub quota: Quota,
}

impl GuestState {
    pub fn new(wasi: WasiCtx, quota: Quota) -> GuestState {
        GuestState { wasi, http: WasiHttpCtx::new(), table: ResourceTable::new(), quota }
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for GuestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: Default::default() }
    }
}

/// The memory quota of one store: all its linear memories together stay
/// under `limit_bytes`. Growth past it fails (the guest's allocator sees
/// out-of-memory and, for most languages, traps). What the store holds is
/// also added to a `shared` counter, if given, for as long as it lives —
/// an instance's memory in use across its concurrent requests.
pub struct Quota {
    limit_bytes: u64,
    used_bytes: u64,
    /// Set once the guest asked for more than its quota.
    pub exceeded: bool,
    shared: Option<Arc<AtomicU64>>,
}

/// Table elements allowed per store (function references; not memory).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl Quota {
    pub fn new(limit_bytes: u64) -> Quota {
        Quota { limit_bytes, used_bytes: 0, exceeded: false, shared: None }
    }

    /// Also counts this store's memory in `shared`.
    pub fn counted_in(mut self, shared: Arc<AtomicU64>) -> Quota {
        self.shared = Some(shared);
        self
    }

    pub fn limit_mb(&self) -> u64 {
        self.limit_bytes / (1024 * 1024)
    }
}

impl Drop for Quota {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.fetch_sub(self.used_bytes, Ordering::Relaxed);
        }
    }
}

impl ResourceLimiter for Quota {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current) as u64;
        if self.used_bytes + growth > self.limit_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        self.used_bytes += growth;
        if let Some(shared) = &self.shared {
            shared.fetch_add(growth, Ordering::Relaxed);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Longest line kept whole; longer output is cut into lines of this size.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// A guest output stream that calls `sink` with every complete line (and
/// with what is left when the stream is dropped).
#[derive(Clone)]
pub struct LogStream {
    sink: Arc<dyn Fn(String) + Send + Sync>,
    pending: Arc<Mutex<Vec<u8>>>,
}

impl LogStream {
    pub fn new(sink: impl Fn(String) + Send + Sync + 'static) -> LogStream {
        LogStream { sink: Arc::new(sink), pending: Arc::default() }
    }

    fn write(&self, bytes: &[u8]) {
        let mut pending = self.pending.lock().expect("log stream");
        pending.extend_from_slice(bytes);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            (self.sink)(String::from_utf8_lossy(&line[..line.len() - 1]).trim_end_matches('\r').to_string());
        }
        // A guest that never writes a newline still gets its output shown.
        if pending.len() > MAX_LINE_BYTES {
            let line: Vec<u8> = std::mem::take(&mut *pending);
            (self.sink)(String::from_utf8_lossy(&line).into_owned());
        }
    }

    /// Writes one whole line of the host's own (e.g. a staging progress line).
    pub fn line(&self, text: impl Into<String>) {
        (self.sink)(text.into());
    }

    /// Emits a last line without a newline, if any.
    pub fn flush(&self) {
        let mut pending = self.pending.lock().expect("log stream");
        if !pending.is_empty() {
            let line = String::from_utf8_lossy(&pending).into_owned();
            pending.clear();
            (self.sink)(line);
        }
    }
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for LogStream {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.write(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_refuses_growth_past_it_and_counts_what_is_held() {
        let shared = Arc::new(AtomicU64::new(0));
        let mut quota = Quota::new(2 << 20).counted_in(shared.clone());
        assert!(quota.memory_growing(0, 1 << 20, None).unwrap());
        assert!(quota.memory_growing(1 << 20, 2 << 20, None).unwrap());
        assert_eq!(shared.load(Ordering::Relaxed), 2 << 20);
        assert!(!quota.memory_growing(2 << 20, 3 << 20, None).unwrap(), "past the quota");
        assert!(quota.exceeded);
        drop(quota);
        assert_eq!(shared.load(Ordering::Relaxed), 0, "a dropped store holds nothing");
    }
}
