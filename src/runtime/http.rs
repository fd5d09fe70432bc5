//! Serving a wasi:http component, as wasmtime's wasi-http does it: the
//! component is pre-instantiated once ([`ProxyPre`]); every request gets a
//! fresh store — its own WASI context, memory quota and epoch deadline — so
//! requests share nothing and a crash dies with its store.
//!
//! A trap is a crash of the instance (reported on `crashes`); a request
//! that runs past its deadline is cut off with a 504 and is not.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wasmtime::Store;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::Runtime;
use super::guest::{GuestState, Quota};

/// What an HTTP app's instance needs to make a store per request.
pub struct HttpApp {
    pre: ProxyPre<GuestState>,
    make_wasi: Box<dyn Fn() -> Result<WasiCtx> + Send + Sync>,
    memory_bytes: u64,
    request_timeout: Duration,
    crashes: mpsc::UnboundedSender<String>,
    /// Linear memory held by requests in flight.
    memory_in_use: Arc<AtomicU64>,
}

impl HttpApp {
    pub fn new(
        runtime: &Runtime,
        component: &Component,
        make_wasi: impl Fn() -> Result<WasiCtx> + Send + Sync + 'static,
        memory_bytes: u64,
        request_timeout: Duration,
        crashes: mpsc::UnboundedSender<String>,
    ) -> Result<HttpApp> {
        let mut linker = Linker::new(runtime.engine());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let pre = ProxyPre::new(linker.instantiate_pre(component)?)?;
        Ok(HttpApp {
            pre,
            make_wasi: Box::new(make_wasi),
            memory_bytes,
            request_timeout,
            crashes,
            memory_in_use: Arc::default(),
        })
    }

    /// A live count of the linear memory the app's requests hold.
    pub fn memory_in_use(&self) -> Arc<AtomicU64> {
        self.memory_in_use.clone()
    }

    /// Accepts connections until the returned future is dropped; every
    /// connection still open then is dropped with it.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let app = self.clone();
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let app = app.clone();
                            async move { Ok::<_, std::convert::Infallible>(app.handle(req).await) }
                        });
                        let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
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
        let wasi = (self.make_wasi)().map_err(internal)?;
        let quota = Quota::new(self.memory_bytes).counted_in(self.memory_in_use.clone());
        let mut store = Store::new(self.pre.engine(), GuestState::new(wasi, quota));
        store.limiter(|state| &mut state.quota);
        store.set_epoch_deadline(Runtime::ticks(self.request_timeout));
        store.epoch_deadline_trap();
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let request = store.data_mut().http().new_incoming_request(Scheme::Http, req).map_err(internal)?;
        let out = store.data_mut().http().new_response_outparam(sender).map_err(internal)?;
        let pre = self.pre.clone();
        let crashes = self.crashes.clone();
        let task = tokio::spawn(async move {
            let result = match pre.instantiate_async(&mut store).await {
                Ok(proxy) => proxy.wasi_http_incoming_handler().call_handle(&mut store, request, out).await,
                Err(e) => Err(e),
            };
            let error = result.err()?;
            if store.data().quota.exceeded {
                let _ = crashes.send(format!(
                    "out of memory: the instance needed more than its {} MB quota",
                    store.data().quota.limit_mb()
                ));
                return Some((500, "500 Internal Server Error: the app ran out of memory\n".to_string()));
            }
            if error.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
                return Some((504, "504 Gateway Timeout: the app took too long to answer\n".to_string()));
            }
            let _ = crashes.send(format!("the app crashed: {error:#}"));
            Some((500, "500 Internal Server Error: the app crashed\n".to_string()))
        });
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
