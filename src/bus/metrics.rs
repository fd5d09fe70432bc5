//! The bus's metrics (the NATS client's view, as a nats-server's
//! `/varz` gives it for the server): messages this process published and
//! received, by the first token of their subject (`router`, `dea`,
//! `logs`, `_INBOX`: the rest holds ids), and how often it lost and found
//! the NATS server again.

use std::sync::LazyLock;

use crate::metrics::{Counter, EncodeLabelSet, Family, Gauge, register};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BySubject {
    subject_prefix: String,
}

pub struct BusMetrics {
    published: Family<BySubject, Counter>,
    received: Family<BySubject, Counter>,
    /// Times the connection to the NATS server was lost.
    pub disconnects: Counter,
    /// Times it was made again after being lost.
    pub reconnects: Counter,
    /// 1 while connected to the NATS server.
    pub connected: Gauge,
}

impl BusMetrics {
    pub fn published(&self, subject: &str) {
        self.published.get_or_create(&by_subject(subject)).inc();
    }

    pub fn received(&self, subject: &str) {
        self.received.get_or_create(&by_subject(subject)).inc();
    }
}

fn by_subject(subject: &str) -> BySubject {
    BySubject { subject_prefix: subject.split('.').next().unwrap_or_default().to_string() }
}

pub static METRICS: LazyLock<BusMetrics> = LazyLock::new(|| BusMetrics {
    published: register(
        "wf_bus_messages_published",
        "Messages this process published, by the first token of their subject.",
        Family::default(),
    ),
    received: register(
        "wf_bus_messages_received",
        "Messages this process's subscriptions received, by the first token of their subject.",
        Family::default(),
    ),
    disconnects: register(
        "wf_bus_disconnects",
        "Times the connection to the NATS server was lost.",
        Counter::default(),
    ),
    reconnects: register(
        "wf_bus_reconnects",
        "Times the connection to the NATS server was made again after being lost.",
        Counter::default(),
    ),
    connected: register("wf_bus_connected", "1 while connected to the NATS server.", Gauge::default()),
});
