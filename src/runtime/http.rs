//! Serving a wasi:http component, as wasmtime's wasi-http does it: the
//! component — a WASI 0.2 `incoming-handler` or a WASI 0.3 `handler` — is
//! pre-instantiated once ([`Handler`]); every request gets a fresh store —
//! its own WASI context and deadline, its memory taken from the instance's
//! one budget — so requests share nothing and a crash dies with its store.
//! A language runtime that loaded an app is the exception: like the
//! process it stands for, it serves one request after another in a store
//! kept warm ([`super::warm`]).
//! At most [`concurrency`] requests run at once; the rest wait for a slot
//! (503 if none frees up before their deadline). A 0.3 handler may go on
//! writing its body after it returned the response: its store's event loop
//! runs until the body is sent or dropped.
//!
//! Apps are served on a listener by [`serve`], which hands each request to
//! the app a dispatch picks: the DEA serves all its instances on one port
//! (its gateway), each request to the instance its `X-Cf-InstanceId`
//! names, so an instance costs no socket of its own. From when an app is
//! served until it starts draining ([`HttpApp::run`]), it is listed in the
//! [`LocalHttpApps`] of its process, where the gateway and a router in the
//! same process find it.
//!
//! A trap, running out of memory or of handles is a crash of the instance
//! (reported on `crashes`); a request that runs past its deadline is cut
//! off with a 504 and is not.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, mpsc};
use wasmtime::PoolConcurrencyLimitError;
use wasmtime::Store;
use wasmtime::component::{Component, Instance, InstancePre};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p3;
use wasmtime_wasi_http::p3::bindings::{Service, ServicePre};

use super::Runtime;
use super::cpu::metered;
use super::ending::Ending;
use super::guest::{GuestState, Wasi};
use super::in_process::{Listed, LocalApps};
use super::limits::GuestLimits;
use super::preinit;
use super::snapshot_base::Compiling;
use super::warm::{self, Patience, Taken, WarmStores};
use crate::protocol::{INSTANCE_GONE, INSTANCE_ID};

/// Requests an instance runs at once: as many stores as its memory quota
/// holds, each counted at `store_bytes` and at least 4 MB (a small
/// component's store starts at about 1–2 MB), from 1 to 256. More would
/// not fail one by one as they grow: they wait for a slot.
pub fn concurrency(memory_bytes: u64, store_bytes: u64) -> usize {
    (memory_bytes / store_bytes.max(4 << 20)).clamp(1, 256) as usize
}

/// What one store of `component` takes before it allocates anything: its
/// largest memory's initial size (a language runtime's snapshot starts at
/// megabytes: the interpreter and the app's code), with a quarter more for
/// what a request allocates.
fn store_bytes(component: &Component) -> u64 {
    let initial = component.resources_required().and_then(|r| r.max_initial_memory_size).unwrap_or(0) << 16;
    initial + initial / 4
}

/// A pre-instantiated handler, by its WASI version.
enum Handler {
    P2(ProxyPre<GuestState>),
    P3(ServicePre<GuestState>),
}

/// The handlers of the components being served, so the instances of one
/// droplet share one (its imports resolved once, not per instance): each
/// kept while some app serves from it, by where its component's code is
/// loaded (which no other component takes while this one lives — and the
/// handler keeps it alive).
#[derive(Clone, Default)]
pub struct Handlers(Arc<Mutex<std::collections::HashMap<usize, std::sync::Weak<Handler>>>>);

impl Handler {
    /// The handler of `component`: the one served already, else a new one.
    fn of(runtime: &Runtime, component: &Component) -> Result<Arc<Handler>> {
        let key = component.image_range().start as usize;
        let mut handlers = runtime.handlers.0.lock().expect("http handlers");
        if let Some(handler) = handlers.get(&key).and_then(std::sync::Weak::upgrade) {
            return Ok(handler);
        }
        let pre = runtime.linker().instantiate_pre(component)?;
        let handler = Arc::new(match ServicePre::new(pre.clone()) {
            Ok(p3) => Handler::P3(p3),
            Err(_) => Handler::P2(ProxyPre::new(pre)?),
        });
        handlers.retain(|_, served| served.strong_count() > 0);
        handlers.insert(key, Arc::downgrade(&handler));
        Ok(handler)
    }
}

/// What new stores are made from.
#[derive(Clone)]
struct Code {
    handler: Arc<Handler>,
    /// Whether a new store loads the app (calls `initialize`) before its
    /// first request: it is made from the component a snapshot not yet
    /// compiled was taken of ([`super::snapshot_base`]).
    loads_app: bool,
    /// What a new store takes ([`store_bytes`]).
    store_bytes: u64,
}

/// The HTTP apps of this process, for a router in it (see [`super::in_process`]).
pub type LocalHttpApps = LocalApps<HttpApp>;

/// What an HTTP app's instance needs to make a store per request.
pub struct HttpApp {
    runtime: Runtime,
    code: RwLock<Code>,
    /// The snapshot compiling, to make stores from once it is compiled.
    snapshot: Mutex<Option<Compiling>>,
    /// Told when the snapshot has taken over.
    compiled: Notify,
    make_wasi: Box<dyn Fn() -> Result<WasiCtxBuilder> + Send + Sync>,
    limits: GuestLimits,
    request_timeout: Duration,
    slots: Arc<Semaphore>,
    /// How many slots there are (all free: nothing in flight).
    concurrency: usize,
    /// Stores kept between requests, for a language runtime's handler.
    warm: Option<Arc<WarmStores<Proxy>>>,
    /// Held by the one request deciding whether to make a store, until the
    /// store it makes is instantiated: so the memory it finds counts every
    /// store made before it, and two cannot both find room for one.
    making: Arc<tokio::sync::Mutex<()>>,
    crashes: mpsc::UnboundedSender<String>,
}

impl HttpApp {
    pub fn new(
        runtime: &Runtime,
        component: &Component,
        make_wasi: impl Fn() -> Result<WasiCtxBuilder> + Send + Sync + 'static,
        limits: GuestLimits,
        request_timeout: Duration,
        crashes: mpsc::UnboundedSender<String>,
    ) -> Result<HttpApp> {
        let handler = Handler::of(runtime, component)?;
        let warm = match *handler {
            Handler::P2(_) if preinit::is_preinitialisable(component, runtime.engine()) => Some(Arc::default()),
            _ => None,
        };
        let store_bytes = store_bytes(component);
        let slots = concurrency(limits.memory.limit_mb() << 20, store_bytes);
        tracing::debug!("serving {slots} requests at once, a store counted at {} KiB", store_bytes >> 10);
        Ok(HttpApp {
            runtime: runtime.clone(),
            code: RwLock::new(Code { handler, loads_app: false, store_bytes }),
            snapshot: Mutex::new(None),
            compiled: Notify::new(),
            make_wasi: Box::new(make_wasi),
            slots: Arc::new(Semaphore::new(slots)),
            concurrency: slots,
            warm,
            making: Arc::default(),
            limits,
            request_timeout,
            crashes,
        })
    }

    /// Serves from the component `new` was given — what a snapshot was
    /// taken of — with each new store loading the app, until `snapshot`
    /// is compiled; new stores are made from the snapshot after.
    pub fn until_compiled(self, snapshot: Compiling) -> HttpApp {
        self.code.write().expect("app code").loads_app = true;
        *self.snapshot.lock().expect("app snapshot") = Some(snapshot);
        self
    }

    /// New stores are made from `compiled` (the snapshot) from now on, if
    /// it compiled; else they go on loading the app themselves.
    fn take_over(&self, compiled: Result<Component>) {
        let code = compiled.and_then(|component| {
            let store_bytes = store_bytes(&component);
            Handler::of(&self.runtime, &component).map(|handler| Code { handler, loads_app: false, store_bytes })
        });
        match code {
            Ok(code) => {
                *self.code.write().expect("app code") = code;
                self.compiled.notify_waiters();
            }
            Err(e) => tracing::warn!("the snapshot cannot be served ({e:#}): stores go on loading the app"),
        }
    }

    /// Returns once the instance can answer its first request at once:
    /// at once when new stores start from a compiled snapshot; else when
    /// the app is loaded into its first store (kept for that request) or
    /// the snapshot has compiled, whichever comes first — an app that
    /// takes seconds to import (a framework) may be loaded later than its
    /// snapshot compiles. Requests at once after it wait for that store
    /// rather than load the app again each. A failure to load is the
    /// instance's crash, reported as a request's would be. Needs
    /// [`HttpApp::run`] running, which lets the snapshot take over.
    pub async fn ready(&self) {
        let compiled = self.compiled.notified();
        tokio::pin!(compiled);
        // Registered before looking, so a take-over in between is seen.
        compiled.as_mut().enable();
        if !self.code.read().expect("app code").loads_app {
            return;
        }
        tokio::select! {
            () = self.load_first_store() => {}
            () = compiled => {}
        }
    }

    async fn load_first_store(&self) {
        let Code { handler, loads_app, .. } = self.code.read().expect("app code").clone();
        let (Handler::P2(pre), Some(warm), true) = (&*handler, &self.warm, loads_app) else {
            return;
        };
        let Ok(mut store) = self.new_store(Instant::now() + self.request_timeout) else {
            return;
        };
        let (pre, warm, crashes) = (pre.clone(), warm.clone(), self.crashes.clone());
        let back = warm::Back(warm.lease());
        let load = async move {
            let _back = back;
            let instance = instantiate(pre.instance_pre(), true, &mut store, &crashes).await.ok()?;
            let proxy = Proxy::new(&mut store, &instance).ok()?;
            warm.keep(store, proxy);
            Some(())
        };
        let _ = super::spawn(metered(load, self.limits.cpu.clone())).await;
    }

    /// Looks after the app while it is served: once its snapshot compiles,
    /// new stores come from it; stores kept warm are trimmed when idle.
    /// When `drain` is cancelled it leaves `listed` (no new request reaches
    /// it) and returns once the requests in flight have finished.
    pub async fn run(self: Arc<Self>, listed: Listed<HttpApp>, drain: tokio_util::sync::CancellationToken) {
        if let Some(compiling) = self.snapshot.lock().expect("app snapshot").take() {
            let app = Arc::downgrade(&self);
            tokio::spawn(async move {
                let compiled = compiling.await.map_err(anyhow::Error::from).and_then(|compiled| compiled);
                if let Some(app) = app.upgrade() {
                    app.take_over(compiled);
                }
            });
        }
        match &self.warm {
            Some(warm) => {
                let mut trim = tokio::time::interval(warm::IDLE / 3);
                loop {
                    tokio::select! {
                        _ = trim.tick() => warm.trim(warm::IDLE),
                        _ = drain.cancelled() => break,
                    }
                }
            }
            None => drain.cancelled().await,
        }
        drop(listed);
        let in_flight = u32::try_from(self.concurrency).unwrap_or(u32::MAX);
        let _all_free = self.slots.acquire_many(in_flight).await;
    }

    /// Answers one request (a failure of the app's is an error response).
    pub async fn handle<B>(&self, req: hyper::Request<B>) -> hyper::Response<HyperOutgoingBody>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        match self.try_handle(req).await {
            Ok(response) => response,
            Err((status, message)) => plain(status, message),
        }
    }

    async fn try_handle<B>(&self, req: hyper::Request<B>) -> Result<hyper::Response<HyperOutgoingBody>, (u16, String)>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let deadline = Instant::now() + self.request_timeout;
        let slot = tokio::time::timeout_at(deadline.into(), self.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(internal)?;
        let crashes = self.crashes.clone();
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let Code { handler, loads_app, store_bytes } = self.code.read().expect("app code").clone();
        let mut lease = None;
        let run: BoxFuture<'static, Option<(u16, String)>> = match &*handler {
            Handler::P2(pre) => {
                let pre = pre.clone();
                let mut making = None;
                let kept = match &self.warm {
                    Some(warm) => {
                        let gate = self.making.clone().lock_owned();
                        making = Some(tokio::time::timeout_at(deadline.into(), gate).await.map_err(|_| busy())?);
                        // A new store that would load the app, or that the
                        // instance's memory has no room for, is worth
                        // waiting for a store out not to need.
                        let room = self.limits.memory.used() + store_bytes <= self.limits.memory.limit_mb() << 20;
                        let patience = if loads_app || !room { Patience::AnyStore } else { Patience::Returning };
                        match warm.take(deadline, patience).await {
                            Taken::Kept(store, proxy, leased) => {
                                lease = Some(leased);
                                making = None;
                                Some((store, proxy))
                            }
                            Taken::New(leased) => {
                                lease = Some(leased);
                                None
                            }
                        }
                    }
                    None => None,
                };
                // From here the store (taken, or about to be made) comes
                // back when `back` is dropped, whatever happens.
                let back = lease.clone().map(warm::Back);
                let (mut store, warm_proxy) = match kept {
                    Some((store, proxy)) => (store, Some(proxy)),
                    None => (self.new_store(deadline)?, None),
                };
                let request = store.data_mut().http().new_incoming_request(Scheme::Http, req).map_err(internal)?;
                let out = store.data_mut().http().new_response_outparam(sender).map_err(internal)?;
                let warm = self.warm.clone();
                Box::pin(async move {
                    let _back = back;
                    let _slot = slot;
                    let proxy = match warm_proxy {
                        Some(proxy) => proxy,
                        None => match instantiate(pre.instance_pre(), loads_app, &mut store, &crashes).await {
                            Ok(instance) => match Proxy::new(&mut store, &instance) {
                                Ok(proxy) => proxy,
                                Err(e) => return Some(cannot_start(&store, e)),
                            },
                            Err(failure) => return Some(failure),
                        },
                    };
                    drop(making);
                    if let Err(error) = proxy.wasi_http_incoming_handler().call_handle(&mut store, request, out).await {
                        return Some(failed(&store, error, &crashes));
                    }
                    // Kept before the slot frees: the next request finds it.
                    if let Some(warm) = warm {
                        warm.keep(store, proxy);
                    }
                    None
                })
            }
            Handler::P3(pre) => {
                let pre = pre.clone();
                let store = self.new_store(deadline)?;
                Box::pin(async move {
                    let _slot = slot;
                    handle_p3(pre, loads_app, store, req, sender, &crashes).await
                })
            }
        };
        let task = super::spawn(metered(run, self.limits.cpu.clone()));
        match receiver.await {
            Ok(Ok(response)) => Ok(match lease {
                Some(lease) => response.map(|body| SignalsDrop { body, _done: warm::Sent(lease) }.boxed_unsync()),
                None => response,
            }),
            Ok(Err(code)) => Err(bad_gateway(code)),
            Err(_) => match task.await {
                Ok(Some(failure)) => Err(failure),
                Ok(None) => Err((500, "500 Internal Server Error: the app did not answer\n".to_string())),
                Err(e) => Err((500, format!("500 Internal Server Error: {e}\n"))),
            },
        }
    }

    /// A store of its own for a request that must end by `deadline`.
    fn new_store(&self, deadline: Instant) -> Result<Store<GuestState>, (u16, String)> {
        let mut wasi = (self.make_wasi)().map_err(internal)?;
        Ok(self.runtime.store(Wasi::Component(wasi.build()), self.limits.clone(), Some(deadline)))
    }
}

/// Accepts connections on `listener` until `drain` is cancelled, each
/// request answered by the app `dispatch` picks for it by its headers
/// (none: [`instance_gone`]); then finishes the requests in flight and
/// closes every connection (idle keep-alive ones at once) before it
/// returns. Connections still open when the future is dropped are dropped
/// with it.
pub async fn serve<D>(listener: TcpListener, drain: tokio_util::sync::CancellationToken, dispatch: D)
where
    D: Fn(&hyper::HeaderMap) -> Option<Arc<HttpApp>> + Send + Sync + 'static,
{
    let dispatch = Arc::new(dispatch);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // Answers go out whole, not held back by Nagle for an ACK.
                let _ = stream.set_nodelay(true);
                let dispatch = dispatch.clone();
                let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let app = dispatch(req.headers());
                    async move {
                        Ok::<_, std::convert::Infallible>(match app {
                            Some(app) => app.handle(req).await,
                            None => instance_gone(req.headers()),
                        })
                    }
                });
                let connection = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                connections.spawn(async move {
                    let _ = connection.await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = drain.cancelled() => break,
        }
    }
    drop(listener);
    tokio::join!(graceful.shutdown(), async { while connections.join_next().await.is_some() {} });
}

/// The answer to a request for an instance not served here (any more): a
/// router takes it as the instance gone, and tries another.
fn instance_gone(headers: &hyper::HeaderMap) -> hyper::Response<HyperOutgoingBody> {
    let id = headers.get(INSTANCE_ID).and_then(|id| id.to_str().ok()).unwrap_or("named");
    let mut answer = plain(503, format!("503 Service Unavailable: no instance {id} here\n"));
    answer.headers_mut().insert(INSTANCE_GONE, hyper::header::HeaderValue::from_static("true"));
    answer
}

/// What a WASI 0.3 handler's store does with one request: the response
/// goes out on `sender` as soon as `handle` returns it; the store's event
/// loop then runs on (the guest's tasks writing the body) until the body
/// is sent or dropped. The failure, if the request failed.
async fn handle_p3<B>(
    pre: ServicePre<GuestState>,
    loads_app: bool,
    mut store: Store<GuestState>,
    req: hyper::Request<B>,
    sender: tokio::sync::oneshot::Sender<Result<hyper::Response<HyperOutgoingBody>, ErrorCode>>,
    crashes: &mpsc::UnboundedSender<String>,
) -> Option<(u16, String)>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let service = match instantiate(pre.instance_pre(), loads_app, &mut store, crashes).await {
        Ok(instance) => match Service::new(&mut store, &instance) {
            Ok(service) => service,
            Err(e) => return Some(cannot_start(&store, e)),
        },
        Err(failure) => return Some(failure),
    };
    let (request, request_io) = p3::Request::from_http(store.data_mut().http().hooks, req);
    let (body_done, body_gone) = tokio::sync::oneshot::channel::<()>();
    let answered = store
        .run_concurrent(async move |accessor| -> wasmtime::Result<Option<(u16, String)>> {
            let response = match service.handle(accessor, request).await? {
                Ok(response) => response,
                Err(code) => return Ok(Some(bad_gateway(code))),
            };
            let response = accessor.with(|mut store| response.into_http(&mut store, request_io))?;
            let _ = sender.send(Ok(response.map(|body| SignalsDrop { body, _done: body_done }.boxed_unsync())));
            let _ = body_gone.await;
            Ok(None)
        })
        .await
        .and_then(|answered| answered);
    answered.unwrap_or_else(|error| Some(failed(&store, error, crashes)))
}

/// An instance of the app in `store`; when `loads_app`, with the app
/// loaded by its `initialize` (a failure to load is a crash).
async fn instantiate(
    pre: &InstancePre<GuestState>,
    loads_app: bool,
    store: &mut Store<GuestState>,
    crashes: &mpsc::UnboundedSender<String>,
) -> Result<Instance, (u16, String)> {
    let instance = pre.instantiate_async(&mut *store).await.map_err(|e| cannot_start(store, e))?;
    if loads_app {
        let initialize = preinit::initialize_func(store, &instance)
            .ok_or_else(|| internal(format!("{} has no initialize", preinit::PREINIT)))?;
        match initialize.call_async(&mut *store, ()).await {
            Ok((Ok(()),)) => {}
            Ok((Err(message),)) => {
                let _ = crashes.send(format!("the app failed to load: {message}"));
                return Err((500, "500 Internal Server Error: the app failed to load\n".to_string()));
            }
            Err(e) => return Err(failed(store, e, crashes)),
        }
    }
    Ok(instance)
}

fn internal(e: impl std::fmt::Display) -> (u16, String) {
    (500, format!("500 Internal Server Error: {e}\n"))
}

fn busy() -> (u16, String) {
    (503, "503 Service Unavailable: the instance is busy\n".to_string())
}

/// The answer when the app answered with an error code instead of a response.
fn bad_gateway(code: impl std::fmt::Debug) -> (u16, String) {
    (502, format!("502 Bad Gateway: the app failed to answer: {code:?}\n"))
}

/// The answer when a request's instance could not be made. Out of pool
/// slots or of the instance's memory budget is not the app's fault: the
/// request waits for capacity (503).
fn cannot_start(store: &Store<GuestState>, error: wasmtime::Error) -> (u16, String) {
    let at_capacity =
        error.is::<PoolConcurrencyLimitError>() || !matches!(store.data().ending(&error), Ending::Trap(_));
    tracing::debug!(
        "a store cannot start ({}): {error:#}",
        if at_capacity { "at capacity" } else { "the app's fault" }
    );
    if at_capacity { busy() } else { (500, format!("500 Internal Server Error: the app cannot start: {error:#}\n")) }
}

/// The answer when the guest failed handling a request: past its deadline
/// a 504; anything else crashed the instance (reported on `crashes`).
fn failed(store: &Store<GuestState>, error: wasmtime::Error, crashes: &mpsc::UnboundedSender<String>) -> (u16, String) {
    match store.data().ending(&error) {
        Ending::Deadline => (504, "504 Gateway Timeout: the app took too long to answer\n".to_string()),
        ending => {
            let _ = crashes.send(ending.to_string());
            (500, "500 Internal Server Error: the app crashed\n".to_string())
        }
    }
}

/// A response body that tells, by dropping `_done`, that the server is
/// through with it (sent whole, or the client went away).
struct SignalsDrop<B, D> {
    body: B,
    _done: D,
}

impl<B: hyper::body::Body + Unpin, D: Unpin> hyper::body::Body for SignalsDrop<B, D> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

fn plain(status: u16, message: String) -> hyper::Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from(message)).map_err(|never| match never {}).boxed_unsync();
    hyper::Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body)
        .expect("static response parts are valid")
}
