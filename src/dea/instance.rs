//! One app instance on this DEA, from `dea.<id>.start` to its end: it is
//! STARTING while [`super::boot`] brings it up, RUNNING once that succeeds
//! (and its routes are registered), and reported in heartbeats, stats and
//! the saved instances throughout. It ends by `dea.stop` or by crashing (CRASHED:
//! a trap, a limit, a failed health check); either way the router forgets
//! it and `droplet.exited` says why. A stopped instance is STOPPING while
//! it drains: off its routes first, it serves on for a moment (routers
//! hear of it), then finishes the requests it has and closes its
//! connections before it is gone (STOPPED) — so stopping an instance that
//! has a successor fails no request. Nothing else on the DEA is touched.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::metrics::METRICS;
use super::{Dea, disk_usage};
use crate::bus::BusExt;
use crate::protocol::messages::{
    DeaStart, DropletExited, FindDropletReply, InstanceHeartbeat, InstanceState, InstanceStats, LogMessage,
    RouteRegistration, Usage, subjects,
};
use crate::runtime::limits::GuestLimits;

/// How long a crashed instance's server lingers so the answer to the
/// request that crashed it (a 500) still reaches the client.
const CRASH_GRACE: Duration = Duration::from_secs(1);
/// How long a stopping instance serves on after leaving its routes, for
/// every router to hear of it.
const UNREGISTER_GRACE: Duration = Duration::from_millis(250);
/// How long a draining instance's requests in flight have to finish.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// What serves an instance.
pub(super) enum Server {
    /// The DEA's own server of an HTTP app, which drains when told.
    Http { task: tokio::task::JoinHandle<()>, drain: tokio_util::sync::CancellationToken },
    /// A program serving on its own: it can only be cut off.
    Program(tokio::task::AbortHandle),
}

impl Server {
    fn abort(&self) {
        match self {
            Server::Http { task, .. } => task.abort(),
            Server::Program(task) => task.abort(),
        }
    }
}

pub struct Instance {
    pub id: String,
    pub start: DeaStart,
    pub(super) dir: PathBuf,
    pub(super) started_at: DateTime<Utc>,
    began: Instant,
    pub(super) status: Mutex<Status>,
    /// The server (HTTP app) or program (command app).
    pub(super) server: Mutex<Option<Server>>,
    /// What the running guest holds of its limits.
    pub(super) limits: Mutex<Option<GuestLimits>>,
    /// The SHA1 of the guest its start command names, once read: its
    /// compiled code is in use while the instance is here.
    pub(super) code_sha1: OnceLock<String>,
    /// CPU time used as of the last stats report, and when that was.
    cpu_sample: Mutex<(Instant, Duration)>,
    /// Its directory's size as last measured (bytes): stats report it
    /// rather than walk the directory of every instance each time.
    disk_used: std::sync::atomic::AtomicU64,
}

pub(super) struct Status {
    state: InstanceState,
    since: f64,
    pub(super) port: u16,
    uris: Vec<String>,
    /// Of `uris`, those bound to a route service, with its url.
    route_services: BTreeMap<String, String>,
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

    /// How long the instance has been in its state.
    pub fn state_age(&self) -> Duration {
        let since = self.status.lock().expect("instance status").since;
        Duration::from_secs_f64((epoch_seconds() - since).max(0.0))
    }

    /// Marks the instance STOPPING unless it already is, or is gone;
    /// returns the state it had.
    fn begin_stopping(&self) -> Option<InstanceState> {
        let mut status = self.status.lock().expect("instance status");
        if matches!(status.state, InstanceState::Stopping | InstanceState::Stopped) {
            return None;
        }
        status.since = epoch_seconds();
        Some(std::mem::replace(&mut status.state, InstanceState::Stopping))
    }

    pub(super) fn set_state(&self, state: InstanceState) -> InstanceState {
        let mut status = self.status.lock().expect("instance status");
        let before = status.state;
        status.state = state;
        status.since = epoch_seconds();
        before
    }

    /// Its routes as one registration (route services left out: what an
    /// unregistration needs).
    fn registration(&self, dea: &Dea) -> RouteRegistration {
        let status = self.status.lock().expect("instance status");
        RouteRegistration {
            host: dea.config.dea_host.clone(),
            port: status.port,
            uris: status.uris.clone(),
            route_service_url: None,
            app: Some(self.start.droplet.clone()),
            private_instance_id: Some(self.id.clone()),
            index: Some(self.start.index),
        }
    }

    /// Its routes as registrations while it runs (none otherwise): one of
    /// those without a route service, one per route service for the
    /// routes bound to it.
    pub fn registrations(&self, dea: &Dea) -> Vec<RouteRegistration> {
        if self.state() != InstanceState::Running {
            return Vec::new();
        }
        let all = self.registration(dea);
        let services = self.status.lock().expect("instance status").route_services.clone();
        let mut by_service: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
        for uri in &all.uris {
            by_service.entry(services.get(uri).cloned()).or_default().push(uri.clone());
        }
        by_service
            .into_iter()
            .map(|(route_service_url, uris)| RouteRegistration { uris, route_service_url, ..all.clone() })
            .collect()
    }

    /// Registers the routes of a running instance with the router.
    pub async fn register(&self, dea: &Dea) -> Result<()> {
        for registration in self.registrations(dea) {
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
                mem_quota: self.start.limits.memory_mb * mb,
                disk_quota: self.start.limits.disk_mb * mb,
                fds_quota: self.start.limits.fds,
                usage: self.usage(),
            }),
        }
    }

    /// Memory (the most held at once), disk used (as last measured, every
    /// few seconds), and the share of one core the guest used since the
    /// last report (CF's `usage.cpu`).
    fn usage(&self) -> Usage {
        let limits = self.limits.lock().expect("instance limits").clone();
        let cpu = limits.as_ref().map_or(0.0, |limits| {
            let used = limits.cpu.used();
            let mut sample = self.cpu_sample.lock().expect("cpu sample");
            let (then, used_then) = std::mem::replace(&mut *sample, (Instant::now(), used));
            (used - used_then).as_secs_f64() / then.elapsed().as_secs_f64().max(1e-3)
        });
        let disk = match self.disk_used.load(std::sync::atomic::Ordering::Relaxed) {
            // Not measured yet (it just started).
            0 => disk_usage(&self.dir),
            measured => measured,
        };
        Usage {
            time: Utc::now().format("%Y-%m-%d %H:%M:%S %z").to_string(),
            cpu,
            mem: limits.map_or(0, |limits| limits.memory.peak()),
            disk,
        }
    }

    /// Bytes of memory its guest uses: the most it held at once, as its
    /// stats (`cf app`) have it.
    pub(super) fn memory_used(&self) -> u64 {
        self.limits.lock().expect("instance limits").as_ref().map_or(0, |limits| limits.memory.peak())
    }

    /// Measures the instance's disk usage, for its stats and its quota;
    /// the crash reason when a guest whose writes are not checked is past it.
    pub fn measure_disk(&self) -> Option<String> {
        let used = disk_usage(&self.dir);
        self.disk_used.store(used, std::sync::atomic::Ordering::Relaxed);
        let quota = self.limits.lock().expect("instance limits").as_ref().and_then(|limits| limits.disk.clone())?;
        let past = quota.measured(used);
        past.then(|| format!("disk quota of {} MB exceeded", quota.limit_mb()))
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

    /// Serves on for [`UNREGISTER_GRACE`], then lets the requests in
    /// flight finish (within [`DRAIN_LIMIT`]) and closes every connection.
    async fn drain(&self) {
        tokio::time::sleep(UNREGISTER_GRACE).await;
        let Some(server) = self.server.lock().expect("instance server").take() else { return };
        let Server::Http { task, drain } = server else { return server.abort() };
        drain.cancel();
        let abort = task.abort_handle();
        if tokio::time::timeout(DRAIN_LIMIT, task).await.is_err() {
            abort.abort();
        }
    }
}

impl Instance {
    /// A new instance of `start` (under `id` when re-adopting one from the
    /// DEA's saved instances), STARTING, listed on the DEA and saved.
    pub(super) fn add(dea: &Dea, start: DeaStart, id: Option<String>) -> Arc<Instance> {
        let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let instance = Arc::new(Instance {
            dir: dea.dir.join("instances").join(&id),
            status: Mutex::new(Status {
                state: InstanceState::Starting,
                since: epoch_seconds(),
                port: 0,
                uris: start.uris.clone(),
                route_services: start.route_services.clone(),
            }),
            id: id.clone(),
            start,
            started_at: Utc::now(),
            began: Instant::now(),
            server: Mutex::new(None),
            limits: Mutex::new(None),
            code_sha1: OnceLock::new(),
            cpu_sample: Mutex::new((Instant::now(), Duration::ZERO)),
            disk_used: Default::default(),
        });
        dea.instances.lock().expect("dea instances").insert(id, instance.clone());
        dea.save_instances();
        instance
    }
}

/// A line of the DEA's own on the instance's log stream, tagged
/// `[CELL/index]` as Diego's cells tag theirs: clients follow an
/// instance's life by these.
pub(super) async fn tell(dea: &Dea, instance: &Instance, text: String) {
    let line = LogMessage::new(instance.start.app_guid(), "CELL", &instance.start.index.to_string(), "OUT", text);
    if let Err(e) = dea.bus.publish(&line.subject(), &line).await {
        tracing::warn!("logging for instance {}: {e:#}", instance.id);
    }
}

/// Marks the instance crashed, takes it off its routes and reports it.
pub(super) async fn crash(dea: &Dea, instance: &Instance, description: String) {
    instance.stop_serving_soon();
    if instance.set_state(InstanceState::Crashed) == InstanceState::Crashed {
        return;
    }
    tracing::info!("instance {} of app {} crashed: {description}", instance.start.index, instance.start.droplet);
    METRICS.crashes.inc();
    // Only the latest crash of an index is kept (a crash loop must not fill the disk).
    let earlier: Vec<Arc<Instance>> = dea
        .instances()
        .into_iter()
        .filter(|i| {
            i.id != instance.id && i.start.droplet == instance.start.droplet && i.start.index == instance.start.index
        })
        .filter(|i| i.state() == InstanceState::Crashed)
        .collect();
    for crashed in earlier {
        Box::pin(stop(dea, &crashed)).await;
    }
    dea.save_instances();
    let _ = instance.unregister(dea).await;
    exited(dea, &instance.start, &instance.id, "CRASHED", 255, description).await;
    let _ = dea.advertise().await;
}

/// Drains (unless it crashed), stops and forgets the instance, removing
/// its directory.
pub async fn stop(dea: &Dea, instance: &Instance) {
    let Some(before) = instance.begin_stopping() else { return };
    dea.save_instances();
    if before != InstanceState::Crashed {
        tell(dea, instance, format!("Cell {} stopping instance {}", dea.id, instance.id)).await;
        let _ = instance.unregister(dea).await;
        let _ = dea.advertise().await;
        instance.drain().await;
    }
    instance.stop_serving();
    dea.instances.lock().expect("dea instances").remove(&instance.id);
    instance.set_state(InstanceState::Stopped);
    if before != InstanceState::Crashed {
        exited(dea, &instance.start, &instance.id, "STOPPED", 0, "stopped by the Cloud Controller".into()).await;
    }
    let _ = tokio::fs::remove_dir_all(&instance.dir).await;
    dea.caches_changed.notify_one();
}

/// Reports on `droplet.exited` that instance `id` of `start` ended (or,
/// refused a start, never ran).
pub(super) async fn exited(
    dea: &Dea,
    start: &DeaStart,
    id: &str,
    reason: &str,
    exit_status: i32,
    exit_description: String,
) {
    let exit = DropletExited {
        droplet: start.droplet.clone(),
        version: start.version.clone(),
        instance: id.to_string(),
        index: start.index,
        reason: reason.into(),
        exit_status,
        exit_description,
        crash_timestamp: (reason == "CRASHED").then(|| Utc::now().timestamp()),
    };
    if let Err(e) = dea.bus.publish(subjects::DROPLET_EXITED, &exit).await {
        tracing::warn!("reporting an exit: {e:#}");
    }
}

/// Moves a running instance to a new set of routes (and route services).
pub async fn change_routes(
    dea: &Dea,
    instance: &Instance,
    uris: Vec<String>,
    services: BTreeMap<String, String>,
) -> Result<()> {
    let removed: Vec<String> = {
        let mut status = instance.status.lock().expect("instance status");
        let removed = status.uris.iter().filter(|u| !uris.contains(u)).cloned().collect();
        status.uris = uris;
        status.route_services = services;
        removed
    };
    if !removed.is_empty() && instance.state() == InstanceState::Running {
        let mut gone = instance.registration(dea);
        gone.uris = removed;
        dea.bus.publish(subjects::ROUTER_UNREGISTER, &gone).await?;
    }
    instance.register(dea).await
}
