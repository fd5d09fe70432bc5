//! Staging's last step: when the droplet's start component exports
//! `wasmfoundry:buildpack/preinit` (a language runtime with the app to
//! load, as js_buildpack's), run its `initialize` once with the view an
//! instance has — the app at `/home/vcap/app`, the start command's
//! arguments, the staging environment and security groups — and put the
//! snapshot in the droplet in its place ([`crate::runtime::preinit`]).
//! The app's own load errors (a syntax error, a module that throws) fail
//! staging here, with the app's message, rather than every instance later.
//! This DEA's instances of the droplet need not wait for the snapshot to
//! compile: they start from what it was taken of, compiled here already
//! ([`crate::runtime::snapshot_base`]).

use std::time::Instant;

use super::boot::instance_view;
use super::env;
use crate::runtime::Runtime;
use crate::runtime::buildpack::{BuildpackRun, StagingDirs};
use crate::runtime::ending::Ending;
use crate::runtime::preinit::{self, Failure};

/// Why pre-initialisation failed, as staging reports it.
pub enum Error {
    /// The app did not load (or a host-side error); the message says why.
    Failed(String),
    /// Staging's time ran out while it loaded.
    TimedOut(String),
}

/// Pre-initialises the component `start_command` names under `dirs.app`,
/// if it asks for it.
pub async fn run(
    runtime: &Runtime,
    start_command: &str,
    dirs: &StagingDirs,
    staging: &BuildpackRun,
) -> Result<(), Error> {
    let Ok((component_path, args)) = env::start_program(start_command, &staging.env) else { return Ok(()) };
    let path = dirs.app.join(&component_path);
    let Ok(wasm) = tokio::fs::read(&path).await else { return Ok(()) };
    if !preinit::exports_preinit(&wasm) {
        return Ok(());
    }
    staging.log.line(format!("-----> Loading the app into {component_path} (a snapshot instances start from)"));
    let started = Instant::now();
    let mut environment = staging.env.clone();
    environment.extend([("HOME".to_string(), env::HOME.to_string()), ("TMPDIR".to_string(), env::TMPDIR.to_string())]);
    let log = (&staging.log, &staging.log);
    let wasi = instance_view(&environment, &args, log, (&dirs.app, &dirs.tmp), staging.limits.network.clone())
        .map_err(|e| Error::Failed(format!("preparing the app's directories: {e:#}")))?;
    // Once per runtime and DEA (and not at all where the DEA compiled its
    // buildpacks' runtimes when it started: `super::runtimes`).
    let compiling = || staging.log.line(format!("-----> Compiling {component_path} for this DEA"));
    let snapshot = preinit::snapshot(runtime, &wasm, wasi, staging.limits.clone(), staging.deadline, compiling).await;
    staging.log.flush();
    let snapshot = snapshot.map_err(|failure| match failure {
        Failure::Crashed(Ending::Deadline) => Error::TimedOut(format!("the app did not load in time: {failure}")),
        Failure::Refused(message) => Error::Failed(format!("the app failed to load: {message}")),
        other => Error::Failed(format!("the app failed to load: {other}")),
    })?;
    tokio::fs::write(&path, &snapshot).await.map_err(|e| Error::Failed(format!("writing the snapshot: {e}")))?;
    staging.log.line(format!(
        "       loaded in {} ms; snapshot {} KiB",
        started.elapsed().as_millis(),
        snapshot.len() / 1024
    ));
    Ok(())
}
