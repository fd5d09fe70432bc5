//! The wasmtime glue staging and instances share: one [`Runtime`] (engine
//! with async support and the component model's async ABI (WASI 0.3),
//! epoch interruption ticking every [`EPOCH_TICK`] and the pooling instance
//! allocator), compiled guests — components, or WASI preview 1 core
//! modules ([`Compiled`]) — cached on disk by content and engine, and
//! stores that run a guest within its [`GuestLimits`] ([`limits`], [`cpu`],
//! [`network`], [`linker`], [`guest`]). [`buildpack`] runs buildpack
//! components; [`http`] serves wasi:http apps (found by a router in the
//! same process through [`in_process`]; a language runtime's stores kept
//! between requests by [`warm`]); [`command`] runs wasi:cli
//! programs and preview 1 commands.

pub mod buildpack;
pub mod command;
pub mod cpu;
pub mod ending;
mod function_cache;
pub mod guest;
pub mod http;
pub mod in_process;
mod instrumented;
pub mod limits;
pub mod linker;
pub mod network;
pub mod preinit;
pub mod snapshot_base;
mod warm;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wasmtime::component::Component;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Module, PoolingAllocationConfig, Precompiled, ProfilingStrategy, Store,
};

use self::guest::{GuestState, Wasi};
use self::limits::GuestLimits;
use crate::blobstore::sha1_hex;
use crate::file_cache;

/// How often the epoch advances: a guest running wasm yields its thread
/// at least this often.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Runs a future that executes guest code on the threads guests run on,
/// apart from the platform's own (CC, router, bus, HTTP front ends): a
/// guest that computes can delay other guests by a tick, never the
/// platform. The guests' I/O is polled every few ticks even when every
/// guest is busy. Guests get a thread per core, as a cell's app
/// processes may use every core: with one fewer (tried to keep a core for
/// the platform), an app from source on 2 cores was held to one core
/// while the other idled a quarter of the time (hello-python 3,270 →
/// 3,670 requests/s with both, hello-js 5,290 → 5,370, hello-http's p99
/// unchanged at 16 connections); the platform's threads still get their
/// turn from the kernel, and a guest yields its thread every epoch tick.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    static GUESTS: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    let guests = GUESTS.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("wasm-guest")
            .event_interval(8)
            .enable_all()
            .build()
            .expect("the guest threads start")
    });
    guests.spawn(future)
}

#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    /// Where compiled components are kept between runs.
    cache_dir: PathBuf,
    /// Guests compiled or loaded by this process, by cache key; a burst
    /// of starts of one droplet waits for a single compilation.
    loaded: Arc<Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Compiled>>>>>,
    function_counts: Arc<function_cache::Counts>,
    /// The linker of component guests, made once (it holds every WASI
    /// function: making one per start would cost each start its time).
    linker: Arc<wasmtime::component::Linker<guest::GuestState>>,
    /// HTTP handlers pre-instantiated, by component: the instances of one
    /// droplet share one (see [`http`]).
    handlers: http::Handlers,
}

/// A guest's code, compiled for this engine.
#[derive(Clone)]
pub enum Compiled {
    Component(Component),
    /// A WASI preview 1 core module, run on wasmtime-wasi's own preview 1.
    Module(Module),
}

impl Compiled {
    /// Whether `bytes` hold a core module (version 1) rather than a
    /// component (a layer-1 binary).
    fn is_core_module(bytes: &[u8]) -> bool {
        bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
    }

    /// The component, for what runs only components (buildpacks, HTTP apps).
    pub fn into_component(self) -> Result<Component> {
        match self {
            Compiled::Component(component) => Ok(component),
            Compiled::Module(_) => bail!("a WASI preview 1 module where a component is needed"),
        }
    }
}

/// Whether the kernel has the PAGEMAP_SCAN ioctl (Linux 6.7 and later),
/// which wasmtime then uses to find a slot's dirty pages.
fn pagemap_scan_supported() -> bool {
    let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") else { return false };
    let mut numbers = release.trim().split(|c: char| !c.is_ascii_digit()).map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    (major, minor) >= (6, 7)
}

/// `WF_WASM_PROFILER=perfmap` (or `jitdump`) tells `perf` the names of
/// guests' functions, as `wasmtime run --profile` does.
fn profiler_from_env() -> ProfilingStrategy {
    match std::env::var("WF_WASM_PROFILER").as_deref() {
        Err(_) | Ok("") => ProfilingStrategy::None,
        Ok("perfmap") => ProfilingStrategy::PerfMap,
        Ok("jitdump") => ProfilingStrategy::JitDump,
        Ok(other) => {
            tracing::warn!("WF_WASM_PROFILER={other} is not perfmap or jitdump: no profiler");
            ProfilingStrategy::None
        }
    }
}

/// Compiled code from the disk cache, if it is there and loads.
fn load_compiled(engine: &Engine, path: &Path) -> Option<Compiled> {
    // SAFETY: the file was written by `serialize` of an engine with the
    // same compatibility hash (it is in the name), in a directory only this
    // process's kind writes.
    let compiled = match Engine::detect_precompiled_file(path) {
        Ok(Some(Precompiled::Component)) => {
            unsafe { Component::deserialize_file(engine, path) }.map(Compiled::Component).ok()
        }
        Ok(Some(Precompiled::Module)) => unsafe { Module::deserialize_file(engine, path) }.map(Compiled::Module).ok(),
        _ => None,
    };
    if compiled.is_some() {
        file_cache::touch(path);
    }
    compiled
}

impl Runtime {
    pub fn new(cache_dir: &Path) -> Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true).wasm_component_model_async(true).epoch_interruption(true);
        // Slots for memories, tables and instances are reserved up front and
        // reused, so a request's store costs no mmap (as `wasmtime serve`).
        let mut pool = PoolingAllocationConfig::default();
        pool.table_elements(100_000);
        // A used slot's memory is put back as it was by writing over the
        // pages the store dirtied — Linux's PAGEMAP_SCAN finds them — up to
        // 16 MB of it (and 64 KB of table) kept resident; only the rest is
        // madvised away, in batches. Each madvise costs page faults on reuse
        // and a TLB shootdown on every core. Measured with `wf bench
        // languages`, against the first MB rewritten and no scan:
        // hello-http 5,263 → 9,526 requests/s, hello-js 1,178 → 1,925,
        // hello-python 243 → 283. Without the scan the kept part is
        // rewritten whole, dirty or not: then only the first MB is kept.
        let keep_resident = if pagemap_scan_supported() { 16 << 20 } else { 1 << 20 };
        pool.linear_memory_keep_resident(keep_resident)
            .table_keep_resident(64 << 10)
            .decommit_batch_size(16)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        // Memories start as copy-on-write mappings of the module's image
        // (wasmtime's default): a request's store touches a few pages of a
        // language runtime's snapshot (15 MB for Python) instead of copying
        // all of it. Measured with `wf bench languages`: Python 93 → 202
        // requests/s, JavaScript 624 → 840, a Rust component unchanged.
        config.memory_init_cow(true);
        config.profiler(profiler_from_env());
        std::fs::create_dir_all(cache_dir).with_context(|| format!("creating {}", cache_dir.display()))?;
        let functions = function_cache::FunctionCache::new(cache_dir.join("functions"))?;
        let function_counts = functions.counts();
        config.enable_incremental_compilation(Arc::new(functions))?;
        let engine = Engine::new(&config)?;
        let weak = engine.weak();
        std::thread::Builder::new().name("wasm-epoch".into()).spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })?;
        let linker = Arc::new(linker::linker(&engine)?);
        Ok(Runtime {
            engine,
            cache_dir: cache_dir.to_path_buf(),
            loaded: Arc::default(),
            function_counts,
            linker,
            handlers: http::Handlers::default(),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker of component guests.
    pub fn linker(&self) -> &wasmtime::component::Linker<guest::GuestState> {
        &self.linker
    }

    /// A store for one run of a guest, within `limits` and (if given) cut
    /// off at `deadline`. It yields to the async runtime every epoch tick.
    pub fn store(&self, wasi: Wasi, limits: GuestLimits, deadline: Option<Instant>) -> Store<GuestState> {
        let mut store = Store::new(&self.engine, GuestState::new(wasi, limits, deadline));
        store.limiter(|state| state);
        store.epoch_deadline_callback(GuestState::on_tick);
        store.set_epoch_deadline(1);
        store
    }

    /// The component in `bytes` (for what runs only components:
    /// buildpacks, HTTP apps).
    pub async fn component(&self, bytes: &[u8]) -> Result<Component> {
        self.compile(bytes).await?.into_component()
    }

    /// The component or core module in `bytes`, compiled at most once per
    /// content and engine build: from memory, else from the disk cache,
    /// else compiled (off the async threads) and cached.
    pub async fn compile(&self, bytes: &[u8]) -> Result<Compiled> {
        self.compile_known(&sha1_hex(bytes), bytes).await
    }

    /// [`Runtime::compile`] of `bytes` whose SHA1 the caller has computed.
    pub async fn compile_known(&self, sha1: &str, bytes: &[u8]) -> Result<Compiled> {
        let key = self.key(sha1);
        let path = self.cache_file(&key);
        let cell = self.loaded.lock().expect("component cache").entry(key).or_default().clone();
        if cell.initialized() {
            // A use from memory is a use of the file, for the cache's order.
            file_cache::touch(&path);
        }
        let compiled = cell
            .get_or_try_init(|| async {
                let path = path.clone();
                let engine = self.engine.clone();
                let bytes = bytes.to_vec();
                let counts = self.function_counts.clone();
                tokio::task::spawn_blocking(move || -> Result<Compiled> {
                    if let Some(compiled) = load_compiled(&engine, &path) {
                        return Ok(compiled);
                    }
                    let began = Instant::now();
                    let before = counts.read();
                    let (compiled, serialized) = if Compiled::is_core_module(&bytes) {
                        let module = Module::new(&engine, &bytes)
                            .map_err(|e| anyhow::Error::from(e).context("compiling the module"))?;
                        let serialized = module.serialize()?;
                        (Compiled::Module(module), serialized)
                    } else {
                        let component = Component::new(&engine, &bytes)
                            .map_err(|e| anyhow::Error::from(e).context("compiling the component"))?;
                        let serialized = component.serialize()?;
                        (Compiled::Component(component), serialized)
                    };
                    let after = counts.read();
                    tracing::debug!(
                        "compiled {} KB of wasm in {} ms: {} functions from the cache, {} compiled ({} KB)",
                        bytes.len() / 1024,
                        began.elapsed().as_millis(),
                        after.0 - before.0,
                        after.1 - before.1,
                        (after.2 - before.2) / 1024
                    );
                    if let Err(e) = crate::write_aside::content_addressed(&path, &serialized) {
                        tracing::debug!("keeping compiled code at {}: {e}", path.display());
                    }
                    Ok(compiled)
                })
                .await?
            })
            .await?;
        Ok(compiled.clone())
    }

    /// Lets go of the compiled code whose cache files named `names` were
    /// removed ([`file_cache::trim`]): what this runtime holds in memory
    /// follows its cache on disk. Whoever runs the code holds it still.
    pub fn forget(&self, names: &[String]) {
        let mut loaded = self.loaded.lock().expect("component cache");
        for key in names.iter().filter_map(|name| name.strip_suffix(".cwasm")) {
            loaded.remove(key);
        }
    }

    /// Whether the guest whose bytes have SHA1 `sha1` is compiled already
    /// (in memory or on disk): [`Runtime::compile`] would only load it.
    pub fn is_compiled(&self, sha1: &str) -> bool {
        let key = self.key(sha1);
        let in_memory = self.loaded.lock().expect("component cache").get(&key).is_some_and(|cell| cell.initialized());
        in_memory || self.cache_file(&key).is_file()
    }

    /// The compiled code of the guest whose bytes have SHA1 `sha1`, if this
    /// runtime has it (in memory or on disk); it never compiles.
    pub async fn compiled_by_sha1(&self, sha1: &str) -> Option<Compiled> {
        let key = self.key(sha1);
        let cell = self.loaded.lock().expect("component cache").get(&key).cloned();
        let path = self.cache_file(&key);
        if let Some(compiled) = cell.as_ref().and_then(|cell| cell.get()) {
            file_cache::touch(&path);
            return Some(compiled.clone());
        }
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || load_compiled(&engine, &path)).await.ok().flatten()
    }

    /// The disk cache's file of the compiled code under `key`; its name,
    /// less `.cwasm`, is the key ([`Runtime::forget`]).
    fn cache_file(&self, key: &str) -> PathBuf {
        self.cache_dir.join(format!("{key}.cwasm"))
    }

    /// Where compiled code is found, in memory and on disk, for this engine.
    fn key(&self, sha1: &str) -> String {
        format!("{sha1}-{:016x}", self.engine_hash())
    }

    fn engine_hash(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.finish()
    }
}
