//! Serving a wasi:http component, as wasmtime's wasi-http does it: the
//! component is pre-instantiated once ([`ProxyPre`]); every request gets a
//! fresh store — its own WASI context and deadline, its memory taken from
//! the instance's one budget — so requests share nothing and a crash dies
//! with its store. At most [`concurrency`] requests run at once; the rest
//! wait for a slot (503 if none frees up before their deadline).
//!
//! A trap, running out of memory or of handles is a crash of the instance
//! (reported on `crashes`); a request that runs past its deadline is cut
//! off with a 504 and is not.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use wasmtime::PoolConcurrencyLimitError;
use wasmtime::component::Component;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::Runtime;
use super::cpu::metered;
use super::guest::{GuestState, Wasi};
use super::limits::{Ending, Limits};
use super::linker::linker;

/// Requests an instance runs at once: one per 4 MB of its memory quota
/// (a small component's store starts at about 1–2 MB), from 1 to 256.
pub fn concurrency(memory_bytes: u64) -> usize {
    (memory_bytes / (4 << 20)).clamp(1, 256) as usize
}

/// What an HTTP app's instance needs to make a store per request.
pub struct HttpApp {
    runtime: Runtime,
    pre: ProxyPre<GuestState>,
    make_wasi: Box<dyn Fn() -> Result<WasiCtxBuilder> + Send + Sync>,
    limits: Limits,
    request_timeout: Duration,
    slots: Arc<Semaphore>,
    crashes: mpsc::UnboundedSender<String>,
}

impl HttpApp {
    pub fn new(
        runtime: &Runtime,
        component: &Component,
        make_wasi: impl Fn() -> Result<WasiCtxBuilder> + Send + Sync + 'static,
        limits: Limits,
        request_timeout: Duration,
        crashes: mpsc::UnboundedSender<String>,
    ) -> Result<HttpApp> {
        let pre = ProxyPre::new(linker(runtime.engine())?.instantiate_pre(component)?)?;
        Ok(HttpApp {
            runtime: runtime.clone(),
            pre,
            make_wasi: Box::new(make_wasi),
            slots: Arc::new(Semaphore::new(concurrency(limits.memory.limit_mb() << 20))),
            limits,
            request_timeout,
            crashes,
        })
    }

    /// Accepts connections until `drain` is cancelled, then finishes the
    /// requests in flight and closes every connection (idle keep-alive
    /// ones at once) before it returns. Connections still open when the
    /// future is dropped are dropped with it.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, drain: tokio_util::sync::CancellationToken) {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    // Answers go out whole, not held back by Nagle for an ACK.
                    let _ = stream.set_nodelay(true);
                    let app = self.clone();
                    let service = hyper::service::service_fn(move |req| {
                        let app = app.clone();
                        async move { Ok::<_, std::convert::Infallible>(app.handle(req).await) }
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

    async fn handle(&self, req: hyper::Request<hyper::body::Incoming>) -> hyper::Response<HyperOutgoingBody> {
        match self.try_handle(req).await {
            Ok(response) => response,
            Err((status, message)) => plain(status, message),
        }
    }

    async fn try_handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> Result<hyper::Response<HyperOutgoingBody>, (u16, String)> {
        fn internal(e: impl std::fmt::Display) -> (u16, String) {
            (500, format!("500 Internal Server Error: {e}\n"))
        }
        let deadline = Instant::now() + self.request_timeout;
        let busy = || (503, "503 Service Unavailable: the instance is busy\n".to_string());
        let slot = tokio::time::timeout_at(deadline.into(), self.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(internal)?;
        let mut wasi = (self.make_wasi)().map_err(internal)?;
        let mut store = self.runtime.store(Wasi::Component(wasi.build()), self.limits.clone(), Some(deadline));
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let request = store.data_mut().http().new_incoming_request(Scheme::Http, req).map_err(internal)?;
        let out = store.data_mut().http().new_response_outparam(sender).map_err(internal)?;
        let pre = self.pre.clone();
        let crashes = self.crashes.clone();
        let run = async move {
            let _slot = slot;
            let proxy = match pre.instantiate_async(&mut store).await {
                Ok(proxy) => proxy,
                Err(e) => {
                    // Out of pool slots or of the instance's memory budget is
                    // not the app's fault: this request waits for capacity.
                    let at_capacity =
                        e.is::<PoolConcurrencyLimitError>() || !matches!(store.data().ending(&e), Ending::Trap(_));
                    return Some(if at_capacity {
                        busy()
                    } else {
                        (500, format!("500 Internal Server Error: the app cannot start: {e:#}\n"))
                    });
                }
            };
            let error = proxy.wasi_http_incoming_handler().call_handle(&mut store, request, out).await.err()?;
            match store.data().ending(&error) {
                Ending::Deadline => Some((504, "504 Gateway Timeout: the app took too long to answer\n".to_string())),
                ending => {
                    let _ = crashes.send(ending.to_string());
                    Some((500, "500 Internal Server Error: the app crashed\n".to_string()))
                }
            }
        };
        let task = super::spawn(metered(run, self.limits.cpu.clone()));
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => Err((502, format!("502 Bad Gateway: the app failed to answer: {code:?}\n"))),
            Err(_) => match task.await {
                Ok(Some(failure)) => Err(failure),
                Ok(None) => Err((500, "500 Internal Server Error: the app did not answer\n".to_string())),
                Err(e) => Err((500, format!("500 Internal Server Error: {e}\n"))),
            },
        }
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
