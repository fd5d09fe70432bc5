//! The language runtimes of the release's buildpacks, compiled when the DEA
//! starts. A Diego cell has its stacks before any app lands on it; here
//! what every droplet of a language shares is its runtime (CPython,
//! QuickJS, the static file server), which a buildpack copies into each
//! droplet. Compiling CPython takes Cranelift seconds, which the first
//! Python push on a new machine would otherwise wait for. Each buildpack
//! that exports `wasmfoundry:buildpack/runtimes` writes its runtimes out;
//! each is prepared as staging will use it — a runtime that loads the app
//! into a snapshot instrumented and compiled ([`preinit::prepare`]), any
//! other compiled — and kept in the DEA's compiled-code cache, where the
//! first staging (and the snapshot's compile after it, function by
//! function) finds it. A staging that comes first joins the compile under
//! way rather than starting its own. Admin-uploaded buildpacks are compiled
//! by their first staging, as before.

use std::path::{Component, Path};
use std::sync::Weak;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

use super::{Dea, DeaRef};
use crate::runtime::buildpack::{BuildpackRun, LoadedBuildpack, StagingDirs};
use crate::runtime::guest::LogStream;
use crate::runtime::limits::GuestLimits;
use crate::runtime::preinit;

/// What one buildpack may take to write its runtimes out: they are copies
/// of bytes it carries.
const MEMORY: u64 = 512 * 1024 * 1024;
const TIME: Duration = Duration::from_secs(120);

/// Compiles the runtimes of `buildpacks` (name, bits), one buildpack after
/// another; a failure is logged and the rest go on (staging compiles what
/// was not).
pub async fn compile_ahead(dea: Weak<Dea>, buildpacks: Vec<(&'static str, &'static [u8])>) {
    let began = Instant::now();
    let mut prepared = Vec::new();
    for (name, bits) in buildpacks {
        // A DEA shut down meanwhile needs nothing more.
        let Some(dea) = dea.upgrade() else { return };
        match runtimes_of(&dea, name, bits).await {
            Ok(runtimes) => prepared.extend(runtimes.into_iter().map(|runtime| format!("{name}/{runtime}"))),
            Err(e) => tracing::warn!("compiling the runtimes of {name} ahead of staging: {e:#}"),
        }
    }
    tracing::info!(
        "DEA: runtimes compiled ahead of staging in {:.1} s: {}",
        began.elapsed().as_secs_f64(),
        prepared.join(", ")
    );
}

/// Runs the buildpack `bits` far enough to have it write its runtimes,
/// then prepares each; returns their file names.
async fn runtimes_of(dea: &DeaRef, name: &str, bits: &[u8]) -> Result<Vec<String>> {
    let work = dea.dir.join("staging").join(format!("runtimes-{}", uuid::Uuid::new_v4().simple()));
    let written = write_runtimes(dea, name, bits, &work).await;
    let prepared = match written {
        Ok(runtimes) => prepare(dea, &work.join("tmp"), &runtimes).await.map(|()| runtimes),
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_dir_all(&work).await;
    prepared
}

async fn write_runtimes(dea: &DeaRef, name: &str, bits: &[u8], work: &Path) -> Result<Vec<String>> {
    let dirs = StagingDirs::make(work).await?;
    let label = name.to_string();
    let run = BuildpackRun {
        env: Vec::new(),
        limits: GuestLimits::memory(MEMORY),
        deadline: Instant::now() + TIME,
        log: LogStream::new(move |line| tracing::debug!("{label}: {line}")),
    };
    let component = dea.runtime.component(bits).await?;
    let mut buildpack = LoadedBuildpack::instantiate(&dea.runtime, &component, &dirs, &run).await?;
    buildpack.write_runtimes("/tmp").await.map_err(|failure| anyhow!("{failure}"))
}

/// Compiles each runtime in `dir` as staging will use it.
async fn prepare(dea: &DeaRef, dir: &Path, runtimes: &[String]) -> Result<()> {
    for runtime in runtimes {
        if !Path::new(runtime).components().all(|part| matches!(part, Component::Normal(_))) {
            bail!("the buildpack named a runtime outside the directory it was given: {runtime:?}");
        }
        let wasm = tokio::fs::read(dir.join(runtime)).await?;
        if preinit::exports_preinit(&wasm) {
            preinit::prepare(&dea.runtime, &wasm, || {}).await?;
        } else {
            dea.runtime.compile(&wasm).await?;
        }
    }
    Ok(())
}
