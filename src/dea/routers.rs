//! What a DEA knows of the routers: how often they want its routes
//! registered again, and whether every one of them reads registrations in
//! batches (`router.register.batch`). It learns both from each
//! `router.start`, and from the answers to the `router.greet` it sends
//! when it starts (routers that were up before it).
//!
//! Until it has heard from a router, and for good once any router does not
//! read batches (gorouter, a router of an earlier release), it registers
//! each instance's routes in a message of its own, as CF's DEA did.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::protocol::messages::RouterStart;

pub struct Routers {
    /// Seconds between registrations: the least any router asked for.
    interval: AtomicU64,
    heard: AtomicBool,
    /// Some router does not read batches.
    one_per_message: AtomicBool,
}

impl Routers {
    /// Before any router is heard: registrations every `interval` seconds.
    pub fn new(interval: u64) -> Routers {
        Routers {
            interval: AtomicU64::new(interval),
            heard: AtomicBool::new(false),
            one_per_message: AtomicBool::new(false),
        }
    }

    /// A router's `router.start` (or its answer to `router.greet`).
    pub fn heard(&self, hello: &RouterStart) {
        self.interval.fetch_min(hello.minimum_register_interval_in_seconds.max(1), Ordering::SeqCst);
        if !hello.register_batches {
            self.one_per_message.store(true, Ordering::SeqCst);
        }
        self.heard.store(true, Ordering::SeqCst);
    }

    pub fn interval_secs(&self) -> u64 {
        self.interval.load(Ordering::SeqCst)
    }

    /// Whether routes may be registered in batches: a router was heard, and
    /// none that does not read them.
    pub fn read_batches(&self) -> bool {
        self.heard.load(Ordering::SeqCst) && !self.one_per_message.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(interval: u64, register_batches: bool) -> RouterStart {
        RouterStart {
            id: "router".into(),
            minimum_register_interval_in_seconds: interval,
            prune_threshold_in_seconds: 120,
            register_batches,
        }
    }

    #[test]
    fn batches_only_once_a_router_is_heard_and_never_after_one_that_does_not_read_them() {
        let routers = Routers::new(20);
        assert!(!routers.read_batches(), "no router heard yet");
        routers.heard(&hello(30, true));
        assert!(routers.read_batches());
        assert_eq!(routers.interval_secs(), 20, "the least interval asked for");
        routers.heard(&hello(5, false));
        assert!(!routers.read_batches(), "a gorouter is up");
        assert_eq!(routers.interval_secs(), 5);
        routers.heard(&hello(10, true));
        assert!(!routers.read_batches(), "the gorouter may still be up");
    }
}
