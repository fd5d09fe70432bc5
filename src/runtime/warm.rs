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
//! worker that died would be. Stores idle for [`IDLE`] give their memory
//! back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use wasmtime::Store;

use super::guest::GuestState;

/// How long an idle store is kept.
pub const IDLE: Duration = Duration::from_secs(30);

struct Kept<T> {
    store: Store<GuestState>,
    handler: T,
    since: Instant,
}

/// The idle stores of one instance, each with the handler instantiated in
/// it (`T`).
pub struct WarmStores<T> {
    idle: Mutex<Vec<Kept<T>>>,
}

impl<T> Default for WarmStores<T> {
    fn default() -> Self {
        WarmStores { idle: Mutex::new(Vec::new()) }
    }
}

impl<T> WarmStores<T> {
    /// The store used last, ready to run until `deadline`: its pages are
    /// the likeliest still in the CPU's caches.
    pub fn take(&self, deadline: Instant) -> Option<(Store<GuestState>, T)> {
        let Kept { mut store, handler, .. } = self.idle.lock().expect("warm stores").pop()?;
        store.data_mut().rearm(deadline);
        store.set_epoch_deadline(1);
        Some((store, handler))
    }

    /// Keeps `store` for the next request, if it is as good as new.
    pub fn keep(&self, store: Store<GuestState>, handler: T) {
        if store.data().is_reusable() {
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
