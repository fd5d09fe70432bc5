//! `[RTR]` lines: every request routed to an app is also a line of that
//! app's log stream (`logs.<app>`, source type `RTR`, the instance's
//! index), in the access log's format, as gorouter sends each request to
//! loggregator — so `cf logs` shows the app's traffic. Lines go through a
//! bounded queue to one task that publishes them: a request never waits
//! on the bus, and in a flood past the queue lines are dropped (as
//! loggregator drops), counted in a warning.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use crate::bus::{Bus, BusExt};
use crate::protocol::messages::LogMessage;

/// Lines waiting to be published, at most.
const QUEUED_LINES: usize = 10_000;

pub struct AppLogs {
    lines: mpsc::Sender<LogMessage>,
    dropped: AtomicU64,
}

impl AppLogs {
    /// Publishes the lines sent to it on `bus` until it is dropped.
    pub fn start(bus: Bus) -> AppLogs {
        let (lines, mut queued) = mpsc::channel::<LogMessage>(QUEUED_LINES);
        tokio::spawn(async move {
            while let Some(line) = queued.recv().await {
                if let Err(e) = bus.publish(&line.subject(), &line).await {
                    tracing::warn!("publishing a router log line: {e:#}");
                }
            }
        });
        AppLogs { lines, dropped: AtomicU64::new(0) }
    }

    /// A request to instance `index` of `app`, as its access log line.
    pub fn send(&self, app: &str, index: Option<u32>, line: String) {
        let instance = index.map_or_else(String::new, |i| i.to_string());
        let message = LogMessage::new(app, "RTR", &instance, "OUT", line);
        if self.lines.try_send(message).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!("router log lines dropped, the bus not keeping up: {dropped} so far");
            }
        }
    }
}
