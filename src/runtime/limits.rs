//! What a guest may use, and how it was stopped when it used too much.
//!
//! CF's warden gave every container a memory cgroup, a disk quota, an fd
//! ulimit and CPU shares. A guest here gets the same kinds of limits,
//! enforced by the runtime rather than the kernel:
//!
//! - [`Memory`]: one budget for all the guest's linear memories, across
//!   every store it has at once (an HTTP app has one per request in flight).
//!   Growth past it fails; the guest's allocator sees out-of-memory.
//! - [`Disk`]: bytes the guest may have written under its directory. A file
//!   write past it fails with `quota` (see [`super::linker`]).
//! - handles: the size of the store's resource table (open files, sockets,
//!   streams, pollables), so a guest cannot exhaust the DEA's descriptors.
//! - CPU ([`super::cpu`]): a wall-clock deadline, and for long-running
//!   programs a cap on CPU time spent without once waiting for anything.
//! - network ([`super::network`]): which addresses it may bind, listen on
//!   and connect to; none at all unless given.
//!
//! When one of them stops a guest, [`super::ending::Ending`] says which, for the crash
//! report.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::cpu::Cpu;
use super::network::SocketCheck;

/// Open handles a guest may hold when nothing else is said (CF's DEA
/// default `fds` limit).
pub const DEFAULT_MAX_HANDLES: usize = 16384;

/// The limits one guest runs under; every store of the guest shares them.
#[derive(Clone)]
pub struct GuestLimits {
    pub memory: Arc<Memory>,
    pub disk: Option<Arc<Disk>>,
    pub max_handles: usize,
    pub cpu: Arc<Cpu>,
    /// CPU time a guest may spend without waiting on I/O or a clock before
    /// it counts as stuck in a loop; `None` for guests with a deadline.
    pub max_busy: Option<Duration>,
    /// Where it may connect (and listen); `None`: no network.
    pub network: Option<SocketCheck>,
}

impl GuestLimits {
    /// Just a memory limit (handles at their default, no disk quota).
    pub fn memory(bytes: u64) -> GuestLimits {
        GuestLimits {
            memory: Arc::new(Memory::new(bytes)),
            disk: None,
            max_handles: DEFAULT_MAX_HANDLES,
            cpu: Arc::default(),
            max_busy: None,
            network: None,
        }
    }
}

/// A memory budget in bytes, what is held of it now and the most that
/// was held at once.
#[derive(Debug)]
pub struct Memory {
    limit: u64,
    used: AtomicU64,
    peak: AtomicU64,
}

impl Memory {
    pub fn new(limit: u64) -> Memory {
        Memory { limit, used: AtomicU64::new(0), peak: AtomicU64::new(0) }
    }

    /// The most held at once so far: what an HTTP app's instance — a store
    /// per request, none held between them — needs of its budget, as a
    /// process's resident size shows what it needed.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed).max(self.used())
    }

    pub fn limit_mb(&self) -> u64 {
        self.limit / (1024 * 1024)
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `bytes` from the budget, if they fit.
    pub fn take(&self, bytes: u64) -> bool {
        match self.used.fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
            used.checked_add(bytes).filter(|&u| u <= self.limit)
        }) {
            Ok(before) => {
                self.peak.fetch_max(before + bytes, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether more than 7/8 of the budget is held. Stores at their start
    /// hold at most 4/5 of it (an HTTP app runs as many at once as fit at
    /// 5/4 of their initial size: `runtime::http::concurrency`), so this
    /// is what they grew by, not what they started with.
    pub fn running_low(&self) -> bool {
        self.used() > self.limit / 8 * 7
    }

    pub fn give_back(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// A disk quota: bytes written under the guest's directory. The DEA
/// [`Disk::measured`] the real usage every few seconds; writes in between
/// are counted as growth, so overwrites count twice until the next sample.
/// Only WASI 0.2's file writes are checked one by one ([`super::linker`]);
/// a guest that can write otherwise (a preview 1 module, a WASI 0.3
/// filesystem user) is marked [`Disk::mark_writes_unchecked`], and past its
/// quota when measured it must be stopped instead.
pub struct Disk {
    limit: u64,
    used: AtomicU64,
    exceeded: AtomicBool,
    writes_unchecked: AtomicBool,
    /// Called once, the first time a write is refused.
    on_exceeded: Box<dyn Fn() + Send + Sync>,
}

impl Disk {
    pub fn new(limit: u64, on_exceeded: impl Fn() + Send + Sync + 'static) -> Disk {
        Disk {
            limit,
            used: AtomicU64::new(0),
            exceeded: AtomicBool::new(false),
            writes_unchecked: AtomicBool::new(false),
            on_exceeded: Box::new(on_exceeded),
        }
    }

    /// Marks the guest as one whose writes are not checked one by one.
    pub fn mark_writes_unchecked(&self) {
        self.writes_unchecked.store(true, Ordering::Release);
    }

    pub fn limit_mb(&self) -> u64 {
        self.limit / (1024 * 1024)
    }

    /// Records the usage measured on disk; true when the guest's writes
    /// are unchecked and it is past its quota (it must be stopped).
    pub fn measured(&self, bytes: u64) -> bool {
        self.used.store(bytes, Ordering::Release);
        bytes > self.limit && self.writes_unchecked.load(Ordering::Acquire)
    }

    /// Whether `bytes` more may be written; counts them if so.
    pub fn write(&self, bytes: u64) -> bool {
        let fits = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&u| u <= self.limit)
            })
            .is_ok();
        if !fits && !self.exceeded.swap(true, Ordering::AcqRel) {
            (self.on_exceeded)();
        }
        fits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_runs_low_past_seven_eighths_of_the_budget() {
        let memory = Memory::new(8 << 20);
        assert!(memory.take(7 << 20));
        assert!(!memory.running_low());
        assert!(memory.take(1));
        assert!(memory.running_low());
    }

    #[test]
    fn the_memory_budget_is_shared_and_refuses_growth_past_it() {
        let memory = Memory::new(2 << 20);
        assert!(memory.take(1 << 20));
        assert!(memory.take(1 << 20), "a second store may take the rest");
        assert!(!memory.take(1), "past the budget");
        memory.give_back(1 << 20);
        assert_eq!(memory.used(), 1 << 20);
    }

    #[test]
    fn the_disk_quota_refuses_writes_past_it_and_reports_once() {
        let reported = Arc::new(AtomicU64::new(0));
        let count = reported.clone();
        let disk = Disk::new(1000, move || {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert!(!disk.measured(900));
        assert!(disk.write(100));
        assert!(!disk.write(1));
        assert!(!disk.write(1));
        assert_eq!(reported.load(Ordering::Relaxed), 1);
        assert!(!disk.measured(10));
        assert!(disk.write(500), "a new measurement frees what was deleted");
        assert!(!disk.measured(2000), "past it, a guest whose writes are checked was refused them");
        disk.mark_writes_unchecked();
        assert!(disk.measured(2000), "one whose writes are not checked must be stopped");
        assert!(!disk.measured(1000));
    }
}
