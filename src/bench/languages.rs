//! `wf bench languages`: what running an app from source costs against a
//! compiled component. examples/hello-js and examples/hello-python (the
//! JavaScript and Python runtimes, each loaded into a snapshot at staging)
//! are measured beside examples/hello-http (the same answer from Rust
//! compiled to a component) in one run, on a
//! platform of the bench's own (`wf up`'s defaults in a temp dir), with
//! `wf` run as a user runs it. Apps given with `--app NAME=DIR` (the
//! Flask and Express examples with their packages installed) are measured
//! the same way, beside them:
//!
//! 0. **platform start**: until its DEA has compiled the buildpacks'
//!    runtimes (`dea::runtimes`) on its fresh data dir, as on a new
//!    machine; everything after is measured once it has;
//! 1. **push → first 200**: a fresh app each run (the first push of each
//!    language — the first to snapshot its runtime — apart), to the first routed 200
//!    and to the command's return; then one GET the moment the command
//!    returned, and 8 at once after it (the slowest, and any that failed):
//!    what a user's first visitors meet; then until its snapshot is
//!    compiled (an app from source serves from its runtime until then),
//!    which the next push waits for: each push is measured on a platform
//!    at rest, as are the figures below;
//! 2. **first request of a new instance**: the app scaled up by one; once
//!    the new instance is RUNNING, one GET of it through the router
//!    (`X-CF-APP-INSTANCE` naming it);
//! 3. **memory per idle instance**: this process's resident memory before
//!    and after scaling the app up by `--idle` instances, divided by them;
//! 4. **serving**: GET / through the router from `--connections`
//!    keep-alive connections for `--seconds`, the load from a process of
//!    its own ([`super::load`]): requests/s and p99. Once every app is
//!    pushed and loaded for a second, in `--runs` rounds, each loading
//!    every app in turn: a machine whose speed drifts during the run (a
//!    cloud VM's neighbours) slows the apps of a round alike, so each
//!    app's ratio to hello-http is taken within a round, and the median
//!    round's is shown.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::Api;
use super::load::{LoadReport, LoadRun, Target, Until, get_once, percentile};
use super::push::{Bench, print_row};

/// An example app, as files.
struct Example {
    name: &'static str,
    files: &'static [(&'static str, &'static [u8])],
}

const EXAMPLES: [Example; 3] = [
    Example { name: "hello-http", files: &[("hello_http.wasm", super::dea::HELLO)] },
    Example {
        name: "hello-js",
        files: &[
            ("package.json", include_bytes!("../../examples/hello-js/package.json")),
            ("index.js", include_bytes!("../../examples/hello-js/index.js")),
        ],
    },
    Example { name: "hello-python", files: &[("app.py", include_bytes!("../../examples/hello-python/app.py"))] },
];

pub struct LanguagesBench {
    pub runs: usize,
    pub seconds: u64,
    pub connections: usize,
    pub idle: usize,
    /// More apps, by name, from their directories.
    pub apps: Vec<(String, PathBuf)>,
}

/// Requests sent at once right after a push.
const AT_ONCE: usize = 8;

/// One example's figures.
#[derive(Default)]
struct Figures {
    first_ever: Duration,
    first_200: Vec<Duration>,
    returned: Vec<Duration>,
    after_push: Vec<Duration>,
    at_once_slowest: Vec<Duration>,
    at_once_failed: usize,
    snapshot_compiled: Vec<Duration>,
    first_request: Vec<Duration>,
    /// One per round.
    loads: Vec<LoadReport>,
    idle_kb: u64,
}

pub async fn languages(options: LanguagesBench) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("wf-bench-languages-{}", uuid::Uuid::new_v4().simple()));
    let result = run(&options, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(options: &LanguagesBench, dir: &Path) -> Result<()> {
    let runs = options.runs.max(1);
    let bench = Bench::start(dir).await?;
    let api = Api::login(&bench.api, &bench.password).await?;

    let mut apps: Vec<(String, PathBuf)> = Vec::new();
    for example in &EXAMPLES {
        let app_dir = dir.join(example.name);
        for (name, bytes) in example.files {
            std::fs::create_dir_all(&app_dir)?;
            std::fs::write(app_dir.join(name), bytes)?;
        }
        apps.push((example.name.to_string(), app_dir));
    }
    apps.extend(options.apps.iter().cloned());

    let mut all = Vec::new();
    for (example, app_dir) in &apps {
        let example = example.as_str();
        let mut figures = Figures::default();
        for run in 0..=runs {
            let name = format!("{example}-{run}");
            let pushed = Instant::now();
            let (first, returned) = bench.push(&name, app_dir, |_| true).await?;
            let (after_push, at_once) = first_requests(&bench, &name).await;
            let compiled = api.snapshot_compiled(&api.app_guid(&name).await?).await?.then(|| pushed.elapsed());
            if run == 0 {
                figures.first_ever = first;
            } else {
                figures.first_200.push(first);
                figures.returned.push(returned);
                figures.after_push.extend(after_push);
                figures.at_once_failed += usize::from(after_push.is_none());
                figures.at_once_failed += at_once.iter().filter(|answer| answer.is_none()).count();
                figures.at_once_slowest.push(at_once.into_iter().flatten().max().unwrap_or_default());
                figures.snapshot_compiled.extend(compiled);
            }
        }
        let app = format!("{example}-1");
        let guid = api.app_guid(&app).await?;
        for instances in 2..=runs + 1 {
            figures.first_request.push(first_request_of_new_instance(&bench, &api, &app, &guid, instances).await?);
        }
        // The first push's app: one instance, not used since (there is no
        // second run's app with --runs 1).
        let idle_app = format!("{example}-0");
        let idle_guid = api.app_guid(&idle_app).await?;
        let before = resident_kb();
        scale(&bench, &api, &idle_app, &idle_guid, options.idle + 1).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        figures.idle_kb = resident_kb().saturating_sub(before) / options.idle.max(1) as u64;
        scale(&bench, &api, &idle_app, &idle_guid, 1).await?;
        all.push((example, figures));
    }
    // A second of load first, not counted: each instance makes the stores
    // it serves from (an app from source keeps them between requests).
    for (example, _) in &all {
        let target = Target::root(&bench.router, &format!("{example}-1.localhost"));
        LoadRun::run(target, Until::Seconds(1.0), options.connections).await?;
    }
    for _ in 0..runs {
        for (example, figures) in &mut all {
            let target = Target::root(&bench.router, &format!("{example}-1.localhost"));
            let until = Until::Seconds(options.seconds as f64);
            figures.loads.push(LoadRun::run(target, until, options.connections).await?);
        }
    }

    println!(
        "examples from source against examples/hello-http, one platform, {runs} runs, 64M instances; \
         {} s of GET / from {} connections; release build recommended",
        options.seconds, options.connections
    );
    println!("{:<52} {:>9} {:>9} {:>9}", "", "p50", "min", "target");
    // A new machine's first start: nothing compiled before.
    print_row("platform start: runtimes compiled s", &mut [bench.runtimes_compiled], None);
    for (name, figures) in &mut all {
        println!("{name}:");
        print_row("  first push ever: first routed 200 s", &mut [figures.first_ever], Some(2.0));
        print_row("  push: first routed 200 s", &mut figures.first_200, Some(1.0));
        print_row("  push: command returned s", &mut figures.returned, None);
        print_ms("  push: a GET as the command returned ms", &mut figures.after_push, "≤ 50");
        print_ms(&format!("  push: then {AT_ONCE} GETs at once, the slowest ms"), &mut figures.at_once_slowest, "");
        if figures.at_once_failed > 0 {
            println!("{:<52} {:>9}", "  push: GETs after it that failed", figures.at_once_failed);
        }
        if !figures.snapshot_compiled.is_empty() {
            print_row("  push: snapshot compiled s", &mut figures.snapshot_compiled, None);
        }
        print_ms("  new instance: first request ms", &mut figures.first_request, "≤ 20");
        let mut per_second: Vec<f64> = figures.loads.iter().map(LoadReport::per_second).collect();
        per_second.sort_by(f64::total_cmp);
        let mut p99: Vec<f64> = figures.loads.iter().map(|load| load.p99_ms).collect();
        p99.sort_by(f64::total_cmp);
        let (median, least) = (per_second[per_second.len() / 2], per_second[0]);
        println!("{:<52} {median:>9.0} {least:>9.0} {:>9}", "  through the router: requests/s", "");
        println!("{:<52} {:>9.2} {:>9} {:>9}", "  through the router: p99 ms", p99[p99.len() / 2], "", "");
        let failed: u64 = figures.loads.iter().map(|load| load.failed).sum();
        if failed > 0 {
            println!("{:<52} {failed:>9}", "  through the router: failed requests");
        }
        println!("{:<52} {:>9} {:>9} {:>9}", "  memory per idle instance KiB", figures.idle_kb, "", "");
    }
    let loads = |name: &str| all.iter().find(|(n, _)| *n == name).map(|(_, f)| &f.loads);
    for (name, target) in [("hello-js", " (target ≥ 0.75)"), ("hello-python", " (target ≥ 0.5)")] {
        if let (Some(from_source), Some(reference)) = (loads(name), loads("hello-http")) {
            let mut ratios: Vec<f64> = from_source
                .iter()
                .zip(reference)
                .map(|(app, hello)| app.per_second() / hello.per_second().max(1e-9))
                .collect();
            ratios.sort_by(f64::total_cmp);
            let shown: Vec<String> = ratios.iter().map(|ratio| format!("{ratio:.2}")).collect();
            println!(
                "{name} requests/s: {:.2}× hello-http's in the median round{target}; rounds: {}",
                ratios[ratios.len() / 2],
                shown.join(", ")
            );
        }
    }
    bench.platform.shutdown().await;
    Ok(())
}

/// A p50 and min row of milliseconds.
fn print_ms(label: &str, values: &mut [Duration], target: &str) {
    values.sort();
    println!(
        "{label:<52} {:>9.2} {:>9.2} {target:>9}",
        percentile(values, 0.5).as_secs_f64() * 1000.0,
        values.first().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
}

/// One GET / of the app through the router, timed, then [`AT_ONCE`] at
/// once, each timed (`None`: it failed or did not answer 200).
async fn first_requests(bench: &Bench, app: &str) -> (Option<Duration>, Vec<Option<Duration>>) {
    let target = Target::root(&bench.router, &format!("{app}.localhost"));
    let timed = |target: Target| async move {
        let began = Instant::now();
        let answer = get_once(&target).await;
        answer.filter(|(status, _)| *status == 200).map(|_| began.elapsed())
    };
    let first = timed(target.clone()).await;
    let at_once = futures::future::join_all((0..AT_ONCE).map(|_| timed(target.clone()))).await;
    (first, at_once)
}

impl Api {
    /// Waits until the app's first instance serves from its compiled
    /// snapshot, if it started from its runtime (then true).
    async fn snapshot_compiled(&self, guid: &str) -> Result<bool> {
        let began = Instant::now();
        loop {
            let logs = self.get(&format!("/v2/apps/{guid}/logs")).await?;
            let lines: Vec<&str> =
                logs.as_array().into_iter().flatten().filter_map(|l| l["message"].as_str()).collect();
            if lines.iter().any(|line| line.starts_with("Snapshot compiled")) {
                return Ok(true);
            }
            if !lines.iter().any(|line| line.contains("while its snapshot compiles")) {
                return Ok(false);
            }
            anyhow::ensure!(began.elapsed() < Duration::from_secs(300), "the snapshot did not compile in 5 minutes");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// `wf scale NAME -i N`, then waits until all N instances are RUNNING.
async fn scale(bench: &Bench, api: &Api, name: &str, guid: &str, instances: usize) -> Result<()> {
    let count = instances.to_string();
    let out = bench.wf(&["scale", name, "-i", &count]).output().await?;
    anyhow::ensure!(out.status.success(), "wf scale failed: {}", String::from_utf8_lossy(&out.stderr));
    let began = Instant::now();
    loop {
        let stats = api.get(&format!("/v2/apps/{guid}/stats")).await?;
        let running = (0..instances).filter(|i| stats[i.to_string()]["state"] == "RUNNING").count();
        if running == instances {
            return Ok(());
        }
        anyhow::ensure!(began.elapsed() < Duration::from_secs(120), "{name}: {running} of {instances} RUNNING");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Scales the app to `instances` and times one GET of the new instance
/// (index `instances - 1`) once it is RUNNING, through the router with
/// `X-CF-APP-INSTANCE` naming it.
async fn first_request_of_new_instance(
    bench: &Bench,
    api: &Api,
    name: &str,
    guid: &str,
    instances: usize,
) -> Result<Duration> {
    scale(bench, api, name, guid, instances).await?;
    let target = Target::root(&bench.router, &format!("{name}.localhost"))
        .with_header("x-cf-app-instance", &format!("{guid}:{}", instances - 1));
    let began = Instant::now();
    let (status, _) = get_once(&target).await.context("the new instance did not answer")?;
    let took = began.elapsed();
    anyhow::ensure!(status == 200, "the new instance answered {status}");
    Ok(took)
}

/// This process's resident memory, in KiB (Linux; 0 elsewhere).
fn resident_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
