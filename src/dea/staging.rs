//! Staging on the DEA: unpack the app package and the app's buildpack
//! cache, run the buildpacks (the app's chosen one, else each admin
//! buildpack's detect in position order, first yes wins), then compile and
//! release; pack `app/` and `staging_info.yml` into the droplet, store it
//! and the cache, and reply with the outcome. Every line the buildpack
//! prints is the staging log (STG) on the app's log stream.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use super::app_snapshot;
use super::droplet::{self, StagingInfo};
use super::egress::SocketPolicy;
use super::log::GuestLogs;
use super::metrics::METRICS;
use super::{DeaRef, app_limits, env};
use crate::blobstore::package;
use crate::blobstore::{keys, sha1_hex};
use crate::protocol::messages::{AdminBuildpack, StagingError, StagingReply, StagingRequest, subjects};
use crate::runtime::buildpack::{BuildpackRun, Failure, LoadedBuildpack, StagingDirs};
use crate::runtime::ending::Ending;
use crate::runtime::guest::LogStream;

/// Runs one staging task and sends its replies to `reply_to`.
pub async fn stage(dea: DeaRef, request: StagingRequest, reply_to: String) {
    let began = Instant::now();
    let memory = request.start_message.limits.memory_mb;
    *dea.staging_memory.lock().expect("staging memory") += memory;
    let work = dea.dir.join("staging").join(&request.task_id);
    let started = StagingReply {
        task_id: request.task_id.clone(),
        task_log_subject: Some(subjects::app_logs(&request.app_id)),
        ..Default::default()
    };
    let _ = dea.bus.publish_raw(&reply_to, None, serde_json::to_vec(&started).unwrap_or_default().into()).await;

    let outcome = match GuestLogs::new(dea.bus.clone(), &request.app_id, "STG", "0", None) {
        Ok(logs) => {
            let result = run(&dea, &request, &work, &logs.stdout).await;
            if let Err(error) = &result {
                logs.stderr.line(format!("Staging failed: {}", error.message));
            }
            logs.flush().await;
            result
        }
        Err(e) => Err(error("StagingError", format!("{e:#}"))),
    };
    METRICS.staging(outcome.is_ok(), began.elapsed().as_secs_f64());
    let reply = match outcome {
        Ok(reply) => reply,
        Err(e) => {
            StagingReply { task_id: request.task_id.clone(), finished: true, error: Some(e), ..Default::default() }
        }
    };
    let _ = dea.bus.publish_raw(&reply_to, None, serde_json::to_vec(&reply).unwrap_or_default().into()).await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    *dea.staging_memory.lock().expect("staging memory") -= memory;
}

fn error(id: &str, message: impl Into<String>) -> StagingError {
    StagingError { id: id.into(), message: message.into() }
}

/// Unexpected failures (blobstore, disk) are StagingErrors.
fn staging_error(e: anyhow::Error) -> StagingError {
    error("StagingError", format!("{e:#}"))
}

async fn run(
    dea: &DeaRef,
    request: &StagingRequest,
    work: &Path,
    log: &LogStream,
) -> Result<StagingReply, StagingError> {
    let deadline = Instant::now() + Duration::from_secs(dea.config.max_staging_runtime);
    let dirs = StagingDirs::make(work).await.map_err(|e| staging_error(e.into()))?;

    log.line("-----> Downloading app package");
    let app_package = dea.blobstore.get(&request.download_uri).await.map_err(staging_error)?;
    let app_dir = dirs.app.clone();
    tokio::task::spawn_blocking(move || {
        droplet::unpack_package(
            &app_package,
            &app_dir,
            package::UnpackLimits { max_total_bytes: droplet::MAX_APP_BYTES, max_ratio: 1000 },
        )
    })
    .await
    .map_err(|e| staging_error(e.into()))?
    .map_err(staging_error)?;
    if let Some(cache) = dea.blobstore.get_opt(&request.buildpack_cache_key).await.map_err(staging_error)? {
        log.line("-----> Restoring the buildpack cache");
        droplet::unpack(&cache, &dirs.cache).map_err(staging_error)?;
    }

    let network =
        SocketPolicy { port: None, rules: Arc::new(request.start_message.egress_network_rules.clone()) }.check();
    let run = BuildpackRun {
        env: env::staging(&request.start_message, &request.properties.environment),
        limits: app_limits(&request.start_message.limits, work, network, log.clone()),
        deadline,
        log: log.clone(),
    };
    let (buildpack, mut loaded, detected) = choose_buildpack(dea, request, &dirs, &run).await?;
    log.line(format!("-----> {} detected {}", buildpack.name, detected));
    let timed_out = |f: &Failure| matches!(f, Failure::Crashed(Ending::Deadline));
    loaded.compile("/app", "/cache").await.map_err(|f| {
        if timed_out(&f) {
            error("StagingTimeExpired", format!("{}: {f}", buildpack.name))
        } else {
            error("BuildpackCompileFailed", format!("{}: {f}", buildpack.name))
        }
    })?;
    let release = loaded
        .release("/app")
        .await
        .map_err(|f| error("BuildpackReleaseFailed", format!("{}: {f}", buildpack.name)))?;
    drop(loaded);
    run.log.flush();
    let start_command = request.start_message.effective_start_command(&release.start_command);
    app_snapshot::run(&dea.runtime, &start_command, &dirs, &run).await.map_err(|e| match e {
        app_snapshot::Error::TimedOut(message) => error("StagingTimeExpired", format!("{}: {message}", buildpack.name)),
        app_snapshot::Error::Failed(message) => {
            error("BuildpackCompileFailed", format!("{}: {message}", buildpack.name))
        }
    })?;

    log.line("-----> Uploading droplet");
    let info = StagingInfo {
        detected_buildpack: detected.clone(),
        start_command: release.start_command.clone(),
        config_vars: release.config_vars.clone(),
    };
    droplet::write_staging_info(work, &info).map_err(staging_error)?;
    let work_dir = work.to_path_buf();
    let (droplet_bytes, cache_bytes) = tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, Option<Vec<u8>>)> {
        let droplet = droplet::pack(&work_dir, &["app", droplet::STAGING_INFO])?;
        // The cache archive holds the cache's contents, to unpack straight into /cache.
        let cache_dir = work_dir.join("cache");
        let names: Vec<String> = std::fs::read_dir(&cache_dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let cache = if names.is_empty() { None } else { Some(droplet::pack(&cache_dir, &names)?) };
        Ok((droplet, cache))
    })
    .await
    .map_err(|e| staging_error(e.into()))?
    .map_err(staging_error)?;
    let droplet_sha1 = sha1_hex(&droplet_bytes);
    log.line(format!("       droplet {droplet_sha1} ({} KB)", droplet_bytes.len() / 1024));
    dea.blobstore.put(&keys::droplet(&droplet_sha1), droplet_bytes.into()).await.map_err(staging_error)?;
    if let Some(cache) = cache_bytes {
        dea.blobstore.put(&request.buildpack_cache_key, cache.into()).await.map_err(staging_error)?;
    }
    let mut process_types = procfile(&dirs.app);
    process_types.insert("web".into(), release.start_command.clone());
    Ok(StagingReply {
        task_id: request.task_id.clone(),
        finished: true,
        process_types,
        detected_buildpack: Some(detected),
        buildpack_key: Some(buildpack.key.clone()),
        detected_start_command: Some(release.start_command),
        droplet_sha1: Some(droplet_sha1),
        ..Default::default()
    })
}

/// The process types the app's Procfile names (`worker: worker.wasm -q`),
/// by type; none without one.
fn procfile(app: &Path) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(app.join("Procfile")).unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once(':'))
        .map(|(kind, command)| (kind.trim().to_string(), command.trim().to_string()))
        .filter(|(kind, command)| {
            !command.is_empty()
                && !kind.is_empty()
                && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .take(crate::protocol::MAX_PROCESS_TYPES)
        .collect()
}

/// The buildpack that stages this app, instantiated, and what it detected.
async fn choose_buildpack(
    dea: &DeaRef,
    request: &StagingRequest,
    dirs: &StagingDirs,
    run: &BuildpackRun,
) -> Result<(AdminBuildpack, LoadedBuildpack, String), StagingError> {
    if let Some(name) = &request.properties.buildpack {
        // A chosen buildpack compiles without being asked to detect, as in CF.
        let buildpack = request.admin_buildpacks.iter().find(|b| &b.name == name).cloned().ok_or_else(|| {
            error("NoAppDetectedError", format!("the buildpack {name:?} is not installed (see `wf buildpacks`)"))
        })?;
        let loaded = load(dea, &buildpack, dirs, run).await?;
        return Ok((buildpack, loaded, name.clone()));
    }
    if request.admin_buildpacks.is_empty() {
        return Err(error("NoBuildpacksFound", "There are no buildpacks available"));
    }
    for buildpack in &request.admin_buildpacks {
        let mut loaded = load(dea, buildpack, dirs, run).await?;
        match loaded.detect("/app").await {
            Ok(Some(detected)) => return Ok((buildpack.clone(), loaded, detected)),
            Ok(None) => run.log.line(format!("-----> {} does not apply to this app", buildpack.name)),
            Err(f) => run.log.line(format!("-----> {} failed to detect: {f}", buildpack.name)),
        }
    }
    let tried: Vec<&str> = request.admin_buildpacks.iter().map(|b| b.name.as_str()).collect();
    Err(error(
        "NoAppDetectedError",
        format!("An app was not successfully detected by any available buildpack (tried {})", tried.join(", ")),
    ))
}

/// Fetches (through the DEA's cache) and instantiates one buildpack.
async fn load(
    dea: &DeaRef,
    buildpack: &AdminBuildpack,
    dirs: &StagingDirs,
    run: &BuildpackRun,
) -> Result<LoadedBuildpack, StagingError> {
    let cached = dea.dir.join("buildpacks").join(format!("{}.wasm", buildpack.sha1));
    let wasm = match tokio::fs::read(&cached).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let bytes = dea.blobstore.get(&buildpack.key).await.map_err(staging_error)?.to_vec();
            if sha1_hex(&bytes) != buildpack.sha1 {
                return Err(staging_error(anyhow!("buildpack {} does not match its SHA1", buildpack.name)));
            }
            // Written aside: another staging may be reading it.
            let write = tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(cached.parent().context("cache dir")?)?;
                crate::write_aside::content_addressed(&cached, &bytes)?;
                anyhow::Ok(bytes)
            });
            write.await.map_err(|e| staging_error(e.into()))?.map_err(staging_error)?
        }
    };
    let component = dea
        .runtime
        .component(&wasm)
        .await
        .map_err(|e| staging_error(e.context(format!("buildpack {}", buildpack.name))))?;
    LoadedBuildpack::instantiate(&dea.runtime, &component, dirs, run).await.map_err(|e| {
        // Staging's clock runs from its start: fetching and compiling a
        // buildpack on a busy DEA may leave it none to start in.
        if e.downcast_ref::<Ending>() == Some(&Ending::Deadline) {
            return error("StagingTimeExpired", format!("{}: {e}", buildpack.name));
        }
        error("StagingError", format!("buildpack {} is not a wasmfoundry buildpack component: {e:#}", buildpack.name))
    })
}
