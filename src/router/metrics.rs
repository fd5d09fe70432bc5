//! The router's metrics, as gorouter reports them (`total_requests`,
//! `responses.2xx`…, `latency`, `total_routes`): every request it
//! proxied or answered itself, by status class, and how long it took.

use std::sync::LazyLock;

use crate::metrics::{Counter, EncodeLabelSet, Family, Gauge, Histogram, register, seconds, status_class};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ByStatus {
    status_class: &'static str,
}

pub struct RouterMetrics {
    requests: Family<ByStatus, Counter>,
    duration: Histogram,
    /// Routes (host and path) with at least one instance, as of the last prune.
    pub routes: Gauge,
}

impl RouterMetrics {
    /// Counts a request answered with `status` after `seconds`.
    pub fn request(&self, status: u16, seconds: f64) {
        self.requests.get_or_create(&ByStatus { status_class: status_class(status) }).inc();
        self.duration.observe(seconds);
    }
}

pub static METRICS: LazyLock<RouterMetrics> = LazyLock::new(|| RouterMetrics {
    requests: register(
        "wf_router_requests",
        "Requests the router answered (by an app, a route service or itself), by status class.",
        Family::default(),
    ),
    duration: register(
        "wf_router_request_duration_seconds",
        "From a request's arrival to its response's headers.",
        seconds(),
    ),
    routes: register("wf_router_routes", "Routes with at least one instance registered.", Gauge::default()),
});
