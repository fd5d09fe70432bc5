//! The Droplet Execution Agent: stages apps by running buildpack
//! components and runs app instances in wasmtime, within CF's limits and
//! the apps' security groups. It advertises its free capacity, answers
//! `staging.<id>.start` and `dea.<id>.start`, obeys `dea.stop` and
//! `dea.update`, reports instances on `dea.heartbeat`, `dea.find.droplet`
//! and `droplet.exited`, and keeps the router told where its instances
//! listen.
//! It owns nothing but its directory: staging work, droplets and compiled
//! code (caches) and instance directories.

mod advert;
mod app_snapshot;
mod boot;
mod cache;
mod descriptors;
pub mod droplet;
mod egress;
pub mod env;
mod files;
mod gateway;
mod health;
mod instance;
mod links;
mod log;
mod metrics;
mod routers;
pub mod runtimes;
mod saved_instances;
mod staging;
mod task;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

use crate::blobstore::Blobstore;
use crate::bus::{Bus, BusExt, Message, reply};
use crate::config::Config;
use crate::protocol::messages::{
    Advertise, DeaStart, DeaStop, DeaUpdate, FilesReply, FilesRequest, FindDroplet, Heartbeat, InstanceState,
    REGISTRATIONS_PER_BATCH, RouteRegistrations, RouterStart, StagingRequest, subjects,
};
use crate::runtime::Runtime;
use crate::runtime::http::LocalHttpApps;
use instance::Instance;
use metrics::METRICS;

/// How often instances' disk usage is measured for their quotas.
const DISK_SAMPLE_INTERVAL: Duration = Duration::from_secs(2);
/// How long a DEA waits, when it starts, for the routers up to answer
/// `router.greet` (until then it registers routes one per message).
const GREETING_TIME: Duration = Duration::from_secs(1);
/// How long a crashed instance's directory is kept for `cf files` and logs
/// (CF's `crash_lifetime_secs`); only the latest crash of an index is kept.
const CRASH_LIFETIME: Duration = Duration::from_secs(3600);

pub struct Dea {
    pub id: String,
    config: Config,
    bus: Bus,
    blobstore: Blobstore,
    runtime: Runtime,
    /// Where its HTTP instances are listed, for its gateway and a router
    /// in this process.
    local_apps: LocalHttpApps,
    /// The port of its gateway, where it serves every HTTP instance.
    gateway_port: u16,
    /// Closes the gateway when the DEA is dropped.
    gateway: tokio_util::sync::CancellationToken,
    dir: PathBuf,
    instances: Mutex<HashMap<String, Arc<Instance>>>,
    /// What the DEA offers (MB): memory and disk.
    capacity: (u64, u64),
    /// Memory (MB) held by staging tasks in progress.
    staging_memory: Mutex<u64>,
    /// Tasks (`cf run-task`) running here or ended lately, by guid.
    tasks: Mutex<HashMap<String, task::Task>>,
    /// How often and how its routes are registered, as the routers ask.
    routers: routers::Routers,
    saved_instances: saved_instances::SavedInstancesWriter,
    /// Set while shutting down: the saved instances keep what ran, to come back.
    stopping: AtomicBool,
    /// Told when the caches may be past their budget ([`cache`]).
    caches_changed: Arc<tokio::sync::Notify>,
    /// Its adverts and heartbeats, coalesced.
    adverts: Arc<advert::Adverts>,
}

pub type DeaRef = Arc<Dea>;

impl Dea {
    /// Starts the DEA: subscribes to its subjects and begins advertising.
    /// Its HTTP instances are listed in `local_apps` while they are served.
    pub async fn start(config: Config, bus: Bus, blobstore: Blobstore, local_apps: LocalHttpApps) -> Result<DeaRef> {
        let dir = std::path::absolute(config.data_dir.join("dea"))?;
        let runtime = Runtime::new(&dir.join("compiled"))?;
        let previous = saved_instances::load(&dir).unwrap_or_default();
        let id = if previous.dea_id.is_empty() {
            format!("dea-{}", uuid::Uuid::new_v4().simple())
        } else {
            previous.dea_id.clone()
        };
        let gateway = tokio_util::sync::CancellationToken::new();
        let gateway_port = gateway::open(&dir, &config.dea_host, local_apps.clone(), gateway.clone()).await?;
        let capacity = (config.dea_memory_mb(), config.dea_disk_mb());
        tracing::info!("DEA {id} offers {} MB of memory and {} MB of disk", capacity.0, capacity.1);
        let dea = Arc::new_cyclic(|weak: &std::sync::Weak<Dea>| {
            let weak = weak.clone();
            Dea {
                id,
                routers: routers::Routers::new(config.router_register_interval),
                saved_instances: saved_instances::SavedInstancesWriter::start(dir.clone(), move || {
                    weak.upgrade()?.running_instances()
                }),
                config,
                bus,
                blobstore,
                runtime,
                local_apps,
                gateway_port,
                gateway,
                dir,
                instances: Mutex::default(),
                capacity,
                staging_memory: Mutex::new(0),
                tasks: Mutex::default(),
                stopping: Default::default(),
                caches_changed: Arc::default(),
                adverts: advert::Adverts::new(),
            }
        });
        let weak = Arc::downgrade(&dea);
        tokio::spawn(dea.adverts.clone().send_while(move || {
            let dea = weak.upgrade()?;
            Some(async move {
                if let Err(e) = dea.send_advert().await {
                    tracing::warn!("advertising: {e:#}");
                }
            })
        }));
        // Staging work, instance and task directories of the previous run
        // are removed; the instances it saved start again below.
        for stale in ["instances", "staging", "tasks"] {
            let _ = std::fs::remove_dir_all(dea.dir.join(stale));
        }
        dea.subscribe(&subjects::staging_start(&dea.id), |dea, m| async move { dea.on_staging(m).await }).await?;
        dea.subscribe(&subjects::dea_start(&dea.id), |dea, m| async move { dea.on_start(m).await }).await?;
        dea.subscribe(subjects::DEA_STOP, |dea, m| async move { dea.on_stop(m).await }).await?;
        dea.subscribe(subjects::DEA_UPDATE, |dea, m| async move { dea.on_update(m).await }).await?;
        dea.subscribe(subjects::DEA_FIND_DROPLET, |dea, m| async move { dea.on_find(m).await }).await?;
        dea.subscribe(subjects::ROUTER_START, |dea, m| async move { dea.on_router_start(m).await }).await?;
        dea.subscribe(&subjects::dea_files(&dea.id), |dea, m| async move { dea.on_files(m).await }).await?;
        dea.subscribe(&subjects::task_start(&dea.id), task::on_start).await?;
        dea.subscribe(subjects::TASK_CANCEL, task::on_cancel).await?;
        dea.advertise().await?;
        for saved in previous.instances {
            tracing::info!("re-adopting instance {} of app {} it saved", saved.start.index, saved.start.name);
            tokio::spawn(boot::start(dea.clone(), saved.start, Some(saved.id)));
        }
        let heartbeat = dea.config.heartbeat_interval();
        tokio::spawn(periodically(Arc::downgrade(&dea), heartbeat, |dea| async move { dea.advertise().await }));
        tokio::spawn(register_periodically(Arc::downgrade(&dea)));
        tokio::spawn(cache::keep_within_budget(Arc::downgrade(&dea), dea.caches_changed.clone()));
        tokio::spawn(periodically(Arc::downgrade(&dea), DISK_SAMPLE_INTERVAL, |dea| async move {
            let instances = dea.instances();
            let past_quota = tokio::task::spawn_blocking(move || {
                instances.into_iter().filter_map(|i| Some((i.measure_disk()?, i))).collect::<Vec<_>>()
            })
            .await?;
            for (reason, instance) in past_quota {
                instance::crash(&dea, &instance, reason).await;
            }
            Ok(())
        }));
        tokio::spawn(periodically(Arc::downgrade(&dea), CRASH_LIFETIME / 60, |dea| async move {
            for instance in dea.instances() {
                if instance.state() == InstanceState::Crashed && instance.state_age() > CRASH_LIFETIME {
                    instance::stop(&dea, &instance).await;
                }
            }
            Ok(())
        }));
        Ok(dea)
    }

    /// Runs `handle` for every message on `subject`, each in its own task.
    async fn subscribe<F, Fut>(self: &Arc<Self>, subject: &str, handle: F) -> Result<()>
    where
        F: Fn(DeaRef, Message) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        let mut messages = self.bus.subscribe(subject, None).await?;
        let weak = Arc::downgrade(self);
        let subject = subject.to_string();
        let handle = Arc::new(handle);
        tokio::spawn(async move {
            while let Some(message) = messages.next().await {
                let Some(dea) = weak.upgrade() else { break };
                let handle = handle.clone();
                let subject = subject.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(dea, message).await {
                        tracing::warn!("{subject}: {e:#}");
                    }
                });
            }
        });
        Ok(())
    }

    async fn on_staging(self: Arc<Self>, message: Message) -> Result<()> {
        let request: StagingRequest = message.json()?;
        let Some(reply_to) = message.reply.clone() else { return Ok(()) };
        // Buildpacks run on the guests' threads, like instances.
        crate::runtime::spawn(staging::stage(self.clone(), request, reply_to)).await?;
        self.caches_changed.notify_one();
        Ok(())
    }

    async fn on_start(self: Arc<Self>, message: Message) -> Result<()> {
        let start: DeaStart = message.json()?;
        boot::start(self, start, None).await;
        Ok(())
    }

    async fn on_stop(self: Arc<Self>, message: Message) -> Result<()> {
        let stop: DeaStop = message.json()?;
        let matching: Vec<Arc<Instance>> = self
            .instances()
            .into_iter()
            // Stopping all of an app (or a version of it) stops all its processes.
            .filter(|i| {
                i.start.droplet == stop.droplet || (stop.indices.is_none() && i.start.app_guid() == stop.droplet)
            })
            .filter(|i| stop.version.as_ref().is_none_or(|v| *v == i.start.version))
            .filter(|i| stop.instances.as_ref().is_none_or(|ids| ids.contains(&i.id)))
            .filter(|i| stop.indices.as_ref().is_none_or(|idx| idx.contains(&i.start.index)))
            .collect();
        futures::future::join_all(matching.iter().map(|instance| instance::stop(&self, instance))).await;
        self.advertise().await
    }

    async fn on_update(self: Arc<Self>, message: Message) -> Result<()> {
        let update: DeaUpdate = message.json()?;
        for instance in self.instances().into_iter().filter(|i| i.start.droplet == update.droplet) {
            instance::change_routes(&self, &instance, update.uris.clone(), update.route_services.clone()).await?;
        }
        Ok(())
    }

    async fn on_find(self: Arc<Self>, message: Message) -> Result<()> {
        let query: FindDroplet = message.json()?;
        for instance in self.instances() {
            if instance.start.droplet == query.droplet
                && query.version.as_ref().is_none_or(|v| *v == instance.start.version)
            {
                reply(self.bus.as_ref(), &message, &instance.report(&self, query.include_stats)).await?;
            }
        }
        Ok(())
    }

    async fn on_files(self: Arc<Self>, message: Message) -> Result<()> {
        let request: FilesRequest = message.json()?;
        let dir = self.instances.lock().expect("dea instances").get(&request.instance).map(|i| i.dir().to_path_buf());
        let answer = match dir {
            Some(dir) => tokio::task::spawn_blocking(move || files::read(&dir, &request.path)).await?,
            None => FilesReply { content_base64: None, error: Some("no such instance on this DEA".into()) },
        };
        reply(self.bus.as_ref(), &message, &answer).await
    }

    /// A router came up: it learns every route now, and from then on at
    /// the interval it asks for.
    async fn on_router_start(self: Arc<Self>, message: Message) -> Result<()> {
        self.routers.heard(&message.json::<RouterStart>()?);
        self.register_all().await
    }

    /// Asks the routers already up how they want routes registered.
    async fn greet_routers(&self) {
        let greeting = serde_json::json!({});
        match self.bus.request_many(subjects::ROUTER_GREET, &greeting, usize::MAX, GREETING_TIME).await {
            Ok(answers) => answers
                .iter()
                .filter_map(|answer| answer.json::<RouterStart>().ok())
                .for_each(|h| self.routers.heard(&h)),
            Err(e) => tracing::warn!("greeting the routers: {e:#}"),
        }
    }

    /// The DEA's directory: caches and instance directories.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    fn instance_count(&self) -> usize {
        self.instances.lock().expect("dea instances").len()
    }

    fn instances(&self) -> Vec<Arc<Instance>> {
        self.instances.lock().expect("dea instances").values().cloned().collect()
    }

    /// Memory and disk (MB) held now: by starting and running instances,
    /// staging and running tasks.
    fn reserved(&self) -> (u64, u64) {
        let mut memory = *self.staging_memory.lock().expect("staging memory");
        let mut disk = 0;
        for instance in self.instances() {
            if matches!(instance.state(), InstanceState::Starting | InstanceState::Running) {
                memory += instance.start.limits.memory_mb;
                disk += instance.start.limits.disk_mb;
            }
        }
        for task in self.tasks.lock().expect("dea tasks").values().filter(|t| t.is_running()) {
            memory += task.memory_mb;
            disk += task.disk_mb;
        }
        (memory, disk)
    }

    /// Tells the CC how much room is left here, and the health manager
    /// which instances run (`dea.heartbeat`): returns once an advert made
    /// after this call went out ([`advert`]).
    async fn advertise(&self) -> Result<()> {
        self.adverts.ask().await;
        Ok(())
    }

    async fn send_advert(&self) -> Result<()> {
        let instances = self.instances();
        let mut app_id_to_count = std::collections::BTreeMap::new();
        for instance in &instances {
            if matches!(instance.state(), InstanceState::Starting | InstanceState::Running) {
                *app_id_to_count.entry(instance.start.droplet.clone()).or_insert(0) += 1;
            }
        }
        let (memory, disk) = self.reserved();
        let mb = 1024 * 1024;
        METRICS.instances(instances.iter().map(|i| i.state()));
        METRICS.memory_capacity.set(gauge(self.capacity.0 * mb));
        METRICS.memory_reserved.set(gauge(memory * mb));
        METRICS.memory_used.set(gauge(instances.iter().map(|i| i.memory_used()).sum()));
        let advert = Advertise {
            id: self.id.clone(),
            stacks: vec![crate::protocol::STACK.to_string()],
            available_memory: self.capacity.0.saturating_sub(memory),
            available_disk: self.capacity.1.saturating_sub(disk),
            available_instances: Some(self.instance_room(instances.len())),
            memory_capacity: Some(self.capacity.0),
            disk_capacity: Some(self.capacity.1),
            app_id_to_count,
        };
        self.bus.publish(subjects::DEA_ADVERTISE, &advert).await?;
        self.bus.publish(subjects::STAGING_ADVERTISE, &advert).await?;
        let tasks = task::reports(&mut self.tasks.lock().expect("dea tasks"));
        let droplets = instances.iter().map(|i| i.heartbeat()).collect();
        let heartbeat = Heartbeat { dea: self.id.clone(), droplets, tasks, part: None };
        // Its parts (a DEA of thousands of instances) are told apart from
        // the last heartbeat's by when it was sent.
        let beat = chrono::Utc::now().timestamp_micros() as u64;
        for part in heartbeat.into_parts(beat) {
            self.bus.publish(subjects::DEA_HEARTBEAT, &part).await?;
        }
        Ok(())
    }

    /// How many more instances it takes: its most, less those it holds
    /// (in any state), and no more than its descriptors allow.
    fn instance_room(&self, held: usize) -> u32 {
        let room = self.config.dea_max_instances.saturating_sub(u32::try_from(held).unwrap_or(u32::MAX));
        descriptors::instance_room().map_or(room, |allowed| room.min(allowed))
    }

    /// Registers the routes of every running instance again: in batches if
    /// every router reads them, else one message per instance.
    async fn register_all(&self) -> Result<()> {
        let instances = self.instances();
        if !self.routers.read_batches() {
            for instance in instances {
                instance.register(self).await?;
            }
            return Ok(());
        }
        let registrations: Vec<_> = instances.iter().flat_map(|instance| instance.registrations(self)).collect();
        for batch in registrations.chunks(REGISTRATIONS_PER_BATCH) {
            let batch = RouteRegistrations { registrations: batch.to_vec() };
            self.bus.publish(subjects::ROUTER_REGISTER_BATCH, &batch).await?;
        }
        Ok(())
    }

    /// Asks for the saved instances to be written with what runs now.
    fn save_instances(&self) {
        self.saved_instances.changed();
    }

    /// What runs now, as it is saved; None while shutting down (what is
    /// saved then is what ran before, for the next start).
    fn running_instances(&self) -> Option<saved_instances::SavedInstances> {
        if self.stopping.load(Ordering::SeqCst) {
            return None;
        }
        let instances = self
            .instances()
            .into_iter()
            .filter(|i| matches!(i.state(), InstanceState::Starting | InstanceState::Running))
            .map(|i| saved_instances::SavedInstance { id: i.id.clone(), start: i.start.clone() })
            .collect();
        Some(saved_instances::SavedInstances { dea_id: self.id.clone(), instances })
    }

    /// Stops every instance (on shutdown), reporting each; they stay saved
    /// so the next start brings them back.
    pub async fn shutdown(&self) {
        if let Some(current) = self.running_instances() {
            saved_instances::write(&self.dir, current).await;
        }
        self.stopping.store(true, Ordering::SeqCst);
        task::abort_all(&self.tasks.lock().expect("dea tasks"));
        let instances = self.instances();
        futures::future::join_all(instances.iter().map(|instance| instance::stop(self, instance))).await;
    }
}

impl Drop for Dea {
    fn drop(&mut self) {
        self.gateway.cancel();
        self.adverts.close();
    }
}

/// Registers every route again at the interval the routers ask for.
async fn register_periodically(dea: std::sync::Weak<Dea>) {
    if let Some(dea) = dea.upgrade() {
        dea.greet_routers().await;
    }
    loop {
        let Some(interval) = dea.upgrade().map(|d| d.routers.interval_secs()) else { return };
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let Some(dea) = dea.upgrade() else { return };
        if let Err(e) = dea.register_all().await {
            tracing::warn!("registering routes: {e:#}");
        }
    }
}

/// Calls `tick` every `interval` while the DEA lives.
async fn periodically<F, Fut>(dea: std::sync::Weak<Dea>, interval: Duration, tick: F)
where
    F: Fn(DeaRef) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut timer = tokio::time::interval(interval);
    timer.tick().await;
    loop {
        timer.tick().await;
        let Some(dea) = dea.upgrade() else { return };
        if let Err(e) = tick(dea).await {
            tracing::warn!("{e:#}");
        }
    }
}

/// Bytes of files under `dir`.
/// A count as a gauge's value.
fn gauge(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub fn disk_usage(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => disk_usage(&e.path()),
                    Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
                    _ => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The runtime limits of a guest of an app (an instance or its staging):
/// the app's memory, disk quota (on `dir`, as used now) and handles, and
/// `network`. Going over the disk quota is told on `log`.
pub(crate) fn app_limits(
    limits: &crate::protocol::messages::Limits,
    dir: &std::path::Path,
    network: crate::runtime::network::SocketCheck,
    log: crate::runtime::guest::LogStream,
) -> crate::runtime::limits::GuestLimits {
    use crate::runtime::limits::{Disk, GuestLimits};
    let mb = 1024 * 1024;
    let disk_mb = limits.disk_mb;
    let disk =
        Disk::new(disk_mb * mb, move || log.line(format!("disk quota of {disk_mb} MB exceeded: writes are refused")));
    disk.measured(disk_usage(dir));
    GuestLimits {
        disk: Some(Arc::new(disk)),
        max_handles: limits.fds as usize,
        network: Some(network),
        ..GuestLimits::memory(limits.memory_mb * mb)
    }
}
