//! The DEA's advert and heartbeat, sent whenever its state changed — but
//! coalesced: however many instances start or stop at once, one advert
//! at a time is being sent, and the next covers every change asked for
//! meanwhile — sent no sooner than [`GAP`] times the last one took after
//! it. (A DEA starting thousands of instances would otherwise send a
//! heartbeat listing all of them for each one.) Whoever asks is answered
//! once an advert made after they asked has gone out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, watch};

/// How many times as long as an advert took to send the DEA waits before
/// the next: a few milliseconds for a DEA of a few instances, a fraction of
/// a second for one of thousands, whose heartbeat every CC and health
/// manager reads whole.
const GAP: u32 = 4;

/// Asks for adverts and learns when they went out.
pub(super) struct Adverts {
    /// How many have been asked for.
    asked: AtomicU64,
    /// How many of those the last advert sent covers.
    covered: watch::Sender<u64>,
    wake: Notify,
}

impl Adverts {
    pub(super) fn new() -> Arc<Adverts> {
        Arc::new(Adverts { asked: AtomicU64::new(0), covered: watch::channel(0).0, wake: Notify::new() })
    }

    /// Returns once an advert made after this call has been sent (or the
    /// DEA is gone).
    pub(super) async fn ask(&self) {
        let ticket = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let mut covered = self.covered.subscribe();
        self.wake.notify_one();
        let _ = covered.wait_for(|sent| *sent >= ticket).await;
    }

    /// Wakes the sender, to find the DEA gone.
    pub(super) fn close(&self) {
        self.wake.notify_one();
    }

    /// Sends an advert with `send` each time some are asked for, one at
    /// a time, until `send` says the DEA is gone (None).
    pub(super) async fn send_while<F, S>(self: Arc<Self>, mut send: S)
    where
        S: FnMut() -> Option<F>,
        F: std::future::Future<Output = ()>,
    {
        let mut took = std::time::Duration::ZERO;
        loop {
            self.wake.notified().await;
            tokio::time::sleep(took * GAP).await;
            let began = std::time::Instant::now();
            let asked = self.asked.load(Ordering::SeqCst);
            let Some(sending) = send() else { return };
            sending.await;
            self.covered.send_replace(asked);
            took = began.elapsed();
        }
    }
}
