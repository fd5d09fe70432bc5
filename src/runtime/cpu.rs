//! CPU: how much a guest uses, and when it is cut off.
//!
//! Wasm runs inside the `poll` of the future that calls it, so the time
//! spent in those polls ([`metered`]) is the guest's CPU time — what the
//! DEA reports as `usage.cpu`. Every store's epoch deadline is one tick
//! ([`super::EPOCH_TICK`]) ahead; at each tick [`Watch::tick`] either yields to
//! the async runtime (so a guest in a loop never holds a DEA thread) or
//! stops the guest: past its wall-clock deadline (a request, a staging
//! task, `wf wasm run --timeout`), or — for long-running programs — after
//! [`super::limits::GuestLimits::max_busy`] of CPU without once waiting on I/O
//! or a clock: stuck. A wait is a poll of the guest's future that ends
//! pending though no tick made it yield — the guest awaits the host,
//! whatever WASI version or call it used to.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::ending::Ending;

/// CPU time used by one guest, across all its stores, and how often it
/// was made to yield and how often it waited.
#[derive(Debug, Default)]
pub struct Cpu {
    nanos: AtomicU64,
    yields: AtomicU64,
    waits: AtomicU64,
}

impl Cpu {
    pub fn used(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// Times the guest waited for the host (I/O, a clock, a child task).
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    fn add(&self, spent: Duration) {
        self.nanos.fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
    }

    fn yields(&self) -> u64 {
        self.yields.load(Ordering::Relaxed)
    }
}

/// `future`, with the time spent polling it added to `cpu`, and a poll
/// that ends pending without a tick's yield counted as a wait.
pub fn metered<F: Future>(future: F, cpu: std::sync::Arc<Cpu>) -> impl Future<Output = F::Output> {
    let mut future = Box::pin(future);
    std::future::poll_fn(move |cx| {
        let began = Instant::now();
        let yields = cpu.yields();
        let result = future.as_mut().poll(cx);
        cpu.add(began.elapsed());
        if result.is_pending() && cpu.yields() == yields {
            cpu.waits.fetch_add(1, Ordering::Relaxed);
        }
        result
    })
}

/// Where a store stands with respect to its CPU limits.
#[derive(Debug, Default)]
pub struct Watch {
    /// When the store must be stopped, if ever.
    pub deadline: Option<Instant>,
    waits_seen: u64,
    cpu_at_last_wait: Duration,
}

impl Watch {
    pub fn until(deadline: Option<Instant>) -> Watch {
        Watch { deadline, ..Watch::default() }
    }
}

impl Watch {
    /// At an epoch tick: why the store must stop — past its deadline, or
    /// `max_busy` of CPU without a wait — or else a yield, counted on `cpu`.
    pub fn tick(&mut self, cpu: &Cpu, max_busy: Option<Duration>) -> Result<(), Ending> {
        if self.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Err(Ending::Deadline);
        }
        if let Some(max_busy) = max_busy {
            let (used, waits) = (cpu.used(), cpu.waits());
            if waits != self.waits_seen {
                self.waits_seen = waits;
                self.cpu_at_last_wait = used;
            } else if used.saturating_sub(self.cpu_at_last_wait) > max_busy {
                return Err(Ending::Stuck { busy: used - self.cpu_at_last_wait });
            }
        }
        cpu.yields.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
