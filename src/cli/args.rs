//! The `wf` command line: every subcommand and flag, as clap parses them.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::Config;
use anyhow::Result;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "wf", version, about = "wasmfoundry: Cloud Foundry for WebAssembly components")]
pub struct Wf {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the whole platform in this process (CC, DEA, router, health manager) on the embedded defaults.
    Up(ServerArgs),
    /// Run some server roles against shared backends.
    Server {
        /// Comma-separated: cc, dea, router, hm.
        #[arg(long, default_value = "cc,dea,router,hm")]
        roles: String,
        #[command(flatten)]
        args: ServerArgs,
    },
    /// Run a deployment: every job instance of the manifest as a `wf server` process, restarted when it dies.
    Deploy {
        /// The deployment manifest (jobs, their roles, instances and properties).
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Where each job instance keeps its config, data, log and pid.
        #[arg(long, default_value = ".wf-deployment")]
        dir: PathBuf,
    },
    /// Register an Open Service Broker (admins; space developers with --space-scoped).
    CreateServiceBroker {
        name: String,
        username: String,
        password: String,
        url: String,
        /// Offer its services in the targeted space only.
        #[arg(long)]
        space_scoped: bool,
    },
    /// List the service brokers you can see.
    ServiceBrokers,
    /// Change a broker's credentials or URL; its catalog is read again.
    UpdateServiceBroker { name: String, username: String, password: String, url: String },
    /// Rename a service broker.
    RenameServiceBroker { name: String, new_name: String },
    /// Remove a service broker and what it offers.
    DeleteServiceBroker {
        name: String,
        /// Accepted for cf compatibility; wf never asks.
        #[arg(short = 'f')]
        force: bool,
    },
    /// List the services and plans the targeted space may use.
    Marketplace,
    /// Make a service's plans public, or visible to one org (admins).
    EnableServiceAccess {
        service: String,
        #[arg(short = 'p')]
        plan: Option<String>,
        #[arg(short = 'o')]
        org: Option<String>,
    },
    /// Make a service's plans private, or no longer visible to one org (admins).
    DisableServiceAccess {
        service: String,
        #[arg(short = 'p')]
        plan: Option<String>,
        #[arg(short = 'o')]
        org: Option<String>,
    },
    /// Log in to a Cloud Controller and target an org and space.
    Login {
        #[arg(short = 'a', long = "api")]
        api: String,
        #[arg(short = 'u', long = "username")]
        username: String,
        #[arg(short = 'p', long = "password")]
        password: String,
        #[arg(short = 'o', long = "org")]
        org: Option<String>,
        #[arg(short = 's', long = "space")]
        space: Option<String>,
        /// Accept the API's certificate unchecked (one self-signed, as `wf up`'s).
        #[arg(long = "skip-ssl-validation")]
        skip_ssl_validation: bool,
    },
    /// Push an app (or every app of a manifest): create it, upload its files, stage and start it.
    Push {
        /// The app's name (optional with a manifest).
        name: Option<String>,
        #[command(flatten)]
        flags: PushFlags,
    },
    /// List the apps of the targeted space.
    Apps,
    /// Show an app and its instances.
    App { name: String },
    /// Start an app (staging it first if needed) and wait for it to run.
    Start { name: String },
    /// Stop an app's instances.
    Stop { name: String },
    /// Restart an app; a started one serves throughout (its instances roll over).
    Restart {
        name: String,
        /// `rolling`, or `canary`: pause once the first instance runs the new version.
        #[arg(long, default_value = "rolling", value_parser = ["rolling", "canary"])]
        strategy: String,
        /// How many instances start at a time.
        #[arg(long)]
        max_in_flight: Option<u32>,
    },
    /// Continue an app's paused canary deployment.
    ContinueDeployment { name: String },
    /// Cancel an app's deployment: its previous droplet rolls back out.
    CancelDeployment { name: String },
    /// Stage an app's package again; a started app serves on until the new droplet runs.
    Restage { name: String },
    /// Change an app's instances or memory.
    Scale {
        name: String,
        #[arg(short = 'i')]
        instances: Option<u32>,
        #[arg(short = 'm')]
        memory: Option<String>,
    },
    /// Delete an app (and with -r its routes).
    Delete {
        name: String,
        #[arg(short = 'r')]
        routes: bool,
        /// Accepted for cf compatibility; wf never asks.
        #[arg(short = 'f')]
        force: bool,
    },
    /// Run a one-off program of an app's droplet as a task (`--wait`: until it ends).
    RunTask {
        app: String,
        /// The program (a path in the app) and its arguments.
        #[arg(short = 'c', long = "command")]
        command: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(short = 'm')]
        memory: Option<String>,
        #[arg(short = 'k')]
        disk: Option<String>,
        #[arg(long)]
        wait: bool,
    },
    /// List an app's tasks, newest first.
    Tasks { app: String },
    /// Cancel a task of an app, by its id (`wf tasks` shows it).
    TerminateTask { app: String, id: u64 },
    /// Show an app's recent events.
    Events { name: String },
    /// Follow an app's logs (or dump the recent ones).
    Logs {
        name: String,
        #[arg(long)]
        recent: bool,
    },
    /// Show or set the targeted org and space.
    Target {
        #[arg(short = 'o')]
        org: Option<String>,
        #[arg(short = 's')]
        space: Option<String>,
    },
    /// List the orgs you can see.
    Orgs,
    /// List the spaces of the targeted org.
    Spaces,
    /// Create an org (admins).
    CreateOrg { name: String },
    /// Create a space in the targeted org or -o ORG.
    CreateSpace {
        name: String,
        #[arg(short = 'o')]
        org: Option<String>,
    },
    /// Create a user (admins).
    CreateUser { username: String, password: String },
    /// ROLE: OrgManager, BillingManager or OrgAuditor.
    SetOrgRole { username: String, org: String, role: String },
    /// ROLE: SpaceManager, SpaceDeveloper or SpaceAuditor.
    SetSpaceRole { username: String, org: String, space: String, role: String },
    /// List the routes of the targeted space.
    Routes,
    /// Create HOSTNAME.DOMAIN in the targeted space.
    CreateRoute {
        domain: String,
        #[arg(long = "hostname", short = 'n')]
        hostname: String,
    },
    /// Map HOSTNAME.DOMAIN (created if new) to an app.
    MapRoute {
        app: String,
        domain: String,
        #[arg(long = "hostname", short = 'n')]
        hostname: String,
    },
    /// Add an admin buildpack from a .wasm (or a zip holding one).
    CreateBuildpack { name: String, path: String, position: u32 },
    /// List the admin buildpacks in detection order.
    Buildpacks,
    /// List the org quota definitions.
    Quotas,
    /// Make a user-provided service instance in the targeted space.
    #[command(name = "create-user-provided-service", alias = "cups")]
    CreateUserProvidedService {
        name: String,
        /// Credentials as a JSON object, e.g. '{"uri":"postgres://…"}'.
        #[arg(short = 'p')]
        credentials: Option<String>,
        /// A syslog drain URL for the apps bound to it.
        #[arg(short = 'l')]
        syslog_drain_url: Option<String>,
    },
    /// Make an instance of a marketplace service in the targeted space.
    CreateService {
        service: String,
        plan: String,
        name: String,
        /// Parameters for the broker, as a JSON object.
        #[arg(short = 'c')]
        parameters: Option<String>,
        /// Tags, comma-separated.
        #[arg(short = 't')]
        tags: Option<String>,
    },
    /// Change a service instance's plan, parameters or tags.
    UpdateService {
        name: String,
        #[arg(short = 'p')]
        plan: Option<String>,
        /// Parameters for the broker, as a JSON object.
        #[arg(short = 'c')]
        parameters: Option<String>,
        /// Tags, comma-separated.
        #[arg(short = 't')]
        tags: Option<String>,
    },
    /// Rename a service instance.
    RenameService { name: String, new_name: String },
    /// Show a service instance: its service, plan, last operation and apps.
    Service { name: String },
    /// List the service instances of the targeted space and their apps.
    Services,
    /// Bind a service instance to an app (restart the app to use it).
    BindService {
        app: String,
        service: String,
        /// Parameters for the broker, as a JSON object.
        #[arg(short = 'c')]
        parameters: Option<String>,
    },
    /// Unbind a service instance from an app.
    UnbindService { app: String, service: String },
    /// Delete a service instance and its bindings and keys.
    DeleteService {
        name: String,
        /// Accepted for cf compatibility; wf never asks.
        #[arg(short = 'f')]
        force: bool,
    },
    /// Forget a service instance without asking its broker (admins).
    PurgeServiceInstance {
        name: String,
        /// Accepted for cf compatibility; wf never asks.
        #[arg(short = 'f')]
        force: bool,
    },
    /// Make credentials of a service instance for use outside apps.
    CreateServiceKey {
        service: String,
        key: String,
        /// Parameters for the broker, as a JSON object.
        #[arg(short = 'c')]
        parameters: Option<String>,
    },
    /// List a service instance's keys.
    ServiceKeys { service: String },
    /// Show a service key's credentials.
    ServiceKey { service: String, key: String },
    /// Delete a service key (at the broker too).
    DeleteServiceKey {
        service: String,
        key: String,
        /// Accepted for cf compatibility; wf never asks.
        #[arg(short = 'f')]
        force: bool,
    },
    /// Run WebAssembly here: `wf wasm run FILE [ARGS…]`, `wf wasm serve FILE [ARGS…]`.
    Wasm {
        #[command(subcommand)]
        what: Wasm,
    },
    /// Benchmarks: `wf bench api` times the CC's app listings at scale;
    /// `wf bench dea` the DEA's instance starts and request throughput.
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

#[derive(Subcommand)]
pub enum Wasm {
    /// Run a wasi:cli component (WASI 0.2 or 0.3) or a WASI preview 1 module as the platform would.
    Run {
        #[command(flatten)]
        guest: GuestArgs,
        file: String,
        /// Arguments for the guest.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Serve a wasi:http component (WASI 0.2 or 0.3) as an instance would,
    /// a store per request, until interrupted (as `wasmtime serve`).
    Serve {
        #[command(flatten)]
        guest: GuestArgs,
        /// Where to listen (port 0: any free port, printed).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        file: String,
        /// Arguments for the guest (a language runtime's main module:
        /// `wf wasm serve js.wasm index.js`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// What a guest run here is given.
#[derive(Args)]
pub struct GuestArgs {
    /// Give the guest a directory: HOST::GUEST (or DIR for the same path).
    #[arg(long = "dir")]
    pub dirs: Vec<String>,
    /// Set an environment variable: KEY=value.
    #[arg(long = "env")]
    pub env: Vec<String>,
    /// Memory limit, e.g. 64M.
    #[arg(long, default_value = "256M")]
    pub memory: String,
    /// Seconds before the guest (for `serve`: each request) is stopped.
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Let the guest use the host's network: any address, as `wasmtime
    /// run -S inherit-network` (without it, none).
    #[arg(long)]
    pub inherit_network: bool,
}

#[derive(Subcommand)]
pub enum Bench {
    /// The CC's answers with many apps (lists, filters, inlined relations,
    /// summaries) one at a time and from 16 connections, on SQLite and PostgreSQL.
    Api {
        #[arg(long, default_value_t = 10_000)]
        apps: usize,
        /// Requests per figure (at least 1,000).
        #[arg(long, default_value_t = 1000)]
        requests: usize,
        /// A PostgreSQL server to benchmark on too (a scratch database is made and dropped).
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Instance start → first 200 (uncached, cached in memory, cached on
    /// disk) and requests/s of examples/hello-http through the router and
    /// direct, each beside `wasmtime serve` of the same component.
    Dea {
        #[arg(long, default_value_t = 20)]
        runs: usize,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// A wasmtime CLI to serve the same component with, for comparison.
        #[arg(long)]
        wasmtime: Option<PathBuf>,
    },
    /// wf push of examples/hello-http: fresh and again, to the first routed
    /// 200 and to the command's return, and a re-push under load.
    Push {
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// A wasmtime CLI to serve the same component with, for reference.
        #[arg(long)]
        wasmtime: Option<PathBuf>,
    },
    /// Apps from source (examples/hello-js, hello-python) against
    /// examples/hello-http: push to the first 200, the first requests
    /// after a push, a new instance's first request, requests/s and p99
    /// through the router, memory per idle instance.
    Languages {
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Idle instances started to measure memory per instance.
        #[arg(long, default_value_t = 10)]
        idle: usize,
        /// An app directory measured too, as NAME=DIR: a framework example
        /// with its packages installed (`scripts/example-deps.sh
        /// examples/hello-flask /tmp/hello-flask`, then `--app
        /// hello-flask=/tmp/hello-flask`). Its GET / is what is served.
        #[arg(long = "app", value_parser = parse_named_dir)]
        apps: Vec<(String, PathBuf)>,
    },
    /// Healing, as processes on a nats-server: kill -9 of a DEA, a
    /// nats-server restart, and the HM starting many instances again.
    Hm {
        #[arg(long, default_value_t = 1000)]
        instances: u32,
        /// The nats-server binary to run.
        #[arg(long, default_value = "nats-server")]
        nats_server: PathBuf,
        /// A PostgreSQL database for the CCDB (SQLite in a temp dir otherwise).
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Instances of examples/hello-http on one DEA (`wf up`): N/10, then N
    /// — time to all running, RSS, descriptors, API latency, requests/s.
    Density {
        #[arg(long, default_value_t = 10_000)]
        instances: u32,
        /// How long the requests/s figure's load runs.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
    /// One instance start in a fresh DEA process, for `wf bench dea`.
    #[command(hide = true)]
    DeaStart {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        blobstore_url: String,
        #[arg(long)]
        droplet: String,
    },
    /// The load generator the other benchmarks run in a process of its own.
    #[command(hide = true)]
    Load {
        #[arg(long)]
        address: String,
        #[arg(long)]
        host: String,
        #[arg(long, default_value = "/")]
        path: String,
        /// `Name: value`, for every request (repeatable).
        #[arg(long = "header", value_parser = header)]
        headers: Vec<(String, String)>,
        #[arg(long, conflicts_with = "requests")]
        seconds: Option<f64>,
        #[arg(long)]
        requests: Option<u64>,
        #[arg(long)]
        connections: usize,
    },
}

#[derive(Args)]
pub struct ServerArgs {
    /// A YAML config file (keys as in Config; WF_* variables override).
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    cc_listen: Option<SocketAddr>,
    #[arg(long)]
    router_listen: Option<SocketAddr>,
    /// Where the router serves HTTPS (`wf up`: 127.0.0.1:8443).
    #[arg(long)]
    router_tls_listen: Option<SocketAddr>,
    #[arg(long)]
    bus_url: Option<String>,
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long)]
    blobstore_url: Option<String>,
}

impl ServerArgs {
    /// The config: the file over `presets` (see [`Config::load`]), then flags.
    pub fn config(self, presets: &[(&str, &str)]) -> Result<Config> {
        let mut config = Config::load(self.config.as_deref(), presets)?;
        if let Some(v) = self.data_dir {
            config.data_dir = v;
        }
        if let Some(v) = self.cc_listen {
            config.cc_listen = v;
        }
        if let Some(v) = self.router_listen {
            config.router_listen = v;
        }
        config.router_tls_listen = self.router_tls_listen.or(config.router_tls_listen);
        if let Some(v) = self.bus_url {
            config.bus_url = v;
        }
        config.database_url = self.database_url.or(config.database_url);
        config.blobstore_url = self.blobstore_url.or(config.blobstore_url);
        Ok(config)
    }
}

/// `wf push` flags, which override what a manifest says.
#[derive(Args)]
pub struct PushFlags {
    /// The app's directory.
    #[arg(short = 'p', long = "path")]
    pub path: Option<String>,
    /// A manifest (default: manifest.yml in the app's directory, if any).
    #[arg(short = 'f', long = "manifest")]
    pub manifest: Option<PathBuf>,
    /// A buildpack by name (default: detect).
    #[arg(short = 'b', long = "buildpack")]
    pub buildpack: Option<String>,
    #[arg(short = 'i', long = "instances")]
    pub instances: Option<u32>,
    /// Memory per instance, e.g. 64M or 1G.
    #[arg(short = 'm', long = "memory")]
    pub memory: Option<String>,
    /// Disk quota per instance, e.g. 256M or 1G.
    #[arg(short = 'k', long = "disk")]
    pub disk: Option<String>,
    /// How the DEA decides an instance runs: port (it accepts
    /// connections on $PORT), http, process or none.
    #[arg(short = 'u', long = "health-check-type")]
    pub health_check_type: Option<String>,
    /// Seconds the health check waits for the app to pass it.
    #[arg(short = 't', long = "timeout")]
    pub timeout: Option<u32>,
    /// The start command (a component under the app and its arguments).
    #[arg(short = 'c', long = "command")]
    pub command: Option<String>,
    /// Do not map a route.
    #[arg(long = "no-route")]
    pub no_route: bool,
    /// Map a route with a random host.
    #[arg(long = "random-route")]
    pub random_route: bool,
}

/// A `Name: value` header.
fn header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once(':').ok_or("a header is `Name: value`")?;
    Ok((name.trim().to_string(), value.trim().to_string()))
}

/// `NAME=DIR`, as `wf bench languages --app` takes it.
fn parse_named_dir(text: &str) -> Result<(String, PathBuf), String> {
    let (name, dir) = text.split_once('=').ok_or("expected NAME=DIR")?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("{name:?} is not an app name (letters, digits and '-')"));
    }
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    Ok((name.to_string(), dir))
}
