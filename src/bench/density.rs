//! `wf bench density [--instances N]`: how many instances of
//! examples/hello-http one DEA holds, and what they cost. The platform is
//! a `wf up` process of its own (so its RSS and descriptors are its
//! alone), with memory enough to offer (`WF_DEA_MEMORY_MB`) and a quota
//! without limits; the app runs at 16 MB. For N/10 (the reference) and
//! then N instances, each on a fresh platform, it prints: instances
//! running, the time from the scale request to all of them running, the
//! process's RSS and RSS per instance, descriptors open, the latency of
//! `GET /v2/apps/:guid/summary` and `/stats`, how many different
//! instances answered through the router, and requests/s through the
//! router from a process of its own.

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::load::{LoadRun, Target, Until, percentile};
use super::{Api, free_port};

/// What each instance may use; a wasm instance at rest holds far less.
const MEMORY_MB: u32 = 16;
/// How long all instances have to be running.
const ALL_RUNNING_WITHIN: Duration = Duration::from_secs(300);
/// Requests of the latency figures.
const SAMPLES: usize = 20;

pub async fn density(instances: u32, seconds: f64) -> Result<()> {
    let sizes = [(instances / 10).max(1), instances.max(1)];
    println!(
        "examples/hello-http at {MEMORY_MB} MB, scaled from 1 with PUT /v2/apps/:guid on a `wf up` of its own; \
         the first row is the reference (N/10)"
    );
    println!(
        "{:>9} {:>9} {:>11} {:>9} {:>10} {:>6} {:>11} {:>9} {:>10} {:>10} {:>8}",
        "instances",
        "running",
        "all up s",
        "RSS MB",
        "KB/inst.",
        "fds",
        "summary ms",
        "stats ms",
        "answered",
        "req/s",
        "failed"
    );
    for size in sizes {
        let dir = std::env::temp_dir().join(format!("wf-bench-density-{}", uuid::Uuid::new_v4().simple()));
        let figures = measure(&dir, size, seconds).await;
        let _ = std::fs::remove_dir_all(&dir);
        let f = figures?;
        println!(
            "{:>9} {:>9} {:>11.1} {:>9.0} {:>10.0} {:>6} {:>11.1} {:>9.1} {:>10} {:>10.0} {:>8}",
            size,
            f.running,
            f.all_running.as_secs_f64(),
            f.rss_kb as f64 / 1024.0,
            f.kb_per_instance,
            f.descriptors,
            f.summary_p50.as_secs_f64() * 1000.0,
            f.stats_p50.as_secs_f64() * 1000.0,
            f.answered,
            f.requests_per_second,
            f.failed
        );
    }
    Ok(())
}

struct Figures {
    running: u32,
    all_running: Duration,
    rss_kb: u64,
    kb_per_instance: f64,
    descriptors: usize,
    summary_p50: Duration,
    stats_p50: Duration,
    answered: usize,
    requests_per_second: f64,
    failed: u64,
}

/// A `wf up` in `dir`, killed when dropped.
struct Up {
    child: tokio::process::Child,
    api: String,
    router: String,
}

impl Up {
    async fn start(dir: &Path, instances: u32) -> Result<Up> {
        let (api, router, broker) = (free_port()?, free_port()?, free_port()?);
        let memory = (u64::from(instances) + 16) * u64::from(MEMORY_MB);
        let child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("up")
            .env("WF_DATA_DIR", dir.join("data"))
            .env("WF_CC_LISTEN", format!("127.0.0.1:{api}"))
            .env("WF_ROUTER_LISTEN", format!("127.0.0.1:{router}"))
            .env("WF_BROKER_LISTEN", format!("127.0.0.1:{broker}"))
            .env("WF_DEA_MEMORY_MB", memory.to_string())
            // Instances of hello-http only: no runtime to compile beside them.
            .env("WF_DEA_COMPILE_RUNTIMES_AHEAD", "false")
            .env("WF_DEA_MAX_INSTANCES", (instances + 16).to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting wf up")?;
        let up = Up { child, api: format!("http://127.0.0.1:{api}"), router: format!("127.0.0.1:{router}") };
        let began = Instant::now();
        while reqwest::get(format!("{}/v2/info", up.api)).await.is_err() {
            if began.elapsed() > Duration::from_secs(60) {
                bail!("wf up did not answer within 60s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(up)
    }

    fn pid(&self) -> Result<u32> {
        self.child.id().context("wf up has exited")
    }
}

/// The process's resident memory (KB) and open descriptors (Linux).
fn process_figures(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count());
    (rss, fds)
}

async fn measure(dir: &Path, instances: u32, seconds: f64) -> Result<Figures> {
    let up = Up::start(dir, instances).await?;
    let password = std::fs::read_to_string(dir.join("data").join(crate::cc::seed::ADMIN_PASSWORD_FILE))?;
    let api = Api::login(&up.api, password.trim()).await?;

    // A quota without limits, and the app pushed at one instance.
    let quotas = api.get("/v2/quota_definitions").await?;
    for quota in quotas["resources"].as_array().into_iter().flatten() {
        let guid = quota["metadata"]["guid"].as_str().unwrap_or_default();
        let unlimited = json!({"memory_limit": -1, "instance_memory_limit": -1, "app_instance_limit": -1});
        api.send(reqwest::Method::PUT, &format!("/v2/quota_definitions/{guid}"), unlimited).await?;
    }
    let home = dir.join("home");
    let wf = |args: &[&str]| {
        let mut command = tokio::process::Command::new(std::env::current_exe().expect("wf's own path"));
        command.args(args).env("WF_HOME", &home).kill_on_drop(true);
        command
    };
    let login = wf(&["login", "-a", &up.api, "-u", "admin", "-p", password.trim()]).output().await?;
    anyhow::ensure!(login.status.success(), "wf login: {}", String::from_utf8_lossy(&login.stderr));
    let app_dir = dir.join("hello");
    std::fs::create_dir_all(&app_dir)?;
    std::fs::write(app_dir.join("hello_http.wasm"), super::dea::HELLO)?;
    let memory = format!("{MEMORY_MB}M");
    let pushed =
        wf(&["push", "hello", "-p", &app_dir.display().to_string(), "-m", &memory, "-k", &memory]).output().await?;
    anyhow::ensure!(pushed.status.success(), "wf push: {}", String::from_utf8_lossy(&pushed.stderr));
    let app = api.app_guid("hello").await?;
    let (rss_before, _) = process_figures(up.pid()?);

    let began = Instant::now();
    api.send(reqwest::Method::PUT, &format!("/v2/apps/{app}"), json!({"instances": instances})).await?;
    let mut running = 0;
    while began.elapsed() < ALL_RUNNING_WITHIN {
        running = api.get(&format!("/v2/apps/{app}/summary")).await?["running_instances"].as_u64().unwrap_or(0) as u32;
        if running >= instances {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_running = began.elapsed();
    // Let the start-up's garbage settle before memory is read.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_kb, descriptors) = process_figures(up.pid()?);
    let kb_per_instance = rss_kb.saturating_sub(rss_before) as f64 / f64::from(instances.saturating_sub(1).max(1));

    let summary_p50 = api.latency(&format!("/v2/apps/{app}/summary")).await?;
    let stats_p50 = api.latency(&format!("/v2/apps/{app}/stats")).await?;
    let answered = answering_instances(&up.router, instances).await?;
    let target = Target::root(&up.router, "hello.localhost");
    let load = LoadRun::run(target, Until::Seconds(seconds), 16).await?;
    Ok(Figures {
        running,
        all_running,
        rss_kb,
        kb_per_instance,
        descriptors,
        summary_p50,
        stats_p50,
        answered,
        requests_per_second: load.per_second(),
        failed: load.failed,
    })
}

/// How many different instances answer GET / through the router, over
/// up to three requests per instance (the router takes turns); an answer
/// that is not a 200 fails the benchmark, with what it was.
async fn answering_instances(router: &str, instances: u32) -> Result<usize> {
    let client = reqwest::Client::new();
    let mut seen = HashSet::new();
    for _ in 0..(instances * 3).min(30_000) {
        let response = client.get(format!("http://{router}/")).header("host", "hello.localhost").send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("GET / through the router answered {status}: {body}");
        }
        let body: Value = serde_json::from_str(&body)?;
        seen.insert(body["vcap_application"]["instance_id"].as_str().unwrap_or_default().to_string());
        if seen.len() == instances as usize {
            break;
        }
    }
    Ok(seen.len())
}

impl Api {
    /// The median time of GET `path`, over [`SAMPLES`] requests.
    async fn latency(&self, path: &str) -> Result<Duration> {
        let mut times = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let sent = Instant::now();
            self.get(path).await?;
            times.push(sent.elapsed());
        }
        times.sort();
        Ok(percentile(&times, 0.5))
    }
}
