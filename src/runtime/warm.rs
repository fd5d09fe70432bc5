//! Stores kept between requests. A language runtime that loaded an app
//! (a component exporting `wasmfoundry:buildpack/preinit`, as js_buildpack
//! and python_buildpack put in droplets) is what a Node process or a
//! gunicorn worker is to a CF app: it serves one request after another and
//! keeps what the app keeps between them (module state, caches). So its
//! stores are not thrown away after each request, as a compiled
//! component's are: one that answered without trapping or being refused
//! memory serves the next request, skipping the instantiation, the reset
//! of its memory and the copy-on-write faults of the snapshot's pages a
//! fresh store pays on every request.
//!
//! A store that trapped, ran past its deadline or was refused memory is
//! dropped, and a fresh one made from the snapshot takes its place, as a
//! worker that died would be. So is one that returns while the instance's
//! memory is running low ([`super::limits::Memory::running_low`]): what
//! requests leave allocated — the app's leak, or the runtime's
//! (componentize-py 0.25 never frees its copy of the bytes a Python guest
//! writes to a stream) — would otherwise pile up request after request
//! until a store is refused memory mid-request; as gunicorn's
//! `max_requests` recycles a leaking worker, the store is retired between
//! requests instead, its module state with it, and the next starts afresh
//! from the snapshot. Stores idle for [`IDLE`] give their memory back.
//!
//! A store comes back a moment after its response went out (the handler
//! returns after it). A client that sends its next request at once must
//! not find the instance with no store and get a new one — with module
//! state of its own — so a request that finds none idle while one whose
//! response is sent is on its way back waits for it, a little
//! ([`RETURN_WAIT`]).
//!
//! While new stores would load the app themselves (its snapshot is still
//! compiling: [`super::snapshot_base`]), a new store costs what the app
//! takes to import — a framework, hundreds of milliseconds — where a
//! store out serving is back in a few: then a request waits for any store
//! out ([`Patience::AnyStore`]), and the instance's first store is loaded
//! before it takes requests, so none finds the instance without one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use wasmtime::Store;

use super::guest::GuestState;

/// How long an idle store is kept.
pub const IDLE: Duration = Duration::from_secs(30);

/// How long a request waits for a store whose request was answered,
/// rather than have a new one made.
const RETURN_WAIT: Duration = Duration::from_millis(50);

struct Kept<T> {
    store: Store<GuestState>,
    handler: T,
    since: Instant,
}

/// The idle stores of one instance, each with the handler instantiated in
/// it (`T`).
pub struct WarmStores<T> {
    idle: Mutex<Vec<Kept<T>>>,
    returning: Arc<Returning>,
}

/// The stores out of the idle list, by how far they are.
#[derive(Default)]
struct Returning {
    /// Whose response is sent: on their way back.
    count: AtomicUsize,
    /// Leased: loading, serving or on their way back.
    out: AtomicUsize,
    /// Told when one of them is back (or thrown away).
    back: Notify,
}

/// A store for a request, leased.
pub enum Taken<T> {
    /// A kept one, with its handler.
    Kept(Store<GuestState>, T, Arc<Lease>),
    /// None: the request makes a new store.
    New(Arc<Lease>),
}

/// Which stores out a request that finds none idle waits for.
#[derive(Clone, Copy, PartialEq)]
pub enum Patience {
    /// Those on their way back, for [`RETURN_WAIT`]: a new store is
    /// cheap (instantiated from the snapshot).
    Returning,
    /// Any, until the request's deadline: a new store would load the app.
    AnyStore,
}

impl<T> Default for WarmStores<T> {
    fn default() -> Self {
        WarmStores { idle: Mutex::new(Vec::new()), returning: Arc::default() }
    }
}

impl<T> WarmStores<T> {
    /// The store used last, ready to run until `deadline` (its pages are
    /// the likeliest still in the CPU's caches), waiting for one out if
    /// none is idle, as `patience` says; with no store, the caller makes a
    /// new one. Either way the store is leased from here: looking and
    /// leasing are one step, so two requests cannot both find no store
    /// out and both make one.
    pub async fn take(&self, deadline: Instant, patience: Patience) -> Taken<T> {
        let wait = async {
            loop {
                let back = self.returning.back.notified();
                tokio::pin!(back);
                // Registered before looking, so a return in between is seen.
                back.as_mut().enable();
                {
                    let mut idle = self.idle.lock().expect("warm stores");
                    if let Some(Kept { mut store, handler, .. }) = idle.pop() {
                        store.data_mut().rearm(deadline);
                        store.set_epoch_deadline(1);
                        return Taken::Kept(store, handler, self.lease());
                    }
                    let waited_for = match patience {
                        Patience::Returning => &self.returning.count,
                        Patience::AnyStore => &self.returning.out,
                    };
                    if waited_for.load(Ordering::Acquire) == 0 {
                        return Taken::New(self.lease());
                    }
                }
                back.await;
            }
        };
        let limit = match patience {
            Patience::Returning => RETURN_WAIT,
            Patience::AnyStore => deadline.saturating_duration_since(Instant::now()),
        };
        match tokio::time::timeout(limit, wait).await {
            Ok(taken) => taken,
            Err(_) => Taken::New(self.lease()),
        }
    }

    /// Follows a store out serving a request (or loading the app), taken
    /// or new.
    pub fn lease(&self) -> Arc<Lease> {
        self.returning.out.fetch_add(1, Ordering::AcqRel);
        Arc::new(Lease { returning: self.returning.clone(), stage: Mutex::new(Stage::Serving) })
    }

    /// Keeps `store` for the next request, if it is as good as new and
    /// the instance's memory is not running low.
    pub fn keep(&self, store: Store<GuestState>, handler: T) {
        if store.data().is_reusable() && !store.data().limits.memory.running_low() {
            self.idle.lock().expect("warm stores").push(Kept { store, handler, since: Instant::now() });
        }
    }

    /// Drops the stores idle for longer than `idle`.
    pub fn trim(&self, idle: Duration) {
        let stale: Vec<Kept<T>> = {
            let mut kept = self.idle.lock().expect("warm stores");
            // Oldest first: the stale ones are a prefix.
            let stale = kept.iter().take_while(|kept| kept.since.elapsed() > idle).count();
            kept.drain(..stale).collect()
        };
        // Dropped outside the lock: giving a store's slot back takes a while.
        drop(stale);
    }
}

/// A store out serving one request: its response is sent when the
/// [`Sent`] given the response body is dropped, and the store is back
/// (kept, or thrown away) when the [`Back`] the serving task holds is.
pub struct Lease {
    returning: Arc<Returning>,
    stage: Mutex<Stage>,
}

#[derive(PartialEq)]
enum Stage {
    Serving,
    Sent,
    Back,
}

/// Dropped once the response body is sent (or the client went away).
pub struct Sent(pub Arc<Lease>);

impl Drop for Sent {
    fn drop(&mut self) {
        let mut stage = self.0.stage.lock().expect("lease");
        if *stage == Stage::Serving {
            *stage = Stage::Sent;
            self.0.returning.count.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// Dropped once the serving task is done with the store.
pub struct Back(pub Arc<Lease>);

impl Drop for Back {
    fn drop(&mut self) {
        let mut stage = self.0.stage.lock().expect("lease");
        if *stage == Stage::Sent {
            self.0.returning.count.fetch_sub(1, Ordering::AcqRel);
        }
        if *stage != Stage::Back {
            self.0.returning.out.fetch_sub(1, Ordering::AcqRel);
        }
        *stage = Stage::Back;
        self.0.returning.back.notify_waiters();
    }
}
