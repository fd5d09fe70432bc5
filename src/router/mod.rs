//! The router (CF's gorouter): an HTTP reverse proxy that sends each
//! request to an instance registered for its `Host` (and path), fed by
//! `router.register` / `router.unregister` (and `router.register.batch`,
//! many at once) on the bus and nothing else. It announces itself with
//! `router.start`, and answers `router.greet` with the same (the register
//! interval it wants, and that it reads batches) so DEAs register
//! everything at once, drops routes not registered
//! again within the prune threshold, sends an idempotent request to another
//! instance when one refuses or drops the connection, answers 404 for unknown routes
//! and 502 when no instance answers (with `X-Cf-RouterError`), adds
//! X-Forwarded-For/Proto and X-Vcap-Request-Id, passes websockets through,
//! sends a route's requests through its route service first
//! ([`route_services`]) and writes an access log. Routers share nothing: run as many as you like.
//! It serves HTTPS too, on a port of its own ([`crate::tls`]): the same
//! routes, with `X-Forwarded-Proto: https`. `GET /metrics` on a host no
//! route has (its own address) is its Prometheus metrics ([`metrics`]).
//! Every request names its instance (`X-Cf-InstanceId`), which a DEA's
//! gateway serves it by; an answer that the instance is not there any more
//! is taken as a refused connection. An instance served by a DEA in the
//! router's own process (`wf up`) gets its requests in memory (the
//! [`LocalHttpApps`] it is given), the same request with the same headers,
//! without a loopback connection.

mod access_log;
mod app_logs;
mod metrics;
mod route_services;
mod table;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use axum::serve::{Listener, ListenerExt};
use bytes::Bytes;
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::http::uri::PathAndQuery;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};

use crate::bus::{Bus, BusExt};
use crate::config::Config;
use crate::protocol::messages::{RouteRegistration, RouteRegistrations, RouterStart, subjects};
use crate::protocol::{INSTANCE_GONE, INSTANCE_ID};
use crate::runtime::http::LocalHttpApps;
use access_log::AccessLog;
use app_logs::AppLogs;
use metrics::METRICS;
use route_services::RouteServices;
use table::AppInstance;
pub use table::RoutingTable;

/// Tries of an idempotent request without a body when backends refuse it
/// or drop the connection before answering.
const MAX_ATTEMPTS: usize = 3;

/// A request's body on its way to an instance.
type ProxyBody = BoxBody<Bytes, hyper::Error>;
/// A response's body on its way back: an instance's over the network, or
/// one served in this process.
type ResponseBody = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

pub struct Router {
    table: RoutingTable,
    client: Client<HttpConnector, ProxyBody>,
    access_log: Option<AccessLog>,
    /// `[RTR]` lines for the apps' log streams.
    app_logs: AppLogs,
    /// The instances served in this process, which get requests in memory.
    in_process: Option<LocalHttpApps>,
    route_services: RouteServices,
}

impl Router {
    /// Listens on the bus and serves on `listener` (and HTTPS on
    /// `tls_listener`) until the task is dropped. Instances listed in
    /// `local_apps` get their requests in memory (unless
    /// `router_in_process` is off).
    pub async fn start(
        config: &Config,
        bus: Bus,
        listener: TcpListener,
        tls_listener: Option<crate::tls::Listener>,
        local_apps: LocalHttpApps,
    ) -> Result<tokio::task::JoinHandle<()>> {
        let log_file = config.data_dir.join("router").join("access.log");
        let access_log = match AccessLog::open(&log_file) {
            Ok(log) => Some(log),
            Err(e) => {
                tracing::warn!("no router access log at {}: {e}", log_file.display());
                None
            }
        };
        let router = Arc::new(Router {
            table: RoutingTable::default(),
            client: Client::builder(TokioExecutor::new()).build({
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                connector
            }),
            access_log,
            app_logs: AppLogs::start(bus.clone()),
            in_process: config.router_in_process.then_some(local_apps),
            route_services: RouteServices::new(config.route_services_secret.as_deref()),
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
        let mut batches = bus.subscribe(subjects::ROUTER_REGISTER_BATCH, None).await?;
        let batched = router.clone();
        tokio::spawn(async move {
            while let Some(message) = batches.next().await {
                match message.json::<RouteRegistrations>() {
                    Ok(batch) => batch.registrations.iter().for_each(|r| batched.table.register(r)),
                    Err(e) => tracing::warn!("{e:#}"),
                }
            }
        });
        let register_interval = Duration::from_secs(config.router_register_interval.max(1));
        let prune_threshold = Duration::from_secs(config.router_prune_threshold.max(1));
        let hello = RouterStart {
            id: format!("router-{}", uuid::Uuid::new_v4().simple()),
            minimum_register_interval_in_seconds: register_interval.as_secs(),
            prune_threshold_in_seconds: prune_threshold.as_secs(),
            register_batches: true,
        };
        // DEAs that start after it ask who is there.
        let mut greetings = bus.subscribe(subjects::ROUTER_GREET, None).await?;
        let (greeted, answer) = (bus.clone(), hello.clone());
        tokio::spawn(async move {
            while let Some(greeting) = greetings.next().await {
                if let Err(e) = crate::bus::reply(&*greeted, &greeting, &answer).await {
                    tracing::warn!("answering router.greet: {e:#}");
                }
            }
        });
        bus.publish(subjects::ROUTER_START, &hello).await?;
        let pruner = router.clone();
        tokio::spawn(async move {
            let mut timer = tokio::time::interval((prune_threshold / 4).max(Duration::from_millis(250)));
            loop {
                timer.tick().await;
                let routes = pruner.table.prune(prune_threshold);
                METRICS.routes.set(i64::try_from(routes).unwrap_or(i64::MAX));
            }
        });
        let nodelay = |tcp: &mut TcpStream| {
            let _ = tcp.set_nodelay(true);
        };
        let plain = serve(router.clone(), listener.tap_io(nodelay), false);
        let https = async move {
            if let Some(tls_listener) = tls_listener {
                serve(router, tls_listener, true).await;
            }
        };
        Ok(tokio::spawn(async move {
            tokio::join!(plain, https);
        }))
    }

    /// Answers a request that came to `client` over HTTPS or not.
    async fn handle(&self, req: Request<Incoming>, client: SocketAddr, https: bool) -> Response<ResponseBody> {
        let began = Instant::now();
        let (mut parts, body) = req.into_parts();
        let host = parts
            .headers
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or(parts.uri.host())
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").to_string();
        if parts.uri.path() == "/metrics" && !self.table.is_routed(&host, "/metrics") {
            return answer(StatusCode::OK, crate::metrics::MEDIA_TYPE, crate::metrics::render());
        }
        let forwarded = match parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {}", client.ip()),
            None => client.ip().to_string(),
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let headers = &mut parts.headers;
        for (name, value) in [("x-forwarded-for", &forwarded), ("x-vcap-request-id", &request_id)] {
            if let Ok(value) = value.parse() {
                headers.insert(name, value);
            }
        }
        // Over HTTPS it is https whatever the client said; over HTTP a
        // load balancer in front that ended TLS may have said so.
        if https {
            headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        } else {
            headers.entry("x-forwarded-proto").or_insert(HeaderValue::from_static("http"));
        }
        let client_upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
        // Without a body a request can be sent again as it was.
        let bodiless = body.is_end_stream() && !parts.headers.contains_key(hyper::header::TRANSFER_ENCODING);
        let retryable =
            bodiless && matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS | Method::DELETE);
        let mut body = Some(body.boxed());

        // As gorouter: a request may name the one instance it is for.
        let instance = match parts.headers.get(APP_INSTANCE) {
            Some(value) => match value.to_str().ok().and_then(AppInstance::parse) {
                Some(instance) => Some(instance),
                None => return invalid_app_instance(),
            },
            None => None,
        };
        let mut tried = 0;
        let (mut response, backend) = loop {
            let Some((backend, route_service)) = self.table.lookup(&host, parts.uri.path(), instance.as_ref()) else {
                break match (tried, &instance) {
                    (0, Some(_)) if self.table.is_routed(&host, parts.uri.path()) => (invalid_app_instance(), None),
                    (0, _) => (unknown_route(&host), None),
                    _ => (endpoint_failure(&host), None),
                };
            };
            if let Some(service) = route_service {
                let url = route_services::requested_url(&parts.headers, &host, &path);
                if !self.route_services.came_back(&parts.headers, &url) {
                    let request = Request::from_parts(parts.clone(), body.take().unwrap_or_else(empty));
                    break (self.route_services.send_through(request, &service, &url, &request_id).await, None);
                }
            }
            tried += 1;
            let mut target = hyper::http::uri::Parts::default();
            target.scheme = Some(hyper::http::uri::Scheme::HTTP);
            target.authority = Some(backend.authority.clone());
            target.path_and_query = Some(parts.uri.path_and_query().cloned().unwrap_or(PathAndQuery::from_static("/")));
            let Ok(uri) = hyper::Uri::from_parts(target) else {
                break (text(StatusCode::BAD_REQUEST, "400 Bad Request: invalid path\n".into()), None);
            };
            let mut attempt = parts.clone();
            attempt.uri = uri;
            if let Some(instance) = &backend.instance_header {
                attempt.headers.insert(INSTANCE_ID, instance.clone());
            }
            let attempt_body = if retryable { empty() } else { body.take().unwrap_or_else(empty) };
            let served_here =
                self.in_process.as_ref().zip(backend.instance_id.as_deref()).and_then(|(apps, id)| apps.find(id));
            if let Some(app) = served_here {
                let response = app.handle(Request::from_parts(attempt, attempt_body)).await;
                break (response.map(|b| b.map_err(Into::into).boxed_unsync()), Some(backend));
            }
            match self.client.request(Request::from_parts(attempt, attempt_body)).await {
                Ok(response) if response.headers().contains_key(INSTANCE_GONE) => {
                    // Its DEA no longer serves it: forget it until registered again.
                    tracing::debug!("instance {:?} at {} is gone", backend.instance_id, backend.address);
                    self.table.remove_instance(&backend);
                    if !retryable || tried >= MAX_ATTEMPTS {
                        break (endpoint_failure(&host), Some(backend));
                    }
                }
                Ok(response) => break (response.map(|b| b.map_err(Into::into).boxed_unsync()), Some(backend)),
                Err(e) => {
                    tracing::debug!("backend {} failed: {e}", backend.address);
                    if e.is_connect() {
                        // It is gone: forget it until its DEA registers it again.
                        self.table.remove_address(&backend.address);
                    }
                    // A connection that died before the answer (its instance
                    // was killed mid-request) is retried like a refused one,
                    // as gorouter does for idempotent requests.
                    if !retryable || tried >= MAX_ATTEMPTS {
                        break (endpoint_failure(&host), Some(backend));
                    }
                }
            }
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            splice_upgrade(client_upgrade, &mut response);
        }
        METRICS.request(response.status().as_u16(), began.elapsed().as_secs_f64());
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("-");
        let app = backend.as_ref().and_then(|b| b.app.as_deref());
        if self.access_log.is_some() || app.is_some() {
            let line = access_log::Entry {
                host: &host,
                method: parts.method.as_str(),
                path: &path,
                version: parts.version,
                status: response.status().as_u16(),
                user_agent: header("user-agent"),
                referer: header("referer"),
                client,
                backend: backend.as_ref().map(|b| b.address.as_str()),
                forwarded_for: &forwarded,
                request_id: &request_id,
                seconds: began.elapsed().as_secs_f64(),
                app,
                index: backend.as_ref().and_then(|b| b.index),
            }
            .line();
            if let Some(app) = app {
                self.app_logs.send(app, backend.as_ref().and_then(|b| b.index), line.clone());
            }
            if let Some(log) = &self.access_log {
                log.write(line);
            }
        }
        response
    }
}

/// Joins a client's upgraded connection (a websocket) to the backend's.
fn splice_upgrade(client: Option<hyper::upgrade::OnUpgrade>, response: &mut Response<ResponseBody>) {
    let backend = hyper::upgrade::on(response);
    let Some(client) = client else { return };
    tokio::spawn(async move {
        match tokio::try_join!(client, backend) {
            Ok((client, backend)) => {
                let _ = tokio::io::copy_bidirectional(&mut TokioIo::new(client), &mut TokioIo::new(backend)).await;
            }
            Err(e) => tracing::debug!("upgrading a proxied connection: {e}"),
        }
    });
}

fn empty() -> ProxyBody {
    Empty::new().map_err(|never: Infallible| match never {}).boxed()
}

fn unknown_route(host: &str) -> Response<ResponseBody> {
    let mut response =
        text(StatusCode::NOT_FOUND, format!("404 Not Found: Requested route ('{host}') does not exist.\n"));
    response.headers_mut().insert("x-cf-routererror", HeaderValue::from_static("unknown_route"));
    response
}

/// The header naming the instance a request is for: `APP_GUID:INDEX`.
const APP_INSTANCE: &str = "x-cf-app-instance";

/// gorouter's answer to an `X-CF-APP-INSTANCE` it cannot follow: not
/// `APP_GUID:INDEX`, or no such instance on the route.
fn invalid_app_instance() -> Response<ResponseBody> {
    let mut response = text(StatusCode::BAD_REQUEST, "400 Bad Request: Invalid X-CF-APP-INSTANCE Header\n".into());
    response.headers_mut().insert("x-cf-routererror", HeaderValue::from_static("invalid_cf_app_instance_header"));
    response
}

fn endpoint_failure(host: &str) -> Response<ResponseBody> {
    let mut response = text(
        StatusCode::BAD_GATEWAY,
        format!("502 Bad Gateway: Registered endpoint failed to handle the request ({host}).\n"),
    );
    response.headers_mut().insert("x-cf-routererror", HeaderValue::from_static("endpoint_failure"));
    response
}

fn text(status: StatusCode, body: String) -> Response<ResponseBody> {
    answer(status, "text/plain; charset=utf-8", body)
}

/// The router's own answer.
fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response<ResponseBody> {
    let body = Full::new(Bytes::from(body)).map_err(|never: Infallible| match never {}).boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static(content_type));
    response
}

/// Serves the connections of `listener`, which come over HTTPS or not.
async fn serve<L: Listener<Addr = SocketAddr>>(router: Arc<Router>, mut listener: L, https: bool) {
    loop {
        let (stream, client) = listener.accept().await;
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let router = router.clone();
                async move { Ok::<_, Infallible>(router.handle(req, client, https).await) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}
