//! The Cloud Controller's metrics (CCNG's `cc_requests_completed`,
//! `cc_requests_outstanding`, `cc_http_status_*`, by endpoint as
//! axum-prometheus has them): every API request by its route's template
//! (`/v3/apps/{guid}`, not the GUID), method and status class, how long
//! it took, how many are in flight; and every request to a service broker
//! by its outcome.
//!
//! [`metered`] wraps the whole API, so unknown paths and refused bodies
//! count too (as `unmatched`); [`tag_endpoint`], inside the router, tells
//! it which route a request took.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics::{Counter, EncodeLabelSet, Family, Gauge, SecondsBy, register, seconds_by, status_class};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ByEndpoint {
    method: String,
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ByEndpointAndStatus {
    method: String,
    endpoint: String,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ByOutcome {
    outcome: &'static str,
}

/// How a request to a broker ended.
#[derive(Clone, Copy)]
pub enum BrokerOutcome {
    /// It answered (whatever its status).
    Answered,
    /// It answered 401: the CC's credentials are wrong.
    Unauthorized,
    /// It did not answer within `broker_client_timeout_seconds`.
    Timeout,
    /// No connection, or one that broke before an answer.
    Unreachable,
    /// A connection broke before the broker saw the request, and it was
    /// sent again (counted besides the second try's outcome).
    Retried,
}

pub struct CcMetrics {
    requests: Family<ByEndpointAndStatus, Counter>,
    duration: SecondsBy<ByEndpoint>,
    in_flight: Gauge,
    broker_requests: Family<ByOutcome, Counter>,
}

impl CcMetrics {
    pub fn broker_request(&self, outcome: BrokerOutcome) {
        let outcome = match outcome {
            BrokerOutcome::Answered => "answered",
            BrokerOutcome::Unauthorized => "unauthorized",
            BrokerOutcome::Timeout => "timeout",
            BrokerOutcome::Unreachable => "unreachable",
            BrokerOutcome::Retried => "retried",
        };
        self.broker_requests.get_or_create(&ByOutcome { outcome }).inc();
    }
}

pub static METRICS: LazyLock<CcMetrics> = LazyLock::new(|| CcMetrics {
    requests: register(
        "wf_cc_requests",
        "API requests answered, by route template, method and status class.",
        Family::default(),
    ),
    duration: register(
        "wf_cc_request_duration_seconds",
        "From an API request's arrival to its response's headers, by route template and method.",
        seconds_by(),
    ),
    in_flight: register("wf_cc_requests_in_flight", "API requests being answered.", Gauge::default()),
    broker_requests: register(
        "wf_cc_broker_requests",
        "Requests to service brokers, by outcome (answered, unauthorized, timeout, unreachable, retried).",
        Family::default(),
    ),
});

/// The route a request took, for [`metered`].
#[derive(Clone)]
struct Endpoint(String);

/// Counts and times every request.
pub async fn metered(request: Request, next: Next) -> Response {
    let began = Instant::now();
    let method = request.method().to_string();
    METRICS.in_flight.inc();
    let response = next.run(request).await;
    METRICS.in_flight.dec();
    let endpoint = response.extensions().get::<Endpoint>().map_or_else(|| "unmatched".to_string(), |e| e.0.clone());
    let status_class = status_class(response.status().as_u16());
    METRICS
        .requests
        .get_or_create(&ByEndpointAndStatus { method: method.clone(), endpoint: endpoint.clone(), status_class })
        .inc();
    METRICS.duration.get_or_create(&ByEndpoint { method, endpoint }).observe(began.elapsed().as_secs_f64());
    response
}

/// Tells [`metered`] the route a request took (run inside the router,
/// where the route is known).
pub async fn tag_endpoint(path: MatchedPath, request: Request, next: Next) -> Response {
    let endpoint = Endpoint(path.as_str().to_string());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(endpoint);
    response
}
