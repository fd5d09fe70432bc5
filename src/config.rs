//! The server configuration: one YAML file (like CF's cloud_controller.yml
//! and dea.yml in one), every key overridable by a `WF_<KEY>` environment
//! variable, and embedded defaults that need nothing installed.
//!
//! Backends are chosen by URL: `database_url` (`sqlite://…` or
//! `postgres://…`), `bus_url` (`local:` or `nats://…`) and `blobstore_url`
//! (`file://…` or `s3://bucket/prefix`). Left empty, the first two live in
//! the data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

pub use crate::lifecycle::policy::CrashPolicy;
pub use crate::tls::CertificateFiles;
use crate::tls::{Certificates, LocalAuthority};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the embedded database, blobstore, DEA instances and secrets live.
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub bus_url: String,
    pub blobstore_url: Option<String>,
    /// The Cloud Controller API listens here.
    pub cc_listen: SocketAddr,
    /// The router listens here.
    pub router_listen: SocketAddr,
    /// The router also serves HTTPS here (`wf up`: 127.0.0.1:8443; off
    /// when unset, or `null` under `wf up`).
    pub router_tls_listen: Option<SocketAddr>,
    /// The router's certificates, picked by the client's SNI name (the
    /// first for a name none covers). None: certificates issued by the
    /// platform's own authority, made once and kept in
    /// `<data_dir>/tls/ca.crt` for clients to trust.
    pub router_tls_certificates: Vec<CertificateFiles>,
    /// Given, the CC and UAA serve HTTPS only, with this certificate.
    pub cc_tls_certificate: Option<CertificateFiles>,
    /// The URL clients use to reach the CC (advertised in /v2/info).
    pub external_url: Option<String>,
    /// The seeded shared domain. `localhost` works without DNS: every
    /// `*.localhost` name resolves to the loopback address.
    pub app_domain: String,
    /// The address DEAs serve instances on (what the router proxies to).
    pub dea_host: String,
    /// Memory the DEA has for instances and staging, in MB (the host's
    /// physical memory when unset); it offers this times
    /// `memory_overcommit_factor`.
    pub dea_memory_mb: Option<u64>,
    /// Disk the DEA has for instances, in MB; what is free where its data
    /// lives when unset.
    pub dea_disk_mb: Option<u64>,
    /// How many times its memory the DEA offers (the DEA's
    /// `memory_overcommit_factor`): an instance's memory quota caps what it
    /// may hold, and a wasm instance at rest holds next to nothing of it.
    pub memory_overcommit_factor: u64,
    /// The most instances a DEA runs at once, whatever memory they ask
    /// for (as a Diego cell's `max_containers`); the DEA offers fewer when
    /// its file descriptors run short.
    pub dea_max_instances: u32,
    /// How many times its disk the DEA offers (CF's `disk_overcommit_factor`):
    /// a disk quota caps what an instance may write, it is not reserved,
    /// and few instances fill theirs.
    pub disk_overcommit_factor: u64,
    /// Disk (MB) the DEA's caches — droplets, compiled code — may take,
    /// as Diego's executor caps its download cache
    /// (`max_cache_size_in_bytes`, 10 GB there too): past it, what was
    /// used least recently and no instance on the DEA uses is removed.
    pub dea_cache_mb: u64,
    /// Whether a DEA compiles the runtimes of the built-in buildpacks
    /// (CPython, QuickJS, the static file server) when it starts, in the
    /// background, so that the first staging of an app in that language
    /// finds them compiled (`dea::runtimes`). Off only where many DEAs
    /// start and few stage (the tests).
    pub dea_compile_runtimes_ahead: bool,
    /// How often a DEA advertises its capacity and sends `dea.heartbeat`
    /// (ms). A DEA silent for three intervals counts as gone; the health
    /// manager looks twice per interval.
    pub heartbeat_interval_ms: u64,
    /// How often routes are registered again (s): routers send it in
    /// `router.start`, and DEAs follow the router's value.
    pub router_register_interval: u64,
    /// Routes not registered again within this many seconds are dropped.
    pub router_prune_threshold: u64,
    /// A router hands requests for instances of a DEA in its own process
    /// to them in memory, not over a loopback connection (`false`: always
    /// connect, as routers and DEAs on different hosts do).
    pub router_in_process: bool,
    /// The key routers sign route service requests with; routers that
    /// share it accept each other's (unset: each router has its own).
    pub route_services_secret: Option<String>,
    /// When the health manager restarts crashed instances.
    pub crash_policy: CrashPolicy,
    /// Seconds a buildpack may run before staging is cut off.
    pub max_staging_runtime: u64,
    /// Largest accepted app upload, in bytes.
    pub max_upload_size: u64,
    /// Seconds one request to an HTTP app may take before it is cut off (504).
    pub request_timeout: u64,
    /// Seconds of CPU a program instance may spend without waiting on
    /// anything before it counts as stuck in a loop and is stopped.
    pub max_busy_seconds: u64,
    /// Seconds an instance's port health check waits, unless the app sets
    /// `health_check_timeout`.
    pub health_check_timeout: u64,
    /// Tasks (`cf run-task`) a space may have running at once: past it a
    /// new one is refused (422) until one ends.
    pub max_running_tasks_per_space: u64,
    /// Milliseconds before the CC first asks a broker how an asynchronous
    /// operation goes (the wait then doubles, to a minute at most).
    pub broker_poll_interval_ms: u64,
    /// Minutes after which an asynchronous broker operation still in
    /// progress counts as failed (CF's `broker_client_max_async_poll_duration_minutes`).
    pub broker_max_poll_minutes: u64,
    /// Seconds a broker may take to answer one request (CF's name).
    pub broker_client_timeout_seconds: u64,
    /// Accept any certificate from a broker served over HTTPS (CF's
    /// `skip_cert_verify`), for brokers with self-signed ones.
    pub broker_skip_ssl_validation: bool,
    /// The PostgreSQL server (an admin's URL) the built-in `postgresql`
    /// broker makes databases on; without it the broker role is off.
    pub postgresql_broker_url: Option<String>,
    /// Where the built-in broker listens.
    pub broker_listen: SocketAddr,
    /// Where CCs reach the built-in broker (default: `http://<broker_listen>`).
    pub broker_url: Option<String>,
    /// UAA's lockout: after this many wrong passwords for a user within
    /// `login_lockout_within_seconds`, their logins are refused for
    /// `login_lockout_seconds`.
    pub login_lockout_after_failures: u64,
    pub login_lockout_within_seconds: u64,
    pub login_lockout_seconds: u64,
    /// The built-in broker's password (default: made once and kept in
    /// `<data_dir>/broker-password`; set it when CC and broker do not share
    /// a data dir).
    pub broker_password: Option<String>,
    /// Where the process serves `GET /metrics` on a port of its own (for
    /// a DEA's or a health manager's; the CC and the router serve it on
    /// their ports too).
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from(".wf"),
            database_url: None,
            bus_url: "local:".into(),
            blobstore_url: None,
            cc_listen: "127.0.0.1:8181".parse().expect("valid address"),
            router_listen: "127.0.0.1:8080".parse().expect("valid address"),
            router_tls_listen: None,
            router_tls_certificates: Vec::new(),
            cc_tls_certificate: None,
            external_url: None,
            app_domain: "localhost".into(),
            dea_host: "127.0.0.1".into(),
            dea_memory_mb: None,
            dea_disk_mb: None,
            memory_overcommit_factor: 1,
            dea_max_instances: 10_000,
            disk_overcommit_factor: 8,
            dea_cache_mb: 10 * 1024,
            dea_compile_runtimes_ahead: true,
            heartbeat_interval_ms: 2000,
            router_register_interval: 20,
            router_prune_threshold: 120,
            router_in_process: true,
            route_services_secret: None,
            crash_policy: CrashPolicy::default(),
            max_staging_runtime: 120,
            max_upload_size: 1024 * 1024 * 1024,
            request_timeout: 60,
            max_busy_seconds: 30,
            health_check_timeout: 60,
            max_running_tasks_per_space: 100,
            broker_poll_interval_ms: 1000,
            broker_max_poll_minutes: 10080,
            broker_client_timeout_seconds: 60,
            broker_skip_ssl_validation: false,
            postgresql_broker_url: None,
            broker_listen: "127.0.0.1:8282".parse().expect("valid address"),
            broker_url: None,
            login_lockout_after_failures: 5,
            login_lockout_within_seconds: 300,
            login_lockout_seconds: 300,
            broker_password: None,
            metrics_listen: None,
        }
    }
}

impl Config {
    /// What `wf up` sets beyond the defaults, which the file and `WF_*`
    /// variables override: a whole platform on one machine serves HTTPS
    /// too.
    pub const UP_PRESETS: &[(&str, &str)] = &[("router_tls_listen", "127.0.0.1:8443")];

    /// Reads the YAML file (if any) over `presets`, then applies `WF_*`
    /// overrides.
    pub fn load(file: Option<&Path>, presets: &[(&str, &str)]) -> Result<Config> {
        let mut value = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                serde_yaml::from_str::<serde_yaml::Value>(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            }
            None => serde_yaml::Value::Mapping(Default::default()),
        };
        let map = value.as_mapping_mut().context("the config file must be a YAML mapping")?;
        for (key, val) in presets {
            let key = serde_yaml::Value::String(key.to_string());
            if !map.contains_key(&key) {
                map.insert(key, serde_yaml::Value::String(val.to_string()));
            }
        }
        for (key, val) in std::env::vars() {
            if let Some(name) = key.strip_prefix("WF_") {
                let name = name.to_ascii_lowercase();
                if FIELDS.contains(&name.as_str()) {
                    let parsed = serde_yaml::from_str(&val).unwrap_or(serde_yaml::Value::String(val));
                    map.insert(serde_yaml::Value::String(name), parsed);
                }
            }
        }
        serde_yaml::from_value(value).context("invalid configuration")
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| crate::ccdb::sqlite_url(&self.data_dir.join("cc.db")))
    }

    pub fn blobstore_url(&self) -> String {
        self.blobstore_url
            .clone()
            .unwrap_or_else(|| format!("file://{}", absolute(&self.data_dir.join("blobstore")).display()))
    }

    pub fn heartbeat_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.heartbeat_interval_ms.max(50))
    }

    /// Where CCs reach the built-in broker.
    pub fn builtin_broker_url(&self) -> String {
        self.broker_url.clone().unwrap_or_else(|| format!("http://{}", self.broker_listen))
    }

    /// The user the built-in broker takes basic auth from, and CCs send.
    pub const BROKER_USERNAME: &str = "broker";

    /// The built-in broker's password: configured, or kept in the data dir.
    pub fn broker_password(&self) -> Result<String> {
        if let Some(password) = &self.broker_password {
            return Ok(password.clone());
        }
        let file = self.data_dir.join("broker-password");
        if let Ok(password) = std::fs::read_to_string(&file) {
            return Ok(password.trim().to_string());
        }
        use rand::Rng;
        let password: String =
            rand::thread_rng().sample_iter(&rand::distributions::Alphanumeric).take(24).map(char::from).collect();
        std::fs::create_dir_all(&self.data_dir)?;
        std::fs::write(&file, &password).with_context(|| format!("writing {}", file.display()))?;
        Ok(password)
    }

    pub fn broker_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.broker_client_timeout_seconds.max(1))
    }

    /// How long a DEA may be silent before its instances count as gone.
    pub fn dea_timeout(&self) -> std::time::Duration {
        3 * self.heartbeat_interval()
    }

    /// The memory a DEA offers (MB): as configured, else the host's.
    pub fn dea_memory_mb(&self) -> u64 {
        let memory = self.dea_memory_mb.unwrap_or_else(|| {
            let mut system = sysinfo::System::new();
            system.refresh_memory();
            (system.total_memory() / (1024 * 1024)).max(256)
        });
        memory.saturating_mul(self.memory_overcommit_factor.max(1))
    }

    /// The disk a DEA offers (MB): as configured, else what is free on the
    /// disk holding the data directory, times the overcommit factor.
    pub fn dea_disk_mb(&self) -> u64 {
        let disk = self.dea_disk_mb.unwrap_or_else(|| {
            let dir = absolute(&self.data_dir);
            let disks = sysinfo::Disks::new_with_refreshed_list();
            disks
                .list()
                .iter()
                .filter(|d| dir.starts_with(d.mount_point()))
                .max_by_key(|d| d.mount_point().as_os_str().len())
                .map_or(64 * 1024, |d| d.available_space() / (1024 * 1024))
        });
        disk.saturating_mul(self.disk_overcommit_factor.max(1))
    }

    pub fn external_url(&self) -> String {
        let scheme = if self.cc_tls_certificate.is_some() { "https" } else { "http" };
        self.external_url.clone().unwrap_or_else(|| format!("{scheme}://{}", self.cc_listen))
    }

    /// The router's HTTPS certificates: configured, else issued by the
    /// platform's own authority (kept in `<data_dir>/tls/`) for the app
    /// domain's names and `localhost`'s, and for the router's address to
    /// clients naming none.
    pub fn router_certificates(&self) -> Result<Certificates> {
        if !self.router_tls_certificates.is_empty() {
            return Ok(Certificates::Files(self.router_tls_certificates.clone()));
        }
        let mut domains = vec![self.app_domain.to_ascii_lowercase(), "localhost".to_string()];
        domains.dedup();
        let mut default_names = domains.clone();
        default_names
            .extend(self.router_tls_listen.map(|a| a.ip()).filter(|ip| !ip.is_unspecified()).map(|ip| ip.to_string()));
        let authority = LocalAuthority::open(&self.data_dir.join("tls"), domains, default_names)?;
        Ok(Certificates::Local(Box::new(authority)))
    }
}

/// The keys `WF_*` variables may set.
const FIELDS: &[&str] = &[
    "data_dir",
    "database_url",
    "bus_url",
    "blobstore_url",
    "cc_listen",
    "router_listen",
    "router_tls_listen",
    "router_tls_certificates",
    "cc_tls_certificate",
    "external_url",
    "app_domain",
    "dea_host",
    "dea_memory_mb",
    "dea_disk_mb",
    "memory_overcommit_factor",
    "dea_max_instances",
    "disk_overcommit_factor",
    "dea_cache_mb",
    "dea_compile_runtimes_ahead",
    "heartbeat_interval_ms",
    "router_register_interval",
    "router_prune_threshold",
    "router_in_process",
    "route_services_secret",
    "max_staging_runtime",
    "max_upload_size",
    "request_timeout",
    "max_busy_seconds",
    "health_check_timeout",
    "max_running_tasks_per_space",
    "broker_poll_interval_ms",
    "broker_max_poll_minutes",
    "broker_client_timeout_seconds",
    "broker_skip_ssl_validation",
    "postgresql_broker_url",
    "broker_listen",
    "broker_url",
    "broker_password",
    "login_lockout_after_failures",
    "login_lockout_within_seconds",
    "login_lockout_seconds",
    "metrics_listen",
];

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
