//! One app instance on this DEA, from `dea.<id>.start` to its end: fetch
//! the droplet (cached by SHA1), unpack it into the instance directory,
//! build the CF environment, run the component within the app's limits and
//! register its routes. Two kinds of app:
//!
//! - a `wasi:http/incoming-handler` component is served by the DEA on the
//!   instance's port, a store per request ([`crate::runtime::http`]);
//! - a `wasi:cli/run` component runs as a long-lived program that listens
//!   on `$PORT` itself ([`crate::runtime::command`]), with wasi:sockets as
//!   [`SocketPolicy`] allows. It is RUNNING once its port accepts
//!   connections (CF's port health check), or at once for
//!   `health_check_type` `process` and `none`; its exit is a crash.
//!
//! It ends by `dea.stop` (STOPPED) or by crashing (CRASHED: a trap, a
//! limit, a failed health check); either way the router forgets it and
//! `droplet.exited` says why. Nothing else on the DEA is touched.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wasmtime::component::Component;
use wasmtime_wasi::{FsPerms, WasiCtx};

use super::egress::SocketPolicy;
use super::env::{self, InstanceFacts};
use super::log::GuestLogs;
use super::{Dea, DeaRef, disk_usage, droplet};
use crate::blobstore::{keys, package, sha1_hex};
use crate::bus::BusExt;
use crate::bus::messages::{
    DeaStart, DropletExited, FindDropletReply, InstanceHeartbeat, InstanceState, InstanceStats, RouteRegistration,
    Usage, subjects,
};
use crate::runtime::command;
use crate::runtime::http::HttpApp;
use crate::runtime::limits::{Disk, Limits};
use crate::runtime::network::{SocketCheck, allow_network};

/// How long a crashed instance's server lingers so the answer to the
/// request that crashed it (a 500) still reaches the client.
const CRASH_GRACE: Duration = Duration::from_secs(1);

pub struct Instance {
    pub id: String,
    pub start: DeaStart,
    dir: PathBuf,
    started_at: DateTime<Utc>,
    began: Instant,
    status: Mutex<Status>,
    /// The server (HTTP app) or program (command app).
    server: Mutex<Option<tokio::task::AbortHandle>>,
    /// What the running guest holds of its limits.
    limits: Mutex<Option<Limits>>,
    /// CPU time used as of the last stats report, and when that was.
    cpu_sample: Mutex<(Instant, Duration)>,
}

struct Status {
    state: InstanceState,
    since: f64,
    port: u16,
    uris: Vec<String>,
}

fn epoch_seconds() -> f64 {
    Utc::now().timestamp_micros() as f64 / 1e6
}

impl Instance {
    /// The instance's directory: `app/`, `logs/`, `tmp/`.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn state(&self) -> InstanceState {
        self.status.lock().expect("instance status").state
    }

    fn set_state(&self, state: InstanceState) -> InstanceState {
        let mut status = self.status.lock().expect("instance status");
        let before = status.state;
        status.state = state;
        status.since = epoch_seconds();
        before
    }

    fn registration(&self, dea: &Dea) -> RouteRegistration {
        let status = self.status.lock().expect("instance status");
        RouteRegistration {
            host: dea.config.dea_host.clone(),
            port: status.port,
            uris: status.uris.clone(),
            app: Some(self.start.droplet.clone()),
            private_instance_id: Some(self.id.clone()),
            index: Some(self.start.index),
        }
    }

    /// Registers the routes of a running instance with the router.
    pub async fn register(&self, dea: &Dea) -> Result<()> {
        let registration = self.registration(dea);
        if self.state() == InstanceState::Running && !registration.uris.is_empty() {
            dea.bus.publish(subjects::ROUTER_REGISTER, &registration).await?;
        }
        Ok(())
    }

    async fn unregister(&self, dea: &Dea) -> Result<()> {
        let registration = self.registration(dea);
        if !registration.uris.is_empty() {
            dea.bus.publish(subjects::ROUTER_UNREGISTER, &registration).await?;
        }
        Ok(())
    }

    /// This instance as `dea.heartbeat` reports it.
    pub fn heartbeat(&self) -> InstanceHeartbeat {
        let status = self.status.lock().expect("instance status");
        InstanceHeartbeat {
            droplet: self.start.droplet.clone(),
            version: self.start.version.clone(),
            instance: self.id.clone(),
            index: self.start.index,
            state: status.state,
            state_timestamp: status.since,
        }
    }

    /// This instance as `dea.find.droplet` reports it.
    pub fn report(&self, dea: &Dea, include_stats: bool) -> FindDropletReply {
        let status = self.status.lock().expect("instance status");
        let mb = 1024 * 1024;
        FindDropletReply {
            dea: dea.id.clone(),
            droplet: self.start.droplet.clone(),
            version: self.start.version.clone(),
            instance: self.id.clone(),
            index: self.start.index,
            state: status.state,
            state_timestamp: status.since,
            stats: include_stats.then(|| InstanceStats {
                name: self.start.name.clone(),
                uris: status.uris.clone(),
                host: dea.config.dea_host.clone(),
                port: status.port,
                uptime: self.began.elapsed().as_secs(),
                mem_quota: self.start.limits.mem * mb,
                disk_quota: self.start.limits.disk * mb,
                fds_quota: self.start.limits.fds,
                usage: self.usage(),
            }),
        }
    }

    /// Memory held now, disk used, and the share of one core the guest
    /// used since the last report (CF's `usage.cpu`).
    fn usage(&self) -> Usage {
        let limits = self.limits.lock().expect("instance limits").clone();
        let cpu = limits.as_ref().map_or(0.0, |limits| {
            let used = limits.cpu.used();
            let mut sample = self.cpu_sample.lock().expect("cpu sample");
            let (then, used_then) = std::mem::replace(&mut *sample, (Instant::now(), used));
            (used - used_then).as_secs_f64() / then.elapsed().as_secs_f64().max(1e-3)
        });
        let disk = disk_usage(&self.dir);
        if let Some(quota) = limits.as_ref().and_then(|limits| limits.disk.as_ref()) {
            quota.measured(disk);
        }
        Usage {
            time: Utc::now().format("%Y-%m-%d %H:%M:%S %z").to_string(),
            cpu,
            mem: limits.map_or(0, |limits| limits.memory.used()),
            disk,
        }
    }

    /// Measures the instance's disk usage for its quota.
    pub fn measure_disk(&self) {
        let quota = self.limits.lock().expect("instance limits").as_ref().and_then(|limits| limits.disk.clone());
        if let Some(quota) = quota {
            quota.measured(disk_usage(&self.dir));
        }
    }

    fn stop_serving(&self) {
        if let Some(server) = self.server.lock().expect("instance server").take() {
            server.abort();
        }
    }

    /// Stops the server after [`CRASH_GRACE`].
    fn stop_serving_soon(&self) {
        if let Some(server) = self.server.lock().expect("instance server").take() {
            tokio::spawn(async move {
                tokio::time::sleep(CRASH_GRACE).await;
                server.abort();
            });
        }
    }
}

/// Starts an instance (under `id` when re-adopting one from the
/// snapshot); failures to start are reported as a crash.
pub async fn start(dea: DeaRef, start: DeaStart, id: Option<String>) {
    let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let instance = Arc::new(Instance {
        dir: dea.dir.join("instances").join(&id),
        status: Mutex::new(Status {
            state: InstanceState::Starting,
            since: epoch_seconds(),
            port: 0,
            uris: start.uris.clone(),
        }),
        id: id.clone(),
        start,
        started_at: Utc::now(),
        began: Instant::now(),
        server: Mutex::new(None),
        limits: Mutex::new(None),
        cpu_sample: Mutex::new((Instant::now(), Duration::ZERO)),
    });
    dea.instances.lock().expect("dea instances").insert(id, instance.clone());
    dea.save_snapshot();
    match boot(&dea, &instance).await {
        Ok(()) => {
            instance.set_state(InstanceState::Running);
            if let Err(e) = instance.register(&dea).await {
                tracing::warn!("registering routes: {e:#}");
            }
        }
        Err(e) => crash(&dea, &instance, format!("failed to start: {e:#}")).await,
    }
    let _ = dea.advertise().await;
}

/// The droplet's bytes, from the DEA's cache or the blobstore (checked
/// against its SHA1 before it is cached).
async fn droplet_bytes(dea: &Dea, sha1: &str) -> Result<Vec<u8>> {
    let cached = dea.dir.join("droplets").join(format!("{sha1}.tgz"));
    if let Ok(bytes) = tokio::fs::read(&cached).await {
        return Ok(bytes);
    }
    let bytes = dea.blobstore.get(&keys::droplet(sha1)).await?.to_vec();
    if sha1_hex(&bytes) != sha1 {
        bail!("droplet {sha1} in the blobstore does not match its SHA1");
    }
    tokio::fs::create_dir_all(cached.parent().expect("droplet cache dir")).await?;
    let tmp = cached.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&tmp, &bytes).await?;
    tokio::fs::rename(&tmp, &cached).await?;
    Ok(bytes)
}

async fn boot(dea: &DeaRef, instance: &Arc<Instance>) -> Result<()> {
    let start = &instance.start;
    let bytes = droplet_bytes(dea, &start.sha1).await?;
    let dir = instance.dir.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        droplet::unpack(&bytes, &dir)?;
        std::fs::create_dir_all(dir.join("tmp"))?;
        std::fs::create_dir_all(dir.join("logs"))?;
        Ok(())
    })
    .await??;
    let info = droplet::read_staging_info(&instance.dir)?;

    // Command apps bind the port themselves: it is chosen free here, then let go.
    let listener = TcpListener::bind((dea.config.dea_host.as_str(), 0)).await.context("binding the instance port")?;
    let port = listener.local_addr()?.port();
    instance.status.lock().expect("instance status").port = port;
    let facts =
        InstanceFacts { instance_id: &instance.id, host: &dea.config.dea_host, port, started_at: instance.started_at };
    let environment = env::with_profile_d(env::instance(start, &facts, &info.config_vars), &instance.dir.join("app"));
    tokio::fs::write(instance.dir.join("logs/env.log"), env::env_log(&environment)).await?;

    let command = start.start_command.clone().filter(|c| !c.trim().is_empty()).unwrap_or(info.start_command.clone());
    let expanded = env::expand(&command, &environment);
    let mut words = expanded.split_whitespace();
    let component_path = package::safe_path(words.next().ok_or_else(|| anyhow!("the start command is empty"))?)
        .map_err(|e| anyhow!("start command: {e}"))?;
    let args: Vec<String> = std::iter::once(component_path.clone()).chain(words.map(str::to_string)).collect();
    let wasm = tokio::fs::read(instance.dir.join("app").join(&component_path))
        .await
        .with_context(|| format!("reading {component_path} named by the start command"))?;
    let component = dea.runtime.component(&wasm).await?;

    let logs = GuestLogs::new(
        dea.bus.clone(),
        &start.droplet,
        "APP",
        &start.index.to_string(),
        Some(&instance.dir.join("logs")),
    )?;
    let sockets = SocketPolicy { port: Some(port), rules: Arc::new(start.egress_network_rules.clone()) }.check();
    let limits = instance_limits(dea, instance, sockets.clone(), &logs);
    *instance.limits.lock().expect("instance limits") = Some(limits.clone());
    let (app_dir, tmp_dir) = (instance.dir.join("app"), instance.dir.join("tmp"));
    let make_wasi = move || -> Result<WasiCtx> {
        let mut wasi = WasiCtx::builder();
        wasi.envs(&environment).args(&args).stdout(logs.stdout.clone()).stderr(logs.stderr.clone());
        wasi.preopened_dir(&app_dir, env::HOME, FsPerms::ReadWrite)?;
        wasi.preopened_dir(&tmp_dir, env::TMPDIR, FsPerms::ReadWrite)?;
        allow_network(&mut wasi, sockets.clone());
        Ok(wasi.build())
    };

    match AppKind::of(&component, dea.runtime.engine()) {
        Some(AppKind::Http) => serve(dea, instance, &component, make_wasi, limits, listener),
        Some(AppKind::Command) => {
            drop(listener);
            run_program(dea, instance, component, make_wasi()?, limits).await
        }
        None => bail!(
            "{component_path} is neither an HTTP app (exporting wasi:http/incoming-handler@0.2) \
             nor a program (exporting wasi:cli/run@0.2)"
        ),
    }
}

/// What a component is, by what it exports.
enum AppKind {
    Http,
    Command,
}

impl AppKind {
    fn of(component: &Component, engine: &wasmtime::Engine) -> Option<AppKind> {
        let exports: Vec<String> =
            component.component_type().exports(engine).map(|(name, _)| name.to_string()).collect();
        let exports_any = |prefix: &str| exports.iter().any(|name| name.starts_with(prefix));
        if exports_any("wasi:http/incoming-handler@0.2") {
            Some(AppKind::Http)
        } else if exports_any("wasi:cli/run@0.2") {
            Some(AppKind::Command)
        } else {
            None
        }
    }
}

/// The app's memory, disk, handle and network limits; going over the disk
/// quota is told on the app's log stream.
fn instance_limits(dea: &Dea, instance: &Instance, network: SocketCheck, logs: &GuestLogs) -> Limits {
    let mb = 1024 * 1024;
    let app_limits = instance.start.limits;
    let stderr = logs.stderr.clone();
    let disk = Disk::new(app_limits.disk * mb, move || {
        stderr.line(format!("disk quota of {} MB exceeded: writes are refused", app_limits.disk));
    });
    disk.measured(disk_usage(&instance.dir));
    Limits {
        disk: Some(Arc::new(disk)),
        max_handles: app_limits.fds as usize,
        max_busy: Some(Duration::from_secs(dea.config.max_busy_seconds)),
        network: Some(network),
        ..Limits::memory(app_limits.mem * mb)
    }
}

/// Serves an HTTP app on the instance's port until stopped; a crash of
/// one of its requests crashes the instance.
fn serve(
    dea: &DeaRef,
    instance: &Arc<Instance>,
    component: &Component,
    make_wasi: impl Fn() -> Result<WasiCtx> + Send + Sync + 'static,
    limits: Limits,
    listener: TcpListener,
) -> Result<()> {
    let (crashes, mut crashed) = mpsc::unbounded_channel();
    let request_timeout = Duration::from_secs(dea.config.request_timeout);
    let app =
        HttpApp::new(&dea.runtime, component, make_wasi, Limits { max_busy: None, ..limits }, request_timeout, crashes)
            .map_err(|e| anyhow!("the component cannot be served: {e:#}"))?;
    let server = tokio::spawn(Arc::new(app).serve(listener));
    *instance.server.lock().expect("instance server") = Some(server.abort_handle());
    let (dea, instance) = (dea.clone(), instance.clone());
    tokio::spawn(async move {
        if let Some(description) = crashed.recv().await {
            crash(&dea, &instance, description).await;
        }
    });
    Ok(())
}

/// Runs a command app; returns once it passed its health check. Its end,
/// whenever it comes, is a crash (a web process is not meant to exit).
async fn run_program(
    dea: &DeaRef,
    instance: &Arc<Instance>,
    component: Component,
    wasi: WasiCtx,
    limits: Limits,
) -> Result<()> {
    let (ended, mut has_ended) = tokio::sync::oneshot::channel();
    let runtime = dea.runtime.clone();
    let program = crate::runtime::spawn(async move {
        let exit = command::run(&runtime, &component, wasi, limits, None).await;
        let _ = ended.send(match exit {
            Ok(exit) => match exit.ending {
                Some(ending) => ending.to_string(),
                None => format!("the app exited with status {}", exit.code),
            },
            Err(e) => format!("the app failed to run: {e:#}"),
        });
    });
    *instance.server.lock().expect("instance server") = Some(program.abort_handle());

    let start = &instance.start;
    if start.health_check_type.as_deref().is_none_or(|t| t == "port") {
        let timeout = Duration::from_secs(start.health_check_timeout.unwrap_or(dea.config.health_check_timeout));
        let address = (dea.config.dea_host.clone(), instance.status.lock().expect("instance status").port);
        let accepting = async {
            while tokio::net::TcpStream::connect(address.clone()).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::select! {
            accepted = tokio::time::timeout(timeout, accepting) => if accepted.is_err() {
                program.abort();
                bail!("the app did not accept connections on $PORT within {} seconds", timeout.as_secs());
            },
            ended = &mut has_ended => bail!("{}", ended.unwrap_or_else(|_| "the app ended".into())),
        }
    }
    let (dea, instance) = (dea.clone(), instance.clone());
    tokio::spawn(async move {
        if let Ok(description) = has_ended.await {
            crash(&dea, &instance, description).await;
        }
    });
    Ok(())
}

/// Marks the instance crashed, takes it off its routes and reports it.
async fn crash(dea: &Dea, instance: &Instance, description: String) {
    instance.stop_serving_soon();
    if instance.set_state(InstanceState::Crashed) == InstanceState::Crashed {
        return;
    }
    tracing::info!("instance {} of app {} crashed: {description}", instance.start.index, instance.start.droplet);
    dea.save_snapshot();
    let _ = instance.unregister(dea).await;
    exited(dea, instance, "CRASHED", 255, description).await;
    let _ = dea.advertise().await;
}

/// Stops and forgets the instance, removing its directory.
pub async fn stop(dea: &Dea, instance: &Instance) {
    instance.stop_serving();
    dea.instances.lock().expect("dea instances").remove(&instance.id);
    let before = instance.set_state(InstanceState::Stopped);
    dea.save_snapshot();
    if before != InstanceState::Crashed {
        let _ = instance.unregister(dea).await;
        exited(dea, instance, "STOPPED", 0, "stopped by the Cloud Controller".into()).await;
    }
    let _ = tokio::fs::remove_dir_all(&instance.dir).await;
}

async fn exited(dea: &Dea, instance: &Instance, reason: &str, exit_status: i32, exit_description: String) {
    let exit = DropletExited {
        droplet: instance.start.droplet.clone(),
        version: instance.start.version.clone(),
        instance: instance.id.clone(),
        index: instance.start.index,
        reason: reason.into(),
        exit_status,
        exit_description,
        crash_timestamp: (reason == "CRASHED").then(|| Utc::now().timestamp()),
    };
    if let Err(e) = dea.bus.publish(subjects::DROPLET_EXITED, &exit).await {
        tracing::warn!("reporting an exit: {e:#}");
    }
}

/// Moves a running instance to a new set of routes.
pub async fn change_routes(dea: &Dea, instance: &Instance, uris: Vec<String>) -> Result<()> {
    let removed: Vec<String> = {
        let mut status = instance.status.lock().expect("instance status");
        let removed = status.uris.iter().filter(|u| !uris.contains(u)).cloned().collect();
        status.uris = uris;
        removed
    };
    if !removed.is_empty() && instance.state() == InstanceState::Running {
        let mut gone = instance.registration(dea);
        gone.uris = removed;
        dea.bus.publish(subjects::ROUTER_UNREGISTER, &gone).await?;
    }
    instance.register(dea).await
}
