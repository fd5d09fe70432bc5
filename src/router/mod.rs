//! The router (CF's gorouter): an HTTP reverse proxy that sends each
//! request to an instance registered for its `Host` (and path), fed by
//! `router.register` / `router.unregister` on the bus. It announces itself
//! with `router.start` so DEAs register everything at once, prunes routes
//! not refreshed within [`PRUNE_THRESHOLD`], answers 404 for unknown routes
//! and 502 when no instance answers, and adds X-Forwarded-For/Proto and
//! X-Vcap-Request-Id.

mod table;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::bus::messages::{RouteRegistration, RouterStart, subjects};
use crate::bus::{Bus, BusExt};
pub use table::RoutingTable;

pub const REGISTER_INTERVAL: Duration = Duration::from_secs(20);
pub const PRUNE_THRESHOLD: Duration = Duration::from_secs(120);

type ProxyBody = BoxBody<Bytes, hyper::Error>;

pub struct Router {
    table: RoutingTable,
    client: Client<HttpConnector, Incoming>,
}

impl Router {
    /// Listens on the bus and serves on `listener` until the task is dropped.
    pub async fn start(bus: Bus, listener: TcpListener) -> Result<tokio::task::JoinHandle<()>> {
        let router = Arc::new(Router {
            table: RoutingTable::default(),
            client: Client::builder(TokioExecutor::new()).build({
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                connector
            }),
        });
        for (subject, add) in [(subjects::ROUTER_REGISTER, true), (subjects::ROUTER_UNREGISTER, false)] {
            let mut messages = bus.subscribe(subject, None).await?;
            let router = router.clone();
            tokio::spawn(async move {
                while let Some(message) = messages.next().await {
                    match message.json::<RouteRegistration>() {
                        Ok(r) if add => router.table.register(&r),
                        Ok(r) => router.table.unregister(&r),
                        Err(e) => tracing::warn!("{e:#}"),
                    }
                }
            });
        }
        let hello = RouterStart {
            id: format!("router-{}", uuid::Uuid::new_v4().simple()),
            minimum_register_interval_in_seconds: REGISTER_INTERVAL.as_secs(),
            prune_threshold_in_seconds: PRUNE_THRESHOLD.as_secs(),
        };
        bus.publish(subjects::ROUTER_START, &hello).await?;
        let pruner = router.clone();
        tokio::spawn(async move {
            let mut timer = tokio::time::interval(REGISTER_INTERVAL);
            loop {
                timer.tick().await;
                pruner.table.prune(PRUNE_THRESHOLD);
            }
        });
        Ok(tokio::spawn(serve(router, listener)))
    }

    async fn handle(&self, mut req: Request<Incoming>, client: SocketAddr) -> Response<ProxyBody> {
        let host = req
            .headers()
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or(req.uri().host())
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let Some(backend) = self.table.lookup(&host, req.uri().path()) else {
            let mut response =
                text(StatusCode::NOT_FOUND, format!("404 Not Found: Requested route ('{host}') does not exist.\n"));
            response.headers_mut().insert("x-cf-routererror", hyper::header::HeaderValue::from_static("unknown_route"));
            return response;
        };
        let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/").to_string();
        let Ok(uri) = format!("http://{}{path}", backend.address).parse() else {
            return text(StatusCode::BAD_REQUEST, "400 Bad Request: invalid path\n".into());
        };
        *req.uri_mut() = uri;
        let headers = req.headers_mut();
        let forwarded = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {}", client.ip()),
            None => client.ip().to_string(),
        };
        if let Ok(value) = forwarded.parse() {
            headers.insert("x-forwarded-for", value);
        }
        headers.entry("x-forwarded-proto").or_insert(hyper::header::HeaderValue::from_static("http"));
        if let Ok(id) = uuid::Uuid::new_v4().to_string().parse() {
            headers.insert("x-vcap-request-id", id);
        }
        if let Some(instance) = backend.instance_id.as_deref().and_then(|i| i.parse().ok()) {
            headers.insert("x-cf-instanceid", instance);
        }
        match self.client.request(req).await {
            Ok(response) => response.map(|body| body.boxed()),
            Err(e) => {
                tracing::debug!("backend {} failed: {e}", backend.address);
                text(
                    StatusCode::BAD_GATEWAY,
                    format!("502 Bad Gateway: Registered endpoint failed to handle the request ({host}).\n"),
                )
            }
        }
    }
}

fn text(status: StatusCode, body: String) -> Response<ProxyBody> {
    let body = Full::new(Bytes::from(body)).map_err(|never: Infallible| match never {}).boxed();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

async fn serve(router: Arc<Router>, listener: TcpListener) {
    loop {
        let Ok((stream, client)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let router = router.clone();
                async move { Ok::<_, Infallible>(router.handle(req, client).await) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}
