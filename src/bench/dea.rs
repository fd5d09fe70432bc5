//! `wf bench dea`: how fast the DEA starts an instance and serves it, each
//! figure beside its reference measured in the same run. With
//! examples/hello-http as the app, it runs a DEA and a router of its own
//! (in-process bus, blobstore in a temp dir) and measures:
//!
//! 1. **start**: `dea.<id>.start` → the first 200 served by the guest —
//!    uncached (every run a droplet never seen, so its component is
//!    compiled), cached in memory (the same droplet again on the same DEA),
//!    and cached on disk (a fresh DEA in a process of its own, `wf bench
//!    dea-start`, given this DEA's compiled-code cache); the reference is
//!    `wasmtime serve` of the same component: process start → first 200;
//! 2. **serving**: GET / from `--connections` keep-alive connections for
//!    `--seconds`, the load from a process of its own
//!    ([`super::load`]): through the router (which, in the DEA's
//!    process as under `wf up`, hands the request over in memory), through a
//!    router that connects to the instance as one on another host would,
//!    straight to the instance, and the reference, `wasmtime serve` of the
//!    same component with the instance's environment.
//!
//! `wasmtime` is looked for with `--wasmtime`, then on the PATH; without
//! it the reference rows say so.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::load::{LoadReport, LoadRun, Target, Until, first_200, percentile};
use crate::blobstore::{Blobstore, keys, sha1_hex};
use crate::bus::{self, Bus, BusExt};
use crate::config::Config;
use crate::dea::{Dea, droplet};
use crate::protocol::INSTANCE_ID;
use crate::protocol::messages::{DeaStart, Limits, RouteRegistration, subjects};
use crate::router::Router;
use crate::runtime::http::LocalHttpApps;

pub(super) const HELLO: &[u8] = include_bytes!("../../examples/hello-http/hello_http.wasm");
const HOST: &str = "hello.bench";

pub struct DeaBench {
    pub runs: usize,
    pub seconds: u64,
    pub connections: usize,
    pub wasmtime: Option<PathBuf>,
}

pub async fn dea(options: DeaBench) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("wf-bench-dea-{}", uuid::Uuid::new_v4().simple()));
    let result = run(&options, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A DEA on an in-process bus, and what its instances register.
struct Bench {
    bus: Bus,
    blobstore: Blobstore,
    dea: std::sync::Arc<Dea>,
    local_apps: LocalHttpApps,
    registrations: bus::Subscription,
}

impl Bench {
    async fn start(config: Config) -> Result<Bench> {
        let bus = bus::connect("local:").await?;
        let blobstore = Blobstore::open(&config.blobstore_url())?;
        let registrations = bus.subscribe(subjects::ROUTER_REGISTER, None).await?;
        let local_apps = LocalHttpApps::default();
        let dea = Dea::start(config, bus.clone(), blobstore.clone(), local_apps.clone()).await?;
        Ok(Bench { bus, blobstore, dea, local_apps, registrations })
    }

    /// Starts an instance of the droplet; returns the time from
    /// `dea.<id>.start` to the guest's first 200, and how to reach it
    /// straight (at its DEA's gateway, naming it).
    async fn start_instance(&mut self, sha1: &str, index: u32) -> Result<(Duration, Target)> {
        let app = format!("bench-{sha1}");
        let start = start_message(&app, sha1, index);
        let began = Instant::now();
        self.bus.publish(&subjects::dea_start(&self.dea.id), &start).await?;
        let instance = loop {
            let message = tokio::time::timeout(Duration::from_secs(60), self.registrations.next())
                .await
                .context("the instance did not start within 60s")?
                .context("the bus closed")?;
            let registration: RouteRegistration = message.json()?;
            if registration.app.as_deref() == Some(app.as_str()) && registration.index == Some(index) {
                let address = format!("{}:{}", registration.host, registration.port);
                let id = registration.private_instance_id.unwrap_or_default();
                break Target::root(&address, HOST).with_header(INSTANCE_ID, &id);
            }
        };
        first_200(&instance, began).await?;
        Ok((began.elapsed(), instance))
    }
}

async fn run(options: &DeaBench, dir: &Path) -> Result<()> {
    let config = Config { data_dir: dir.join("dea-1"), blobstore_url: Some(blobstore_url(dir)), ..Config::default() };
    let mut bench = Bench::start(config.clone()).await?;
    let router_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let router_address = router_listener.local_addr()?.to_string();
    let router = Router::start(&config, bench.bus.clone(), router_listener, None, bench.local_apps.clone()).await?;
    let remote_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let remote_address = remote_listener.local_addr()?.to_string();
    let remote = Config { router_in_process: false, ..config.clone() };
    let remote_router =
        Router::start(&remote, bench.bus.clone(), remote_listener, None, LocalHttpApps::default()).await?;

    let mut uncached = Vec::new();
    for run in 0..options.runs {
        let sha1 = store_droplet(&bench.blobstore, dir, &with_marker(HELLO, run)).await?;
        uncached.push(bench.start_instance(&sha1, run as u32).await?.0);
    }
    let sha1 = store_droplet(&bench.blobstore, dir, HELLO).await?;
    let (_, target) = bench.start_instance(&sha1, 0).await?;
    let mut in_memory = Vec::new();
    for run in 1..=options.runs {
        in_memory.push(bench.start_instance(&sha1, run as u32).await?.0);
    }
    let mut on_disk = Vec::new();
    for run in 0..options.runs {
        on_disk.push(start_in_fresh_process(dir, &config, &sha1, run).await?);
    }
    let wasmtime = options.wasmtime.clone().or_else(|| which("wasmtime"));
    let component = dir.join("hello_http.wasm");
    std::fs::write(&component, HELLO)?;
    let env = instance_env(&bench.dea, &sha1)?;
    let mut reference = Vec::new();
    if let Some(wasmtime) = &wasmtime {
        for _ in 0..options.runs {
            let began = Instant::now();
            let (_served, address) = WasmtimeServe::start(wasmtime, &component, &env).await?;
            first_200(&Target::root(&address, HOST), began).await?;
            reference.push(began.elapsed());
        }
    }

    println!("Start → first 200 served by the guest, examples/hello-http, {} runs each", options.runs);
    println!("{:<48} {:>9} {:>9} {:>9}", "", "p50 ms", "p99 ms", "min ms");
    print_starts("DEA, uncached (compiles the component)", &mut uncached);
    print_starts("DEA, cached in memory", &mut in_memory);
    print_starts("DEA, cached on disk (fresh process)", &mut on_disk);
    match &wasmtime {
        Some(_) => print_starts("reference: wasmtime serve (process start)", &mut reference),
        None => println!("{:<48} {:>9}", "reference: wasmtime serve", "not found (--wasmtime PATH)"),
    }

    let seconds = options.seconds as f64;
    let load = |target: Target| LoadRun::run(target, Until::Seconds(seconds), options.connections);
    let through_router = load(Target::root(&router_address, HOST)).await?;
    let through_remote_router = load(Target::root(&remote_address, HOST)).await?;
    let direct = load(target).await?;
    let reference = match &wasmtime {
        Some(wasmtime) => {
            let (_served, address) = WasmtimeServe::start(wasmtime, &component, &env).await?;
            let reference = Target::root(&address, HOST);
            first_200(&reference, Instant::now()).await?;
            Some(load(reference).await?)
        }
        None => None,
    };
    println!(
        "\nGET / for {}s from {} keep-alive connections, the load from a process of its own",
        options.seconds, options.connections
    );
    println!("{:<48} {:>11} {:>9} {:>9} {:>7} {:>12}", "", "requests/s", "p50 ms", "p99 ms", "failed", "÷ reference");
    print_load("DEA through the router (same process)", &through_router, reference.as_ref());
    print_load("DEA through a router connecting to it", &through_remote_router, reference.as_ref());
    print_load("DEA, straight to the instance", &direct, reference.as_ref());
    match &reference {
        Some(reference) => print_load("reference: wasmtime serve, same env", reference, None),
        None => println!("{:<48} {:>11}", "reference: wasmtime serve", "not found (--wasmtime PATH)"),
    }
    router.abort();
    remote_router.abort();
    bench.dea.shutdown().await;
    Ok(())
}

/// The blobstore every DEA of the bench shares.
fn blobstore_url(dir: &Path) -> String {
    format!("file://{}", dir.join("blobstore").display())
}

fn start_message(app: &str, sha1: &str, index: u32) -> DeaStart {
    DeaStart {
        app: None,
        process_type: None,
        droplet: app.into(),
        name: "hello".into(),
        uris: vec![HOST.into()],
        route_services: Default::default(),
        prod: false,
        sha1: sha1.into(),
        executable_uri: sha1.into(),
        version: "1".into(),
        services: Vec::new(),
        limits: Limits { memory_mb: 64, disk_mb: 1024, fds: 256 },
        env: Vec::new(),
        index,
        start_command: None,
        space_guid: "bench".into(),
        space_name: "bench".into(),
        users: Vec::new(),
        health_check_type: None,
        health_check_http_endpoint: None,
        health_check_timeout: None,
        egress_network_rules: Vec::new(),
    }
}

/// The component with a custom section naming `run`: a droplet with a new
/// SHA1 whose code must be compiled again.
fn with_marker(component: &[u8], run: usize) -> Vec<u8> {
    let name = b"wf-bench";
    let payload = run.to_le_bytes();
    let mut bytes = component.to_vec();
    bytes.push(0); // custom section
    bytes.push((1 + name.len() + payload.len()) as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(&payload);
    bytes
}

/// Packs the component as a droplet, stores it and returns its SHA1.
async fn store_droplet(blobstore: &Blobstore, dir: &Path, component: &[u8]) -> Result<String> {
    let work = dir.join(format!("droplet-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(work.join("app"))?;
    std::fs::write(work.join("app/hello_http.wasm"), component)?;
    let info = droplet::StagingInfo {
        detected_buildpack: "wasm".into(),
        start_command: "hello_http.wasm".into(),
        config_vars: Vec::new(),
    };
    droplet::write_staging_info(&work, &info)?;
    let bytes = droplet::pack(&work, &["app", droplet::STAGING_INFO])?;
    let sha1 = sha1_hex(&bytes);
    blobstore.put(&keys::droplet(&sha1), bytes.into()).await?;
    Ok(sha1)
}

/// One start in a DEA of a fresh process (`wf bench dea-start`) that has
/// the first DEA's caches of droplets and compiled code on its disk.
async fn start_in_fresh_process(dir: &Path, first: &Config, sha1: &str, run: usize) -> Result<Duration> {
    let data_dir = dir.join(format!("dea-fresh-{run}"));
    for cache in ["compiled", "droplets"] {
        copy_dir(&first.data_dir.join("dea").join(cache), &data_dir.join("dea").join(cache))?;
    }
    let output = tokio::process::Command::new(std::env::current_exe()?)
        .args(["bench", "dea-start", "--data-dir"])
        .arg(&data_dir)
        .args(["--blobstore-url", &blobstore_url(dir), "--droplet", sha1])
        .stderr(Stdio::inherit())
        .output()
        .await?;
    let text = String::from_utf8_lossy(&output.stdout);
    let ms: f64 = text.trim().parse().with_context(|| format!("wf bench dea-start printed {text:?}"))?;
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// The child's side of [`start_in_fresh_process`]: prints the milliseconds.
pub async fn start_once(data_dir: PathBuf, blobstore_url: String, droplet: String) -> Result<()> {
    let config = Config { data_dir, blobstore_url: Some(blobstore_url), ..Config::default() };
    let mut bench = Bench::start(config).await?;
    let (took, _) = bench.start_instance(&droplet, 0).await?;
    println!("{}", took.as_secs_f64() * 1000.0);
    bench.dea.shutdown().await;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The environment the DEA gave an instance of the droplet, from the
/// `logs/env.log` it writes (`export K="V"` lines).
fn instance_env(dea: &Dea, sha1: &str) -> Result<Vec<(String, String)>> {
    let instances = dea.dir().join("instances");
    for entry in std::fs::read_dir(&instances)? {
        let text = std::fs::read_to_string(entry?.path().join("logs/env.log")).unwrap_or_default();
        if text.contains(&format!("bench-{sha1}")) {
            return Ok(text.lines().filter_map(parse_export).collect());
        }
    }
    bail!("no instance of droplet {sha1} under {}", instances.display())
}

fn parse_export(line: &str) -> Option<(String, String)> {
    let (name, quoted) = line.strip_prefix("export ")?.split_once('=')?;
    let value = quoted.strip_prefix('"')?.strip_suffix('"')?.replace("\\\"", "\"").replace("\\\\", "\\");
    Some((name.to_string(), value))
}

/// `wasmtime serve` of a component on a free port, killed when dropped.
pub(super) struct WasmtimeServe {
    _process: tokio::process::Child,
}

impl WasmtimeServe {
    pub(super) async fn start(
        wasmtime: &Path,
        component: &Path,
        env: &[(String, String)],
    ) -> Result<(WasmtimeServe, String)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let address = format!("127.0.0.1:{port}");
        let mut command = tokio::process::Command::new(wasmtime);
        command.args(["serve", "-S", "cli", "--addr", &address]);
        for (name, value) in env {
            command.arg("--env").arg(format!("{name}={value}"));
        }
        let child = command
            .arg(component)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", wasmtime.display()))?;
        Ok((WasmtimeServe { _process: child }, address))
    }
}

/// A program on the PATH.
pub(super) fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|path| path.is_file())
}

fn print_starts(label: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<48} {:>9.2} {:>9.2} {:>9.2}",
        ms(percentile(times, 0.50)),
        ms(percentile(times, 0.99)),
        ms(times.first().copied().unwrap_or_default())
    );
}

/// A load row; beside it, its requests/s and p99 as multiples of the reference's.
fn print_load(label: &str, load: &LoadReport, reference: Option<&LoadReport>) {
    let against = reference
        .map(|r| format!("{:.2}× {:.2}×", load.per_second() / r.per_second(), load.p99_ms / r.p99_ms.max(1e-9)))
        .unwrap_or_default();
    println!(
        "{label:<48} {:>11.0} {:>9.2} {:>9.2} {:>7} {against:>12}",
        load.per_second(),
        load.p50_ms,
        load.p99_ms,
        load.failed
    );
}
