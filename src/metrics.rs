//! Prometheus metrics. Each role keeps its own in a `metrics` file of its
//! own (`router::metrics`, `dea::metrics`...), named `wf_<role>_…` as
//! Prometheus's conventions have it (base units, `_total` on counters,
//! `_seconds` and `_bytes`), registered here once per process on first
//! use. One process's roles share one registry, which the CC and the
//! router serve at `GET /metrics` on their own ports, and any process at
//! `metrics_listen` — in the OpenMetrics text format, which Prometheus
//! reads (a sample scrape config is in the README).
//!
//! Labels take few values (a status class, a route template, a state),
//! never an app's or instance's GUID: a series per app would grow without
//! bound.

use std::sync::{LazyLock, Mutex};

use axum::http::header::CONTENT_TYPE;
use prometheus_client::registry::{Metric, Registry};

pub use prometheus_client::encoding::EncodeLabelSet;
pub use prometheus_client::metrics::counter::Counter;
pub use prometheus_client::metrics::family::Family;
pub use prometheus_client::metrics::gauge::Gauge;
pub use prometheus_client::metrics::histogram::Histogram;

/// The OpenMetrics text format's media type.
pub const MEDIA_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);

/// Adds `metric` to the process's registry under `name` (the full name
/// but for a counter's `_total`, which the format adds) and returns it.
pub fn register<M: Metric + Clone>(name: &str, help: &str, metric: M) -> M {
    REGISTRY.lock().expect("metrics registry").register(name, help, metric.clone());
    metric
}

/// A histogram of durations in seconds, from 1 ms to about 33 s.
pub fn seconds() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 16))
}

/// A family of [`seconds`] histograms.
pub type SecondsBy<L> = Family<L, Histogram, fn() -> Histogram>;

/// A new, empty [`SecondsBy`].
pub fn seconds_by<L: Clone + std::hash::Hash + Eq>() -> SecondsBy<L> {
    Family::new_with_constructor(seconds)
}

/// An HTTP status's class, as a label: `2xx`, `4xx`...
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Every metric of this process, in the text format.
pub fn render() -> String {
    let mut text = String::new();
    let registry = REGISTRY.lock().expect("metrics registry");
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("writing to a String");
    text
}

/// `GET /metrics`'s answer.
pub async fn scrape() -> impl axum::response::IntoResponse {
    ([(CONTENT_TYPE, MEDIA_TYPE)], render())
}

/// Serves `GET /metrics` on `listener` (a process without a CC or a
/// router: a DEA's, a health manager's).
pub async fn serve(listener: tokio::net::TcpListener) {
    let app = axum::Router::new().route("/metrics", axum::routing::get(scrape));
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("the metrics endpoint stopped: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format() {
        let requests: Family<[(&str, &str); 1], Counter> =
            register("wf_test_requests", "Requests in a test.", Family::default());
        requests.get_or_create(&[("status_class", status_class(204))]).inc();
        let latency = register("wf_test_latency_seconds", "Latency in a test.", seconds());
        latency.observe(0.003);
        let text = render();
        assert!(text.contains("# TYPE wf_test_requests counter"), "{text}");
        assert!(text.contains("wf_test_requests_total{status_class=\"2xx\"} 1"), "{text}");
        assert!(text.contains("wf_test_latency_seconds_bucket{le=\"0.004\"} 1"), "{text}");
        assert!(text.contains("wf_test_latency_seconds_count 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
