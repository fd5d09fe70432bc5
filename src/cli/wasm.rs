//! `wf wasm run [--dir HOST::GUEST]… [--env K=V]… [--memory 64M]
//! [--timeout S] FILE [ARGS…]`: run a wasi:cli component (or a WASI
//! preview 1 module) here, the way the platform runs guests, so buildpack
//! and app authors can try their code. Standard streams pass through; the
//! guest's exit code is `wf`'s.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wasmtime_wasi::{FsPerms, WasiCtx};

use crate::runtime::limits::Limits;
use crate::runtime::{Runtime, command};

pub struct RunOptions {
    pub file: String,
    pub args: Vec<String>,
    /// `HOST::GUEST` (or `DIR`, the same path on both sides).
    pub dirs: Vec<String>,
    /// `KEY=value`.
    pub env: Vec<String>,
    pub memory_mb: u64,
    pub timeout: Option<Duration>,
}

/// Runs the program; returns its exit code.
pub async fn run(options: RunOptions) -> Result<i32> {
    let bytes = std::fs::read(&options.file).with_context(|| format!("reading {}", options.file))?;
    let component = command::as_component(&bytes)?;
    let cache = dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("wasmfoundry/compiled");
    let runtime = Runtime::new(&cache)?;

    let mut wasi = WasiCtx::builder();
    let program =
        std::path::Path::new(&options.file).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    wasi.inherit_stdio().arg(program).args(&options.args);
    for pair in &options.env {
        let Some((key, value)) = pair.split_once('=') else { bail!("--env takes KEY=value, not {pair:?}") };
        wasi.env(key, value);
    }
    for dir in &options.dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        wasi.preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(|e| anyhow::Error::from(e).context(format!("opening {host}")))?;
    }
    let component = runtime.component(&component).await?;
    let limits = Limits::memory(options.memory_mb * 1024 * 1024);
    let deadline = options.timeout.map(|timeout| Instant::now() + timeout);
    let exit = command::run(&runtime, &component, wasi.build(), limits, deadline).await?;
    if let Some(ending) = &exit.ending {
        eprintln!("wf: the guest was stopped: {ending}");
    }
    Ok(exit.code)
}
