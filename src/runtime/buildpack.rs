//! Runs a buildpack component — the `wasmfoundry:buildpack` world of
//! guest-sdk/wit — through detect, compile and release, in a WASI sandbox
//! that sees only the staging directories, within memory and time limits,
//! its output going to the staging log.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use wasmtime::Store;
use wasmtime::component::{Component, Instance, TypedFunc};
use wasmtime_wasi::{FsPerms, WasiCtx};

use super::guest::Wasi;

use super::Runtime;
use super::cpu::metered;
use super::ending::Ending;
use super::guest::{GuestState, LogStream};
use super::limits::GuestLimits;
use super::network::allow_network;

wasmtime::component::bindgen!({
    path: "guest-sdk/wit",
    world: "buildpack",
    imports: { default: async },
    exports: { default: async },
});

pub use exports::wasmfoundry::buildpack::lifecycle::ReleaseInfo;

/// The host directories a buildpack sees as /app, /cache, /buildpack and /tmp.
pub struct StagingDirs {
    pub app: PathBuf,
    pub cache: PathBuf,
    pub buildpack: PathBuf,
    pub tmp: PathBuf,
}

impl StagingDirs {
    /// The four, made under `work`.
    pub async fn make(work: &std::path::Path) -> std::io::Result<StagingDirs> {
        let dirs = StagingDirs {
            app: work.join("app"),
            cache: work.join("cache"),
            buildpack: work.join("buildpack"),
            tmp: work.join("tmp"),
        };
        for dir in [&dirs.app, &dirs.cache, &dirs.buildpack, &dirs.tmp] {
            tokio::fs::create_dir_all(dir).await?;
        }
        Ok(dirs)
    }
}

pub struct BuildpackRun {
    pub env: Vec<(String, String)>,
    /// Memory, disk (of the staging directory), handles and network (the
    /// staging security groups).
    pub limits: GuestLimits,
    /// Time left for the whole staging; the guest is cut off after it.
    pub deadline: Instant,
    pub log: LogStream,
}

/// Why a buildpack run ended without a result.
#[derive(Debug)]
pub enum Failure {
    /// The buildpack said no (compile or release returned an error).
    Refused(String),
    /// The guest trapped or ran into a limit.
    Crashed(Ending),
}

/// The optional interface naming a buildpack's runtimes (guest-sdk/wit).
const RUNTIMES: &str = "wasmfoundry:buildpack/runtimes@0.1.0";

/// `runtimes.write`: a directory in, the runtimes' file names out.
type WriteRuntimes = TypedFunc<(String,), (Result<Vec<String>, String>,)>;

/// An instantiated buildpack, ready for its three calls.
pub struct LoadedBuildpack {
    store: Store<GuestState>,
    instance: Instance,
    bindings: Buildpack,
}

impl LoadedBuildpack {
    pub async fn instantiate(
        runtime: &Runtime,
        component: &Component,
        dirs: &StagingDirs,
        run: &BuildpackRun,
    ) -> Result<Self> {
        let linker = runtime.linker();
        let mut wasi = WasiCtx::builder();
        wasi.envs(&run.env).stdout(run.log.clone()).stderr(run.log.clone());
        if let Some(check) = &run.limits.network {
            allow_network(&mut wasi, check.clone());
        }
        for (host, guest, writable) in [
            (&dirs.app, "/app", true),
            (&dirs.cache, "/cache", true),
            (&dirs.buildpack, "/buildpack", false),
            (&dirs.tmp, "/tmp", true),
        ] {
            wasi.preopened_dir(host, guest, if writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly })?;
        }
        let mut store = runtime.store(Wasi::Component(wasi.build()), run.limits.clone(), Some(run.deadline));
        let cpu = run.limits.cpu.clone();
        match metered(linker.instantiate_async(&mut store, component), cpu).await {
            Ok(instance) => {
                let bindings = Buildpack::new(&mut store, &instance)?;
                Ok(LoadedBuildpack { store, instance, bindings })
            }
            // The runtime stopped it (its deadline, memory): say which.
            Err(error) => match store.data().ending(&error) {
                Ending::Trap(_) => Err(error.into()),
                ending => Err(anyhow::Error::new(ending)),
            },
        }
    }

    fn crash(&self, error: wasmtime::Error) -> Failure {
        Failure::Crashed(self.store.data().ending(&error))
    }

    pub async fn detect(&mut self, build_dir: &str) -> Result<Option<String>, Failure> {
        let lifecycle = self.bindings.wasmfoundry_buildpack_lifecycle();
        let cpu = self.store.data().limits.cpu.clone();
        metered(lifecycle.call_detect(&mut self.store, build_dir), cpu).await.map_err(|e| self.crash(e))
    }

    pub async fn compile(&mut self, build_dir: &str, cache_dir: &str) -> Result<(), Failure> {
        let lifecycle = self.bindings.wasmfoundry_buildpack_lifecycle();
        let cpu = self.store.data().limits.cpu.clone();
        match metered(lifecycle.call_compile(&mut self.store, build_dir, cache_dir), cpu).await {
            Ok(result) => result.map_err(Failure::Refused),
            Err(e) => Err(self.crash(e)),
        }
    }

    pub async fn release(&mut self, build_dir: &str) -> Result<ReleaseInfo, Failure> {
        let lifecycle = self.bindings.wasmfoundry_buildpack_lifecycle();
        let cpu = self.store.data().limits.cpu.clone();
        match metered(lifecycle.call_release(&mut self.store, build_dir), cpu).await {
            Ok(result) => result.map_err(Failure::Refused),
            Err(e) => Err(self.crash(e)),
        }
    }

    /// `runtimes.write`: the buildpack writes the runtimes it puts in
    /// droplets into `dir` and names them; none for a buildpack without
    /// the interface.
    pub async fn write_runtimes(&mut self, dir: &str) -> Result<Vec<String>, Failure> {
        let Some(write) = self.runtimes_write() else { return Ok(Vec::new()) };
        let cpu = self.store.data().limits.cpu.clone();
        match metered(write.call_async(&mut self.store, (dir.to_string(),)), cpu).await {
            Ok((result,)) => result.map_err(Failure::Refused),
            Err(e) => Err(self.crash(e)),
        }
    }

    fn runtimes_write(&mut self) -> Option<WriteRuntimes> {
        let interface = self.instance.get_export_index(&mut self.store, None, RUNTIMES)?;
        let func = self.instance.get_export_index(&mut self.store, Some(&interface), "write")?;
        self.instance.get_typed_func(&mut self.store, func).ok()
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(message) => f.write_str(message),
            Failure::Crashed(ending) => write!(f, "the buildpack stopped: {ending}"),
        }
    }
}
