//! `wf wasm run [--dir HOST::GUEST]… [--env K=V]… [--memory 64M]
//! [--timeout S] [--inherit-network] FILE [ARGS…]`: run a wasi:cli component (WASI 0.2 or
//! 0.3) or a WASI preview 1 module here, the way the platform runs guests, so buildpack
//! and app authors can try their code. Standard streams pass through; the
//! guest's exit code is `wf`'s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wasmtime_wasi::{FsPerms, WasiCtx};

use crate::runtime::limits::Limits;
use crate::runtime::network::{SocketCheck, allow_network};
use crate::runtime::{Runtime, command};

pub struct RunOptions {
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

/// Runs the program; returns its exit code.
pub async fn run(options: RunOptions) -> Result<i32> {
    let bytes = std::fs::read(&options.file).with_context(|| format!("reading {}", options.file))?;
    let cache = dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("wasmfoundry/compiled");
    let runtime = Runtime::new(&cache)?;

    let mut wasi = WasiCtx::builder();
    let name =
        std::path::Path::new(&options.file).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    // As `wasmtime run`: sockets may be made, though no address may be used
    // without --inherit-network.
    wasi.inherit_stdio().arg(name).args(&options.args).allow_tcp(true).allow_udp(true);
    for pair in &options.env {
        let Some((key, value)) = pair.split_once('=') else { bail!("--env takes KEY=value, not {pair:?}") };
        wasi.env(key, value);
    }
    for dir in &options.dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        wasi.preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(|e| anyhow::Error::from(e).context(format!("opening {host}")))?;
    }
    let program = runtime.compile(&bytes).await?;
    let mut limits = Limits::memory(options.memory_mb * 1024 * 1024);
    if options.inherit_network {
        let any_address: SocketCheck = Arc::new(|_, _| true);
        allow_network(&mut wasi, any_address.clone());
        limits.network = Some(any_address);
    }
    let deadline = options.timeout.map(|timeout| Instant::now() + timeout);
    let exit = command::run(&runtime, &program, wasi, limits, deadline).await?;
    if let Some(ending) = &exit.ending {
        eprintln!("wf: the guest was stopped: {ending}");
    }
    Ok(exit.code)
}
