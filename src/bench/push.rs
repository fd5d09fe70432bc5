//! `wf bench push`: what a user waits for when pushing
//! examples/hello-http, each figure beside its reference measured in the
//! same run and the target it is held to. It starts a platform of its own
//! (`wf up`'s defaults in a temp dir: SQLite, in-process bus, local
//! blobstore) and runs the `wf` binary as a user would:
//!
//! 1. fresh pushes (a new app each run; the first run also compiles the
//!    component): command start → first 200 through the router, and →
//!    the command returned;
//! 2. re-pushes of the same app: command start → the new version's first
//!    answer, and → the command returned;
//! 3. re-pushes under load: GET / through the router from a process of its
//!    own ([`super::load`]) while the app is re-pushed, with the
//!    count of failed requests;
//! 4. v3 deployments of the app at 4 instances under the same load: `wf
//!    restart` (rolling, one instance at a time) and a canary deployment
//!    continued to its end, each command start → returned, with the count
//!    of failed requests;
//!
//! beside `wasmtime serve` of the same component: process start → first
//! 200 (the floor under "first 200").

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::dea::{HELLO, WasmtimeServe, which};
use super::load::{LoadRun, Target, Until, first_200, get_once, percentile};
use crate::config::Config;
use crate::server::{Platform, Role};

/// Load before and after a re-push under load.
const LOAD_MARGIN: Duration = Duration::from_millis(500);
/// How long the load runs around one run of the deployments.
const DEPLOYMENTS_LOAD_SECONDS: f64 = 8.0;

pub async fn push(runs: usize, wasmtime: Option<std::path::PathBuf>) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("wf-bench-push-{}", uuid::Uuid::new_v4().simple()));
    let result = run(runs.max(1), wasmtime, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The platform (`wf up`'s defaults in `dir`) and a logged-in `wf`.
pub(super) struct Bench {
    dir: std::path::PathBuf,
    pub platform: Platform,
    pub api: String,
    pub router: String,
    /// The admin's password.
    pub password: String,
    /// From the platform's start until its DEA had compiled the
    /// buildpacks' runtimes (`dea::runtimes`), on a data dir of its own:
    /// what a new machine's first `wf up` spends on it.
    pub runtimes_compiled: std::time::Duration,
}

impl Bench {
    pub async fn start(dir: &Path) -> Result<Bench> {
        let config = Config {
            data_dir: dir.join("data"),
            cc_listen: "127.0.0.1:0".parse()?,
            router_listen: "127.0.0.1:0".parse()?,
            ..Config::default()
        };
        let started = std::time::Instant::now();
        let mut platform = Platform::start(config.clone(), &[Role::Cc, Role::Dea, Role::Router, Role::Hm]).await?;
        // Measured on a platform at rest: once its DEA has compiled the
        // buildpacks' runtimes, as it does when it starts.
        if let Some(compiling) = platform.runtimes_compiled.take() {
            compiling.await?;
        }
        let runtimes_compiled = started.elapsed();
        let api = format!("http://{}", platform.cc_address.context("the CC runs")?);
        let router = platform.router_address.context("the router runs")?.to_string();
        let password = std::fs::read_to_string(config.data_dir.join(crate::cc::seed::ADMIN_PASSWORD_FILE))?;
        let password = password.trim().to_string();
        let bench = Bench { dir: dir.to_path_buf(), platform, api, router, password, runtimes_compiled };
        let login = bench.wf(&["login", "-a", &bench.api, "-u", "admin", "-p", &bench.password]).output().await?;
        anyhow::ensure!(login.status.success(), "wf login failed: {}", String::from_utf8_lossy(&login.stderr));
        Ok(bench)
    }

    /// `wf ARGS` as the user runs it; fails with its output when it fails.
    pub fn wf(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(std::env::current_exe().expect("wf's own path"));
        command.args(args).env("WF_HOME", self.dir.join("home")).kill_on_drop(true);
        command
    }

    /// `wf ARGS`, which must succeed.
    pub async fn run(&self, args: &[&str]) -> Result<()> {
        let output = self.wf(args).output().await?;
        anyhow::ensure!(output.status.success(), "wf {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        Ok(())
    }

    /// `wf push NAME -p APP_DIR`: (→ first answer `is_new` accepts, →
    /// command returned).
    pub async fn push(
        &self,
        name: &str,
        app_dir: &Path,
        is_new: impl Fn(&str) -> bool,
    ) -> Result<(Duration, Duration)> {
        let began = Instant::now();
        let mut command = self.wf(&["push", name, "-p", &app_dir.display().to_string(), "-m", "64M"]);
        let command = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).output();
        let host = format!("{name}.localhost");
        let first = async {
            loop {
                if let Some(body) = answer(&self.router, &host).await
                    && is_new(&body)
                {
                    return began.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        let (output, first) = tokio::join!(command, tokio::time::timeout(Duration::from_secs(120), first));
        let output = output?;
        if !output.status.success() {
            bail!("wf push {name} failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let returned = began.elapsed();
        Ok((first.context("no answer within 120s")?, returned))
    }
}

async fn run(runs: usize, wasmtime: Option<std::path::PathBuf>, dir: &Path) -> Result<()> {
    let bench = Bench::start(dir).await?;
    let router = bench.router.clone();
    let app_dir = dir.join("hello-http");
    std::fs::create_dir_all(&app_dir)?;
    std::fs::write(app_dir.join("hello_http.wasm"), HELLO)?;

    let (mut fresh_first, mut fresh_returned, mut first_ever) = (Vec::new(), Vec::new(), None);
    for run in 0..runs + 1 {
        let times = bench.push(&format!("fresh-{run}"), &app_dir, |_| true).await?;
        match run {
            0 => first_ever = Some(times),
            _ => {
                fresh_first.push(times.0);
                fresh_returned.push(times.1);
            }
        }
    }
    let (mut again_first, mut again_returned) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let before = version(&answer(&router, "fresh-1.localhost").await.unwrap_or_default());
        let times = bench.push("fresh-1", &app_dir, |body| version(body) != before).await?;
        again_first.push(times.0);
        again_returned.push(times.1);
    }
    let (mut requests, mut failed) = (0, 0);
    for _ in 0..runs {
        let target = Target::root(&router, "fresh-1.localhost");
        let seconds = (again_returned.iter().max().copied().unwrap_or_default() + 2 * LOAD_MARGIN).as_secs_f64();
        let load = LoadRun::start(&target, Until::Seconds(seconds), 8)?;
        tokio::time::sleep(LOAD_MARGIN).await;
        bench.push("fresh-1", &app_dir, |_| true).await?;
        let report = load.finish().await?;
        requests += report.requests;
        failed += report.failed;
    }
    bench.run(&["scale", "fresh-1", "-i", "4"]).await?;
    let (mut rolling, mut canary, mut deploy_requests, mut deploy_failed) = (Vec::new(), Vec::new(), 0, 0);
    for _ in 0..runs {
        let target = Target::root(&router, "fresh-1.localhost");
        let load = LoadRun::start(&target, Until::Seconds(DEPLOYMENTS_LOAD_SECONDS), 8)?;
        tokio::time::sleep(LOAD_MARGIN).await;
        let began = Instant::now();
        bench.run(&["restart", "fresh-1"]).await?;
        rolling.push(began.elapsed());
        let began = Instant::now();
        bench.run(&["restart", "fresh-1", "--strategy", "canary"]).await?;
        bench.run(&["continue-deployment", "fresh-1"]).await?;
        canary.push(began.elapsed());
        let report = load.finish().await?;
        deploy_requests += report.requests;
        deploy_failed += report.failed;
    }
    let mut reference = Vec::new();
    let wasmtime = wasmtime.or_else(|| which("wasmtime"));
    if let Some(wasmtime) = &wasmtime {
        for _ in 0..runs {
            let began = Instant::now();
            let (_served, address) = WasmtimeServe::start(wasmtime, &app_dir.join("hello_http.wasm"), &[]).await?;
            first_200(&Target::root(&address, "hello.bench"), began).await?;
            reference.push(began.elapsed());
        }
    }

    println!("wf push of examples/hello-http (64M, one instance): {runs} runs each, release build recommended");
    println!("{:<52} {:>9} {:>9} {:>9}", "", "p50 s", "min s", "target s");
    let (first, returned) = first_ever.unwrap_or_default();
    print_row("first push ever (compiles): first routed 200", &mut [first], None);
    print_row("first push ever (compiles): command returned", &mut [returned], None);
    print_row("fresh push: first routed 200", &mut fresh_first, Some(0.25));
    print_row("fresh push: command returned", &mut fresh_returned, Some(0.35));
    print_row("re-push: new version's first answer", &mut again_first, None);
    print_row("re-push: command returned", &mut again_returned, Some(0.35));
    match wasmtime {
        Some(_) => print_row("reference: wasmtime serve, start → first 200", &mut reference, None),
        None => println!("{:<52} {:>9}", "reference: wasmtime serve", "not found (--wasmtime PATH)"),
    }
    println!(
        "re-push under load (8 connections, own process): {requests} requests answered, {failed} failed (target 0)"
    );
    print_row("rolling restart of 4 instances, one at a time", &mut rolling, None);
    print_row("canary deployment of 4, paused then continued", &mut canary, None);
    println!(
        "deployments under load (8 connections, own process): {deploy_requests} requests answered, {deploy_failed} \
         failed (target 0)"
    );
    bench.platform.shutdown().await;
    Ok(())
}

/// The body of GET / for `host` through the router, if it answered 200.
pub(super) async fn answer(router: &str, host: &str) -> Option<String> {
    let (status, body) = get_once(&Target::root(router, host)).await?;
    (status == 200).then(|| String::from_utf8_lossy(&body).into_owned())
}

/// The app version an answer of hello-http names.
fn version(body: &str) -> String {
    let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    body["vcap_application"]["application_version"].as_str().unwrap_or_default().to_string()
}

pub(super) fn print_row(label: &str, times: &mut [Duration], target: Option<f64>) {
    times.sort();
    let target = target.map(|t| format!("≤ {t:.2}")).unwrap_or_default();
    println!(
        "{label:<52} {:>9.3} {:>9.3} {target:>9}",
        percentile(times, 0.5).as_secs_f64(),
        times.first().copied().unwrap_or_default().as_secs_f64()
    );
}
