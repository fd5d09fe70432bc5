//! `wf bench dea`: how fast the DEA starts instances and serves them. It
//! starts a DEA of its own (in-process bus, blobstore in a temp dir) and,
//! with examples/hello-http as the app:
//!
//! 1. times `dea.<id>.start` → the instance's `router.register` (it is
//!    RUNNING), uncached (every run a droplet never seen, so its component
//!    is compiled) and cached (the same droplet again: compiled code from
//!    the cache);
//! 2. loads one instance with `--connections` keep-alive connections for
//!    `--seconds` and prints requests/s and latency — and, given
//!    `--wasmtime PATH`, the same component under `wasmtime serve` on this
//!    machine, loaded the same way.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

use crate::blobstore::{Blobstore, keys, sha1_hex};
use crate::bus::messages::{DeaStart, Limits, RouteRegistration, subjects};
use crate::bus::{self, Bus, BusExt};
use crate::config::Config;
use crate::dea::{Dea, droplet};

const HELLO: &[u8] = include_bytes!("../../examples/hello-http/hello_http.wasm");

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

async fn run(options: &DeaBench, dir: &std::path::Path) -> Result<()> {
    let config = Config { data_dir: dir.to_path_buf(), ..Config::default() };
    let bus = bus::connect("local:").await?;
    let blobstore = Blobstore::open(&config.blobstore_url())?;
    let dea = Dea::start(config, bus.clone(), blobstore.clone()).await?;
    let mut registrations = bus.subscribe(subjects::ROUTER_REGISTER, None).await?;

    let mut uncached = Vec::new();
    for run in 0..options.runs {
        let sha1 = store_droplet(&blobstore, dir, &with_marker(HELLO, run)).await?;
        uncached.push(start_instance(&bus, &dea.id, &sha1, run as u32, &mut registrations).await?.0);
    }
    let sha1 = store_droplet(&blobstore, dir, HELLO).await?;
    let (_, target) = start_instance(&bus, &dea.id, &sha1, 0, &mut registrations).await?;
    let mut cached = Vec::new();
    for run in 1..=options.runs {
        cached.push(start_instance(&bus, &dea.id, &sha1, run as u32, &mut registrations).await?.0);
    }
    println!("dea.start -> RUNNING, examples/hello-http, {} runs each", options.runs);
    print_header("start");
    print_row("uncached (compiles the component)", &mut uncached);
    print_row("cached (compiled code from the cache)", &mut cached);

    println!("\nGET / on one instance: {} keep-alive connections for {}s", options.connections, options.seconds);
    print_load_header();
    let load = load(&target, options).await?;
    load.print("wasmfoundry DEA");
    if let Some(wasmtime) = &options.wasmtime {
        let load = wasmtime_serve(wasmtime, dir, options).await?;
        load.print("wasmtime serve");
    }
    dea.shutdown().await;
    Ok(())
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
async fn store_droplet(blobstore: &Blobstore, dir: &std::path::Path, component: &[u8]) -> Result<String> {
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

/// Sends `dea.<id>.start`; returns the time until the instance registered
/// its route, and where it listens.
async fn start_instance(
    bus: &Bus,
    dea_id: &str,
    sha1: &str,
    index: u32,
    registrations: &mut bus::Subscription,
) -> Result<(Duration, String)> {
    let app = format!("bench-{sha1}");
    let start = DeaStart {
        droplet: app.clone(),
        name: "hello".into(),
        uris: vec!["hello.bench".into()],
        prod: false,
        sha1: sha1.into(),
        executable_uri: sha1.into(),
        version: "1".into(),
        services: Vec::new(),
        limits: Limits { mem: 64, disk: 1024, fds: 256 },
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
    };
    let began = Instant::now();
    bus.publish(&subjects::dea_start(dea_id), &start).await?;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), registrations.next())
            .await
            .context("the instance did not start within 60s")?
            .context("the bus closed")?;
        let registration: RouteRegistration = message.json()?;
        if registration.app.as_deref() == Some(app.as_str()) && registration.index == Some(index) {
            return Ok((began.elapsed(), format!("{}:{}", registration.host, registration.port)));
        }
    }
}

fn print_header(what: &str) {
    println!("{:<40} {:>10} {:>10} {:>10}", what, "p50 ms", "p99 ms", "min ms");
}

fn print_row(label: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<40} {:>10.2} {:>10.2} {:>10.2}",
        ms(percentile(times, 0.50)),
        ms(percentile(times, 0.99)),
        ms(times.first().copied().unwrap_or_default())
    );
}

/// The `q` quantile of sorted times.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

struct Load {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

fn print_load_header() {
    println!("{:<24} {:>12} {:>10} {:>10} {:>8}", "server", "requests/s", "p50 ms", "p99 ms", "errors");
}

impl Load {
    fn print(mut self, label: &str) {
        self.latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{label:<24} {:>12.0} {:>10.2} {:>10.2} {:>8}",
            self.requests as f64 / self.elapsed.as_secs_f64(),
            ms(percentile(&self.latencies, 0.50)),
            ms(percentile(&self.latencies, 0.99)),
            self.errors
        );
    }
}

/// `--connections` clients sending GET / back to back for `--seconds`, on
/// threads of their own (so the DEA in this process and a server in
/// another are loaded alike).
async fn load(address: &str, options: &DeaBench) -> Result<Load> {
    let (address, seconds, connections) = (address.to_string(), options.seconds, options.connections);
    let clients = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        runtime.block_on(generate_load(&address, seconds, connections))
    });
    tokio::task::spawn_blocking(move || clients.join().map_err(|_| anyhow::anyhow!("the load generator panicked"))?)
        .await?
}

async fn generate_load(address: &str, seconds: u64, connections: usize) -> Result<Load> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let began = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let address = address.to_string();
        clients.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let stream = tokio::net::TcpStream::connect(&address).await?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            while Instant::now() < until {
                let request = hyper::Request::get("/").header("host", "hello.bench").body(Empty::<Bytes>::new())?;
                let sent = Instant::now();
                match sender.send_request(request).await {
                    Ok(response) if response.status().is_success() => {
                        response.into_body().collect().await?;
                        latencies.push(sent.elapsed());
                    }
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            anyhow::Ok((latencies, errors))
        });
    }
    let mut total = Load { requests: 0, errors: 0, elapsed: Duration::ZERO, latencies: Vec::new() };
    while let Some(client) = clients.join_next().await {
        let (latencies, errors) = client??;
        total.requests += latencies.len();
        total.errors += errors;
        total.latencies.extend(latencies);
    }
    total.elapsed = began.elapsed();
    Ok(total)
}

/// The same component under `wasmtime serve`, loaded the same way.
async fn wasmtime_serve(wasmtime: &std::path::Path, dir: &std::path::Path, options: &DeaBench) -> Result<Load> {
    let component = dir.join("hello_http.wasm");
    std::fs::write(&component, HELLO)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let address = format!("127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(wasmtime)
        .args(["serve", "-S", "cli", "--addr", &address])
        .arg(&component)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", wasmtime.display()))?;
    let ready = Instant::now();
    while tokio::net::TcpStream::connect(&address).await.is_err() {
        if ready.elapsed() > Duration::from_secs(30) {
            bail!("wasmtime serve did not listen on {address} within 30s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let result = load(&address, options).await;
    child.kill().await?;
    result
}
