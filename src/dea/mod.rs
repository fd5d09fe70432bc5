//! The Droplet Execution Agent: stages apps by running buildpack
//! components and runs app instances in wasmtime, within CF's limits and
//! the apps' security groups. It advertises its free capacity, answers
//! `staging.<id>.start` and `dea.<id>.start`, obeys `dea.stop` and
//! `dea.update`, reports instances on `dea.heartbeat`, `dea.find.droplet`
//! and `droplet.exited`, and keeps the router told where its instances
//! listen.
//! It owns nothing but its directory: staging work, droplets and compiled
//! code (caches) and instance directories.

mod boot;
pub mod droplet;
mod egress;
pub mod env;
mod files;
mod health;
mod instance;
mod log;
mod snapshot;
mod staging;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

use crate::blobstore::Blobstore;
use crate::bus::messages::{
    Advertise, DeaStart, DeaStop, DeaUpdate, FilesReply, FilesRequest, FindDroplet, Heartbeat, InstanceState,
    RouterStart, StagingRequest, subjects,
};
use crate::bus::{Bus, BusExt, Message, reply};
use crate::config::Config;
use crate::runtime::Runtime;
use instance::Instance;

/// How often the DEA advertises its capacity.
const ADVERTISE_INTERVAL: Duration = Duration::from_secs(5);
/// How often instances' disk usage is measured for their quotas.
const DISK_SAMPLE_INTERVAL: Duration = Duration::from_secs(2);
/// How often routes are registered again unless a router asks otherwise.
const DEFAULT_REGISTER_INTERVAL: Duration = Duration::from_secs(20);

pub struct Dea {
    pub id: String,
    config: Config,
    bus: Bus,
    blobstore: Blobstore,
    runtime: Runtime,
    dir: PathBuf,
    instances: Mutex<HashMap<String, Arc<Instance>>>,
    /// Memory (MB) held by staging tasks in progress.
    staging_memory: Mutex<u64>,
    /// Set while shutting down: the snapshot keeps what ran, to come back.
    stopping: std::sync::atomic::AtomicBool,
}

pub type DeaRef = Arc<Dea>;

impl Dea {
    /// Starts the DEA: subscribes to its subjects and begins advertising.
    pub async fn start(config: Config, bus: Bus, blobstore: Blobstore) -> Result<DeaRef> {
        let dir = std::path::absolute(config.data_dir.join("dea"))?;
        let runtime = Runtime::new(&dir.join("compiled"))?;
        let previous = snapshot::load(&dir).unwrap_or_default();
        let id = if previous.dea_id.is_empty() {
            format!("dea-{}", uuid::Uuid::new_v4().simple())
        } else {
            previous.dea_id.clone()
        };
        let dea = Arc::new(Dea {
            id,
            config,
            bus,
            blobstore,
            runtime,
            dir,
            instances: Mutex::default(),
            staging_memory: Mutex::new(0),
            stopping: Default::default(),
        });
        // Staging work and instance directories of the previous run are
        // removed; the instances in its snapshot start again below.
        for stale in ["instances", "staging"] {
            let _ = std::fs::remove_dir_all(dea.dir.join(stale));
        }
        dea.subscribe(&subjects::staging_start(&dea.id), |dea, m| async move { dea.on_staging(m).await }).await?;
        dea.subscribe(&subjects::dea_start(&dea.id), |dea, m| async move { dea.on_start(m).await }).await?;
        dea.subscribe(subjects::DEA_STOP, |dea, m| async move { dea.on_stop(m).await }).await?;
        dea.subscribe(subjects::DEA_UPDATE, |dea, m| async move { dea.on_update(m).await }).await?;
        dea.subscribe(subjects::DEA_FIND_DROPLET, |dea, m| async move { dea.on_find(m).await }).await?;
        dea.subscribe(subjects::ROUTER_START, |dea, m| async move { dea.on_router_start(m).await }).await?;
        dea.subscribe(&subjects::dea_files(&dea.id), |dea, m| async move { dea.on_files(m).await }).await?;
        dea.advertise().await?;
        for saved in previous.instances {
            tracing::info!("re-adopting instance {} of app {} from the snapshot", saved.start.index, saved.start.name);
            tokio::spawn(instance::start(dea.clone(), saved.start, Some(saved.id)));
        }
        tokio::spawn(periodically(
            Arc::downgrade(&dea),
            ADVERTISE_INTERVAL,
            |dea| async move { dea.advertise().await },
        ));
        let register =
            periodically(
                Arc::downgrade(&dea),
                DEFAULT_REGISTER_INTERVAL,
                |dea| async move { dea.register_all().await },
            );
        tokio::spawn(register);
        tokio::spawn(periodically(Arc::downgrade(&dea), DISK_SAMPLE_INTERVAL, |dea| async move {
            let instances = dea.instances();
            tokio::task::spawn_blocking(move || instances.iter().for_each(|i| i.measure_disk())).await?;
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
        crate::runtime::spawn(staging::stage(self, request, reply_to)).await?;
        Ok(())
    }

    async fn on_start(self: Arc<Self>, message: Message) -> Result<()> {
        let start: DeaStart = message.json()?;
        instance::start(self, start, None).await;
        Ok(())
    }

    async fn on_stop(self: Arc<Self>, message: Message) -> Result<()> {
        let stop: DeaStop = message.json()?;
        let matching: Vec<Arc<Instance>> = self
            .instances()
            .into_iter()
            .filter(|i| i.start.droplet == stop.droplet)
            .filter(|i| stop.version.as_ref().is_none_or(|v| *v == i.start.version))
            .filter(|i| stop.instances.as_ref().is_none_or(|ids| ids.contains(&i.id)))
            .filter(|i| stop.indices.as_ref().is_none_or(|idx| idx.contains(&i.start.index)))
            .collect();
        for instance in matching {
            instance::stop(&self, &instance).await;
        }
        self.advertise().await
    }

    async fn on_update(self: Arc<Self>, message: Message) -> Result<()> {
        let update: DeaUpdate = message.json()?;
        for instance in self.instances().into_iter().filter(|i| i.start.droplet == update.droplet) {
            instance::change_routes(&self, &instance, update.uris.clone()).await?;
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

    async fn on_router_start(self: Arc<Self>, message: Message) -> Result<()> {
        let _hello: RouterStart = message.json()?;
        self.register_all().await
    }

    fn instances(&self) -> Vec<Arc<Instance>> {
        self.instances.lock().expect("dea instances").values().cloned().collect()
    }

    /// Tells the CC how much room is left here, and the health manager
    /// which instances run (`dea.heartbeat`).
    async fn advertise(&self) -> Result<()> {
        let instances = self.instances();
        let mut app_id_to_count = std::collections::BTreeMap::new();
        let mut used = *self.staging_memory.lock().expect("staging memory");
        for instance in &instances {
            if matches!(instance.state(), InstanceState::Starting | InstanceState::Running) {
                used += instance.start.limits.mem;
                *app_id_to_count.entry(instance.start.droplet.clone()).or_insert(0) += 1;
            }
        }
        let advert = Advertise {
            id: self.id.clone(),
            stacks: vec![crate::cc::seed::STACK.to_string()],
            available_memory: self.config.dea_memory_mb.saturating_sub(used),
            available_disk: 64 * 1024,
            app_id_to_count,
        };
        self.bus.publish(subjects::DEA_ADVERTISE, &advert).await?;
        self.bus.publish(subjects::STAGING_ADVERTISE, &advert).await?;
        let heartbeat = Heartbeat { dea: self.id.clone(), droplets: instances.iter().map(|i| i.heartbeat()).collect() };
        self.bus.publish(subjects::DEA_HEARTBEAT, &heartbeat).await
    }

    async fn register_all(&self) -> Result<()> {
        for instance in self.instances() {
            instance.register(self).await?;
        }
        Ok(())
    }

    /// Writes which instances run now, unless shutting down (the snapshot
    /// then keeps what ran before, for the next start).
    fn save_snapshot(&self) {
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let instances = self
            .instances()
            .into_iter()
            .filter(|i| matches!(i.state(), InstanceState::Starting | InstanceState::Running))
            .map(|i| snapshot::SavedInstance { id: i.id.clone(), start: i.start.clone() })
            .collect();
        if let Err(e) = snapshot::save(&self.dir, &snapshot::Snapshot { dea_id: self.id.clone(), instances }) {
            tracing::error!("writing the DEA snapshot: {e:#}");
        }
    }

    /// Stops every instance (on shutdown), reporting each; the snapshot
    /// keeps them so the next start brings them back.
    pub async fn shutdown(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        for instance in self.instances() {
            instance::stop(self, &instance).await;
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
    limits: &crate::bus::messages::Limits,
    dir: &std::path::Path,
    network: crate::runtime::network::SocketCheck,
    log: crate::runtime::guest::LogStream,
) -> crate::runtime::limits::Limits {
    use crate::runtime::limits::{Disk, Limits};
    let mb = 1024 * 1024;
    let disk_mb = limits.disk;
    let disk =
        Disk::new(disk_mb * mb, move || log.line(format!("disk quota of {disk_mb} MB exceeded: writes are refused")));
    disk.measured(disk_usage(dir));
    Limits {
        disk: Some(Arc::new(disk)),
        max_handles: limits.fds as usize,
        network: Some(network),
        ..Limits::memory(limits.mem * mb)
    }
}
