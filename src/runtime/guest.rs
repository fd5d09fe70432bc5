//! What every guest store holds: its WASI context ([`Wasi`]: for
//! components, or wasmtime-wasi's preview 1 context for core modules),
//! wasi:http context and resource table, the [`GuestLimits`] it runs under and
//! what it holds of them, and — once the runtime stopped it — why
//! ([`Ending`]).
//! [`LogStream`] hands a guest's stdout/stderr to a callback line by line.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use wasmtime::component::{ResourceTable, ResourceTableError};
use wasmtime::{ResourceLimiter, StoreContextMut, UpdateDeadline};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::cpu::Watch;
use super::ending::Ending;
use super::limits::GuestLimits;
use super::network::CheckedRequests;

/// A guest's WASI context, by the kind of guest.
pub enum Wasi {
    /// For a component (WASI 0.2 and 0.3), beside the store's table.
    Component(WasiCtx),
    /// For a preview 1 core module, with the table of its own that
    /// wasmtime-wasi's preview 1 keeps its descriptors in.
    Module(WasiP1Ctx),
}

pub struct GuestState {
    pub wasi: Wasi,
    pub http: WasiHttpCtx,
    /// Outgoing wasi:http requests, held to the guest's network rules.
    outgoing: CheckedRequests,
    pub table: ResourceTable,
    pub limits: GuestLimits,
    pub watch: Watch,
    /// Bytes of the memory budget this store holds.
    memory_held: u64,
    /// Whether the guest asked for more memory than its budget had.
    memory_refused: bool,
    /// Set when the runtime stopped the guest.
    stopped: Option<Ending>,
}

/// Table elements allowed per store (function references; not memory).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl GuestState {
    pub fn new(mut wasi: Wasi, limits: GuestLimits, deadline: Option<Instant>) -> GuestState {
        let mut table = ResourceTable::new();
        table.set_max_capacity(limits.max_handles);
        if let Wasi::Module(p1) = &mut wasi {
            p1.ctx().table.set_max_capacity(limits.max_handles);
        }
        GuestState {
            wasi,
            http: WasiHttpCtx::new(),
            outgoing: CheckedRequests { check: limits.network.clone() },
            table,
            limits,
            watch: Watch::until(deadline),
            memory_held: 0,
            memory_refused: false,
            stopped: None,
        }
    }

    /// The preview 1 context of a core module's store.
    pub fn preview1(&mut self) -> &mut WasiP1Ctx {
        match &mut self.wasi {
            Wasi::Module(p1) => p1,
            Wasi::Component(_) => {
                unreachable!("preview 1 is linked only for core modules, whose store has its context")
            }
        }
    }

    /// Readies a store that served a request for the next one, which must
    /// end by `deadline`.
    pub fn rearm(&mut self, deadline: Instant) {
        self.watch = Watch::until(Some(deadline));
    }

    /// Whether the store ended its last call as good as new: not stopped
    /// by the runtime and never refused memory.
    pub fn is_reusable(&self) -> bool {
        self.stopped.is_none() && !self.memory_refused
    }

    /// The epoch callback of every guest store: yield, or stop the guest
    /// (see [`super::cpu`]).
    pub fn on_tick(mut store: StoreContextMut<'_, GuestState>) -> wasmtime::Result<UpdateDeadline> {
        let state = store.data_mut();
        match state.watch.tick(&state.limits.cpu, state.limits.max_busy) {
            Ok(()) => Ok(UpdateDeadline::Yield(1)),
            Err(ending) => Err(state.stop(ending)),
        }
    }

    /// Records that the runtime stops the guest, and the trap that does it.
    pub fn stop(&mut self, ending: Ending) -> wasmtime::Error {
        let error = wasmtime::Error::msg(ending.to_string());
        self.stopped = Some(ending);
        error
    }

    /// Why the guest failed with `error`.
    pub fn ending(&self, error: &wasmtime::Error) -> Ending {
        if let Some(ending) = &self.stopped {
            return ending.clone();
        }
        if self.memory_refused {
            return Ending::OutOfMemory { limit_mb: self.limits.memory.limit_mb() };
        }
        if matches!(error.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full)) {
            return Ending::TooManyHandles { max: self.limits.max_handles };
        }
        // The trap and its causes, without the wasm backtrace (one line).
        let causes: Vec<String> = error
            .chain()
            .map(ToString::to_string)
            .filter(|cause| !cause.starts_with("error while executing at wasm backtrace"))
            .collect();
        Ending::Trap(causes.join(": "))
    }
}

impl Drop for GuestState {
    fn drop(&mut self) {
        self.limits.memory.give_back(self.memory_held);
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        match &mut self.wasi {
            Wasi::Component(ctx) => WasiCtxView { ctx, table: &mut self.table },
            Wasi::Module(p1) => p1.ctx(),
        }
    }
}

impl WasiHttpView for GuestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outgoing }
    }
}

impl ResourceLimiter for GuestState {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current) as u64;
        if !self.limits.memory.take(growth) {
            self.memory_refused = true;
            return Ok(false);
        }
        self.memory_held += growth;
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
