//! Every subject on the bus and the JSON message it carries — CF v2's NATS
//! dispatch, field names as the CF components used them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Subjects. Functions build the per-DEA and per-app ones.
pub mod subjects {
    pub const DEA_ADVERTISE: &str = "dea.advertise";
    pub const STAGING_ADVERTISE: &str = "staging.advertise";
    pub const DEA_STOP: &str = "dea.stop";
    pub const DEA_UPDATE: &str = "dea.update";
    pub const DEA_FIND_DROPLET: &str = "dea.find.droplet";
    pub const DEA_HEARTBEAT: &str = "dea.heartbeat";
    pub const DROPLET_EXITED: &str = "droplet.exited";
    pub const ROUTER_REGISTER: &str = "router.register";
    pub const ROUTER_UNREGISTER: &str = "router.unregister";
    pub const ROUTER_START: &str = "router.start";
    /// A DEA asks the routers already up to answer with their `router.start`.
    pub const ROUTER_GREET: &str = "router.greet";
    /// Not gorouter's: many registrations in one message, sent only when
    /// every router said it reads them ([`RouterStart::register_batches`]).
    pub const ROUTER_REGISTER_BATCH: &str = "router.register.batch";
    pub const HEALTH_START: &str = "health.start";
    pub const HEALTH_STOP: &str = "health.stop";
    /// All app log streams (`logs.<app guid>`).
    pub const ALL_LOGS: &str = "logs.>";
    /// Not CF v2's (it had no tasks): cancel a task wherever it runs.
    pub const TASK_CANCEL: &str = "task.cancel";
    /// Not CF v2's: a task ended, how.
    pub const TASK_FINISHED: &str = "task.finished";

    pub fn staging_start(dea_id: &str) -> String {
        format!("staging.{dea_id}.start")
    }
    pub fn dea_start(dea_id: &str) -> String {
        format!("dea.{dea_id}.start")
    }
    pub fn app_logs(app_guid: &str) -> String {
        format!("logs.{app_guid}")
    }
    /// Not CF v2's: run a task on this DEA (a request; the DEA answers
    /// whether it took it).
    pub fn task_start(dea_id: &str) -> String {
        format!("task.{dea_id}.start")
    }
    /// Not CF's: the DEA's directory server, asked over the bus.
    pub fn dea_files(dea_id: &str) -> String {
        format!("dea.{dea_id}.files")
    }
}

/// `dea.advertise` / `staging.advertise`: a DEA's free capacity, every few
/// seconds and whenever it changes much.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Advertise {
    pub id: String,
    pub stacks: Vec<String>,
    pub available_memory: u64,
    pub available_disk: u64,
    /// How many more instances it takes (its instance and descriptor
    /// budget); none said: as many as memory and disk allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_instances: Option<u32>,
    /// All the memory and disk (MB) it offers, free or not: the most one
    /// instance could have there. None from a DEA of an earlier release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_capacity: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_capacity: Option<u64>,
    #[serde(default)]
    pub app_id_to_count: BTreeMap<String, u32>,
}

/// `staging.<dea_id>.start`: stage one app package into a droplet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StagingRequest {
    pub app_id: String,
    pub task_id: String,
    pub properties: StagingProperties,
    /// Blobstore key of the package zip.
    pub download_uri: String,
    /// Blobstore key of this app's buildpack cache (may not exist yet).
    pub buildpack_cache_key: String,
    /// Buildpacks to try in order, unless `properties.buildpack` names one.
    pub admin_buildpacks: Vec<AdminBuildpack>,
    pub stack: String,
    /// The app as an instance would see it (for VCAP_APPLICATION and limits
    /// while staging); its droplet fields are empty.
    pub start_message: DeaStart,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StagingProperties {
    /// A buildpack name chosen by the app, if any.
    pub buildpack: Option<String>,
    /// The app's env as `KEY=value` strings.
    pub environment: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AdminBuildpack {
    pub name: String,
    /// Blobstore key of the buildpack's .wasm.
    pub key: String,
    pub sha1: String,
}

/// A reply to a staging request. Staging sends two: first with
/// `task_log_subject` once it started, then the outcome (`error`, or the
/// detected buildpack, start command and droplet).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StagingReply {
    pub task_id: String,
    #[serde(default)]
    pub task_log_subject: Option<String>,
    #[serde(default)]
    pub finished: bool,
    #[serde(default)]
    pub error: Option<StagingError>,
    #[serde(default)]
    pub detected_buildpack: Option<String>,
    #[serde(default)]
    pub buildpack_key: Option<String>,
    #[serde(default)]
    pub detected_start_command: Option<String>,
    #[serde(default)]
    pub droplet_sha1: Option<String>,
    /// The droplet's commands by process type: `web` the buildpack's, the
    /// others from the app's Procfile.
    #[serde(default)]
    pub process_types: BTreeMap<String, String>,
}

/// Why staging failed, in CC terms: `id` is the CF error name recorded as the
/// app's `staging_failed_reason` (NoAppDetectedError, BuildpackCompileFailed,
/// StagingError, StagingTimeExpired…).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StagingError {
    pub id: String,
    pub message: String,
}

/// `dea.<dea_id>.start`: run one instance of a staged app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeaStart {
    /// The process the instance is of: for an app's web process the app
    /// guid (CF v2's meaning), for its other process types their own guid,
    /// the key heartbeats, stops and the health manager use.
    pub droplet: String,
    /// The app guid, for a process other than web (None: `droplet` is it).
    #[serde(default)]
    pub app: Option<String>,
    /// The process type, for one other than web.
    #[serde(default)]
    pub process_type: Option<String>,
    pub name: String,
    pub uris: Vec<String>,
    /// Of `uris`, those bound to a route service: the url routers send
    /// their requests through first.
    #[serde(default)]
    pub route_services: BTreeMap<String, String>,
    pub prod: bool,
    /// The droplet's SHA1, which is also its blobstore key.
    pub sha1: String,
    pub executable_uri: String,
    /// The app version: changes whenever the app must be restarted.
    pub version: String,
    pub services: Vec<serde_json::Value>,
    pub limits: Limits,
    /// The user's env as `KEY=value` strings.
    pub env: Vec<String>,
    pub index: u32,
    /// The start command the app set, overriding the buildpack's.
    pub start_command: Option<String>,
    pub space_guid: String,
    pub space_name: String,
    pub users: Vec<String>,
    /// `port` (the default: RUNNING once `$PORT` accepts connections),
    /// `http` (once GET `health_check_http_endpoint` answers 2xx),
    /// `process` or `none` (RUNNING once started), as the app set it.
    #[serde(default)]
    pub health_check_type: Option<String>,
    #[serde(default)]
    pub health_check_http_endpoint: Option<String>,
    /// Seconds the port health check waits; the DEA's default if none.
    #[serde(default)]
    pub health_check_timeout: Option<u64>,
    /// Where the instance may connect: the rules of the security groups
    /// bound to its space and of the platform's default running (for
    /// staging: staging) groups.
    #[serde(default)]
    pub egress_network_rules: Vec<EgressRule>,
}

impl DeaStart {
    /// The guid of the app the instance is of.
    pub fn app_guid(&self) -> &str {
        self.app.as_deref().unwrap_or(&self.droplet)
    }

    /// Its process type.
    pub fn process_type(&self) -> &str {
        self.process_type.as_deref().unwrap_or("web")
    }

    /// The source its instances log as: `APP` for web (Log Cache calls it
    /// `APP/PROC/WEB`), `APP/PROC/<TYPE>` for the others.
    pub fn log_source(&self) -> String {
        match &self.process_type {
            None => "APP".into(),
            Some(kind) => format!("APP/PROC/{}", kind.to_ascii_uppercase()),
        }
    }

    /// The command an instance runs: the app's own, else the one the
    /// buildpack released.
    pub fn effective_start_command(&self, released: &str) -> String {
        self.start_command.clone().filter(|c| !c.trim().is_empty()).unwrap_or_else(|| released.to_string())
    }
}

/// One security group rule, as CF writes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EgressRule {
    /// tcp, udp, icmp or all.
    pub protocol: String,
    /// One address, a CIDR (`10.0.0.0/8`) or a range (`10.0.0.1-10.0.0.9`).
    pub destination: String,
    /// `443`, `80,443` or `8000-9000`; none for every port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<String>,
}

/// What one instance (or staging task) may use, as CF's `dea.start` carries
/// it: `{"mem": MB, "disk": MB, "fds": N}` on the wire. The DEA enforces it
/// as a [`GuestLimits`](crate::runtime::limits::GuestLimits) in bytes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Limits {
    #[serde(rename = "mem")]
    pub memory_mb: u64,
    #[serde(rename = "disk")]
    pub disk_mb: u64,
    pub fds: u64,
}

/// `dea.heartbeat`: every instance on a DEA and its state, sent with each
/// advertisement (every few seconds and whenever an instance changes); the
/// health manager compares them with what the CC wants. A DEA of many
/// instances sends it in parts of at most [`HEARTBEAT_PART_INSTANCES`]
/// (within a NATS message's 1 MB), put together again by who hears them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Heartbeat {
    pub dea: String,
    pub droplets: Vec<InstanceHeartbeat>,
    /// Its tasks: those running and those ended within the last minutes,
    /// so a `task.finished` the CC missed is still learnt.
    #[serde(default)]
    pub tasks: Vec<TaskReport>,
    /// Which part of the DEA's heartbeat this is; none: all of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<HeartbeatPart>,
}

/// Instances one `dea.heartbeat` message lists at most (a few hundred
/// bytes each).
pub const HEARTBEAT_PART_INSTANCES: usize = 2000;

/// One part of a heartbeat: the `index`th of `count`, of heartbeat number
/// `beat` of its DEA.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct HeartbeatPart {
    pub beat: u64,
    pub index: u32,
    pub count: u32,
}

impl Heartbeat {
    /// The heartbeat as the messages that carry it: itself when small,
    /// else parts (the tasks in the first) numbered as heartbeat `beat`.
    pub fn into_parts(self, beat: u64) -> Vec<Heartbeat> {
        if self.droplets.len() <= HEARTBEAT_PART_INSTANCES {
            return vec![self];
        }
        let chunks: Vec<Vec<InstanceHeartbeat>> =
            self.droplets.chunks(HEARTBEAT_PART_INSTANCES).map(<[InstanceHeartbeat]>::to_vec).collect();
        let count = chunks.len() as u32;
        let mut tasks = Some(self.tasks);
        chunks
            .into_iter()
            .enumerate()
            .map(|(index, droplets)| Heartbeat {
                dea: self.dea.clone(),
                droplets,
                tasks: tasks.take().unwrap_or_default(),
                part: Some(HeartbeatPart { beat, index: index as u32, count }),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceHeartbeat {
    pub droplet: String,
    pub version: String,
    pub instance: String,
    pub index: u32,
    pub state: InstanceState,
    pub state_timestamp: f64,
}

/// `dea.stop`: stop instances of an app (all of them unless narrowed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeaStop {
    pub droplet: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub instances: Option<Vec<String>>,
    #[serde(default)]
    pub indices: Option<Vec<u32>>,
}

/// `dea.update`: a running app's routes changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeaUpdate {
    pub droplet: String,
    pub uris: Vec<String>,
    #[serde(default)]
    pub route_services: BTreeMap<String, String>,
    #[serde(default)]
    pub version: Option<String>,
}

/// `dea.find.droplet`: which instances of an app exist, in which state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindDroplet {
    pub droplet: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub include_stats: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstanceState {
    Starting,
    Running,
    Crashed,
    Stopping,
    Stopped,
}

/// One answer to `dea.find.droplet` per instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindDropletReply {
    pub dea: String,
    pub droplet: String,
    pub version: String,
    pub instance: String,
    pub index: u32,
    pub state: InstanceState,
    pub state_timestamp: f64,
    #[serde(default)]
    pub stats: Option<InstanceStats>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceStats {
    pub name: String,
    pub uris: Vec<String>,
    pub host: String,
    pub port: u16,
    pub uptime: u64,
    pub mem_quota: u64,
    pub disk_quota: u64,
    pub fds_quota: u64,
    pub usage: Usage,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Usage {
    pub time: String,
    pub cpu: f64,
    pub mem: u64,
    pub disk: u64,
}

/// `dea.<dea_id>.files`: a file or directory listing from an instance's
/// directory (what CF's DEA directory server served over HTTP).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FilesRequest {
    pub instance: String,
    /// Relative to the instance directory; "" for its top.
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FilesReply {
    /// The file's bytes (base64), or a listing of `name  size` lines.
    #[serde(default)]
    pub content_base64: Option<String>,
    /// Why there is no content: missing, outside the instance, too big.
    #[serde(default)]
    pub error: Option<String>,
}

/// `droplet.exited`: an instance stopped, by request or by crashing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DropletExited {
    pub droplet: String,
    pub version: String,
    pub instance: String,
    pub index: u32,
    /// CRASHED or STOPPED.
    pub reason: String,
    pub exit_status: i32,
    pub exit_description: String,
    pub crash_timestamp: Option<i64>,
}

/// `health.start` (a request): the health manager asks the CC to start
/// these indices of this app version, missing or crashed. The CC places
/// them as it places a user's start and answers with a [`HealthStartReply`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HealthStart {
    pub droplet: String,
    pub version: String,
    pub indices: Vec<u32>,
    /// The health manager that asks (only the one holding the lease acts).
    pub hm: String,
}

/// The CC's answer to `health.start`: which indices went to a DEA. The rest
/// found no room (or the app changed meanwhile) and are asked for again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct HealthStartReply {
    pub placed: Vec<u32>,
}

/// `health.stop`: the health manager asks the CC to stop these instances
/// (extra indices, duplicates, old versions, apps no longer started).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HealthStop {
    pub droplet: String,
    pub instances: Vec<String>,
    pub hm: String,
}

/// `router.register` / `router.unregister`: these uris now (no longer)
/// reach host:port — through the route service at `route_service_url`
/// first, when they are bound to one (gorouter's field).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RouteRegistration {
    pub host: String,
    pub port: u16,
    pub uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_service_url: Option<String>,
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub private_instance_id: Option<String>,
    #[serde(default)]
    pub index: Option<u32>,
}

/// `router.start` (also the answer to `router.greet`): a router came up;
/// everyone registers their routes again, at least every
/// `minimumRegisterIntervalInSeconds`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RouterStart {
    pub id: String,
    #[serde(rename = "minimumRegisterIntervalInSeconds")]
    pub minimum_register_interval_in_seconds: u64,
    #[serde(rename = "pruneThresholdInSeconds")]
    pub prune_threshold_in_seconds: u64,
    /// It reads `router.register.batch`. Not gorouter's field: a router
    /// without it (gorouter, an older one) gets one `router.register` per
    /// instance, as CF sends them.
    #[serde(default, rename = "registerBatches")]
    pub register_batches: bool,
}

/// `router.register.batch`: the routes of many instances, so a DEA of
/// thousands re-registers them every interval in a few messages rather
/// than one per instance. At most [`REGISTRATIONS_PER_BATCH`] each, well
/// within NATS's 1 MB message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RouteRegistrations {
    pub registrations: Vec<RouteRegistration>,
}

pub const REGISTRATIONS_PER_BATCH: usize = 2000;

/// One line of an app's log stream (`logs.<app guid>`), as loggregator
/// carried it: STG for staging, APP for instances, API for the CC.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogMessage {
    pub app_id: String,
    pub source_type: String,
    pub source_instance: String,
    /// OUT or ERR.
    pub message_type: String,
    pub message: String,
    /// Nanoseconds since the epoch.
    pub timestamp: i64,
}

impl LogMessage {
    pub fn new(app_id: &str, source_type: &str, source_instance: &str, message_type: &str, message: String) -> Self {
        LogMessage {
            app_id: app_id.to_string(),
            source_type: source_type.to_string(),
            source_instance: source_instance.to_string(),
            message_type: message_type.to_string(),
            message,
            timestamp: chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(),
        }
    }

    /// Where the line is published: its app's log stream.
    pub fn subject(&self) -> String {
        subjects::app_logs(&self.app_id)
    }
}

/// `task.<dea_id>.start`: run a task — a one-off program of a staged app's
/// droplet — to its end. `app` is the start message an instance of the
/// app gets (droplet, environment, services, security groups), with the
/// task's command as its start command and the task's own limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskStart {
    pub guid: String,
    pub name: String,
    pub app: DeaStart,
}

/// The DEA's answer to `task.<dea_id>.start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskStartReply {
    pub accepted: bool,
    /// Why it was refused (no room).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `task.cancel`: stop a task, wherever it runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskCancel {
    pub guid: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskState {
    Running,
    Succeeded,
    Failed,
}

/// A task as its DEA knows it: on `task.finished` when it ends, and in
/// every heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskReport {
    pub guid: String,
    /// The app guid.
    pub droplet: String,
    pub state: TaskState,
    #[serde(default)]
    pub failure_reason: Option<String>,
}
