//! Running WebAssembly here, the way the platform runs guests, so buildpack
//! and app authors can try their code:
//!
//! - `wf wasm run [GUEST FLAGS] FILE [ARGS…]`: a wasi:cli component (WASI
//!   0.2 or 0.3) or a WASI preview 1 module, to its end. Standard streams
//!   pass through; the guest's exit code is `wf`'s.
//! - `wf wasm serve [GUEST FLAGS] [--addr A] FILE`: a wasi:http component
//!   (WASI 0.2 or 0.3), a store per request as an instance serves it, until
//!   interrupted — as `wasmtime serve`, whose first line it prints alike.
//!
//! Guest flags: `--dir HOST::GUEST`, `--env K=V`, `--memory 64M`,
//! `--timeout S` (of the run, or of each request), `--inherit-network`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use crate::runtime::http::{self, HttpApp, LocalHttpApps};
use crate::runtime::limits::GuestLimits;
use crate::runtime::network::{SocketCheck, allow_network};
use crate::runtime::{Runtime, command};

/// A request's time limit under `serve` when `--timeout` says none.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct GuestOptions {
    pub file: String,
    pub args: Vec<String>,
    /// `HOST::GUEST` (or `DIR`, the same path on both sides).
    pub dirs: Vec<String>,
    /// `KEY=value`.
    pub env: Vec<String>,
    /// Any address may be bound, connected to and sent to.
    pub inherit_network: bool,
    pub memory_mb: u64,
    pub timeout: Option<Duration>,
}

impl GuestOptions {
    /// The guest's WASI context, as `wasmtime run` would make it: stdio
    /// inherited, sockets allowed to be made though no address may be used
    /// without `--inherit-network`.
    fn wasi(&self) -> Result<WasiCtxBuilder> {
        let mut wasi = WasiCtx::builder();
        let name =
            std::path::Path::new(&self.file).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        wasi.inherit_stdio().arg(name).args(&self.args).allow_tcp(true).allow_udp(true);
        for pair in &self.env {
            let Some((key, value)) = pair.split_once('=') else { bail!("--env takes KEY=value, not {pair:?}") };
            wasi.env(key, value);
        }
        for dir in &self.dirs {
            let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
            wasi.preopened_dir(host, guest, FsPerms::ReadWrite)
                .map_err(|e| anyhow::Error::from(e).context(format!("opening {host}")))?;
        }
        if let Some(any_address) = self.network() {
            allow_network(&mut wasi, any_address);
        }
        Ok(wasi)
    }

    fn network(&self) -> Option<SocketCheck> {
        self.inherit_network.then(|| Arc::new(|_, _| true) as SocketCheck)
    }

    fn limits(&self) -> GuestLimits {
        GuestLimits { network: self.network(), ..GuestLimits::memory(self.memory_mb * 1024 * 1024) }
    }

    fn runtime(&self) -> Result<(Runtime, Vec<u8>)> {
        let bytes = std::fs::read(&self.file).with_context(|| format!("reading {}", self.file))?;
        let cache = dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("wasmfoundry/compiled");
        Ok((Runtime::new(&cache)?, bytes))
    }
}

/// Runs the program; returns its exit code.
pub async fn run(options: GuestOptions) -> Result<i32> {
    let (runtime, bytes) = options.runtime()?;
    let program = runtime.compile(&bytes).await?;
    let deadline = options.timeout.map(|timeout| Instant::now() + timeout);
    let exit = command::run(&runtime, &program, options.wasi()?, options.limits(), deadline).await?;
    if let Some(ending) = &exit.ending {
        eprintln!("wf: the guest was stopped: {ending}");
    }
    Ok(exit.code)
}

/// Serves the component on `addr` until ctrl-c, then finishes the
/// requests in flight.
pub async fn serve(options: GuestOptions, addr: SocketAddr) -> Result<()> {
    let (runtime, bytes) = options.runtime()?;
    let component = runtime.component(&bytes).await?;
    options.wasi()?; // its flags checked once, before the first request
    let (limits, timeout) = (options.limits(), options.timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT));
    let (crashes, mut crashed) = tokio::sync::mpsc::unbounded_channel();
    let app = HttpApp::new(&runtime, &component, move || options.wasi(), limits, timeout, crashes)
        .map_err(|e| e.context("the component is not a wasi:http handler"))?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
    eprintln!("Serving HTTP on http://{}/", listener.local_addr()?);
    tokio::spawn(async move {
        while let Some(crash) = crashed.recv().await {
            eprintln!("wf: a request crashed the guest: {crash}");
        }
    });
    let drain = tokio_util::sync::CancellationToken::new();
    let interrupted = drain.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        interrupted.cancel();
    });
    let app = Arc::new(app);
    let listed = LocalHttpApps::default().list("wf-wasm-serve", &app);
    let running = tokio::spawn(app.clone().run(listed, drain.clone()));
    http::serve(listener, drain, move |_| Some(app.clone())).await;
    let _ = running.await;
    Ok(())
}
