//! CPU: how much a guest uses, and when it is cut off.
//!
//! Wasm runs inside the `poll` of the future that calls it, so the time
//! spent in those polls ([`metered`]) is the guest's CPU time — what the
//! DEA reports as `usage.cpu`. Every store's epoch deadline is one tick
//! ([`super::EPOCH_TICK`]) ahead; at each tick [`on_tick`] either yields to
//! the async runtime (so a guest in a loop never holds a DEA thread) or
//! stops the guest: past its wall-clock deadline (a request, a staging
//! task, `wf wasm run --timeout`), or — for long-running programs — after
//! [`super::limits::Limits::max_busy`] of CPU without once waiting on I/O
//! or a clock (`wasi:io/poll`, counted by [`super::linker`]): stuck.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::{StoreContextMut, UpdateDeadline};

use super::guest::GuestState;
use super::limits::Ending;

/// CPU time used by one guest, across all its stores.
#[derive(Debug, Default)]
pub struct Cpu {
    nanos: AtomicU64,
}

impl Cpu {
    pub fn used(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    fn add(&self, spent: Duration) {
        self.nanos.fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
    }
}

/// `future`, with the time spent polling it added to `cpu`.
pub fn metered<F: Future>(future: F, cpu: std::sync::Arc<Cpu>) -> impl Future<Output = F::Output> {
    let mut future = Box::pin(future);
    std::future::poll_fn(move |cx| {
        let began = Instant::now();
        let result = future.as_mut().poll(cx);
        cpu.add(began.elapsed());
        result
    })
}

/// Where a store stands with respect to its CPU limits.
#[derive(Debug, Default)]
pub struct Watch {
    /// When the store must be stopped, if ever.
    pub deadline: Option<Instant>,
    /// Waits (polls, blocks) the guest has made so far.
    pub waits: u64,
    waits_seen: u64,
    cpu_at_last_wait: Duration,
}

impl Watch {
    pub fn until(deadline: Option<Instant>) -> Watch {
        Watch { deadline, ..Watch::default() }
    }
}

/// The epoch callback of every guest store: yield, or stop the guest.
pub fn on_tick(mut store: StoreContextMut<'_, GuestState>) -> wasmtime::Result<UpdateDeadline> {
    let state = store.data_mut();
    if state.watch.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
        return Err(state.stop(Ending::Deadline));
    }
    if let Some(max_busy) = state.limits.max_busy {
        let used = state.limits.cpu.used();
        let watch = &mut state.watch;
        if watch.waits != watch.waits_seen {
            watch.waits_seen = watch.waits;
            watch.cpu_at_last_wait = used;
        } else if used.saturating_sub(watch.cpu_at_last_wait) > max_busy {
            let busy = used - watch.cpu_at_last_wait;
            return Err(state.stop(Ending::Stuck { busy }));
        }
    }
    Ok(UpdateDeadline::Yield(1))
}
