//! Runs a buildpack component — the `wasmfoundry:buildpack` world of
//! guest-sdk/wit — through detect, compile and release, in a WASI sandbox
//! that sees only the staging directories, within memory and time limits,
//! its output going to the staging log.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use wasmtime::Store;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi::{FsPerms, WasiCtx};

use super::Runtime;
use super::guest::{GuestState, LogStream, Quota};

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

pub struct BuildpackRun {
    pub env: Vec<(String, String)>,
    pub memory_bytes: u64,
    /// Time left for the whole staging; the guest is cut off after it.
    pub deadline: Instant,
    pub log: LogStream,
}

/// Why a buildpack run ended without a result.
#[derive(Debug)]
pub enum Failure {
    /// The buildpack said no (compile or release returned an error).
    Refused(String),
    /// The guest trapped, ran out of memory or out of time.
    Crashed(String),
}

/// An instantiated buildpack, ready for its three calls.
pub struct LoadedBuildpack {
    store: Store<GuestState>,
    bindings: Buildpack,
}

impl LoadedBuildpack {
    pub async fn instantiate(
        runtime: &Runtime,
        component: &Component,
        dirs: &StagingDirs,
        run: &BuildpackRun,
    ) -> Result<Self> {
        let mut linker = Linker::new(runtime.engine());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        let mut wasi = WasiCtx::builder();
        wasi.envs(&run.env).stdout(run.log.clone()).stderr(run.log.clone());
        for (host, guest, writable) in [
            (&dirs.app, "/app", true),
            (&dirs.cache, "/cache", true),
            (&dirs.buildpack, "/buildpack", false),
            (&dirs.tmp, "/tmp", true),
        ] {
            wasi.preopened_dir(host, guest, if writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly })?;
        }
        let mut store = Store::new(runtime.engine(), GuestState::new(wasi.build(), Quota::new(run.memory_bytes)));
        store.limiter(|state| &mut state.quota);
        let left = run.deadline.saturating_duration_since(Instant::now());
        store.set_epoch_deadline(Runtime::ticks(left));
        store.epoch_deadline_trap();
        let bindings = Buildpack::instantiate_async(&mut store, component, &linker).await?;
        Ok(LoadedBuildpack { store, bindings })
    }

    fn crash(&self, error: wasmtime::Error) -> Failure {
        if self.store.data().quota.exceeded {
            return Failure::Crashed("the buildpack ran out of memory".into());
        }
        if error.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
            return Failure::Crashed("the buildpack ran out of time".into());
        }
        Failure::Crashed(format!("the buildpack crashed: {error:#}"))
    }

    pub async fn detect(&mut self, build_dir: &str) -> Result<Option<String>, Failure> {
        let lifecycle = self.bindings.wasmfoundry_buildpack_lifecycle();
        lifecycle.call_detect(&mut self.store, build_dir).await.map_err(|e| self.crash(e))
    }

    pub async fn compile(&mut self, build_dir: &str, cache_dir: &str) -> Result<(), Failure> {
        let lifecycle = self.bindings.wasmfoundry_buildpack_lifecycle();
        match lifecycle.call_compile(&mut self.store, build_dir, cache_dir).await {
            Ok(result) => result.map_err(Failure::Refused),
            Err(e) => Err(self.crash(e)),
        }
    }

    pub async fn release(&mut self, build_dir: &str) -> Result<ReleaseInfo, Failure> {
        let lifecycle = self.bindings.wasmfoundry_buildpack_lifecycle();
        match lifecycle.call_release(&mut self.store, build_dir).await {
            Ok(result) => result.map_err(Failure::Refused),
            Err(e) => Err(self.crash(e)),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(m) | Failure::Crashed(m) => f.write_str(m),
        }
    }
}
