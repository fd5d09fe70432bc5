//! `wf bench hm`: how fast the platform heals, as a user sees it. It runs
//! the platform as separate processes of this binary — CC and router, a
//! health manager, two DEAs — on a nats-server of its own (SQLite shared
//! by the processes, or `--postgres`), pushes examples/hello-http with
//! `wf push` and measures, each beside its reference from the same run:
//!
//! 1. kill -9 of a DEA → every instance answering through the router again
//!    (reference: the DEA timeout, when the HM may first act);
//! 2. nats-server killed and restarted → a new `wf push` served (reference:
//!    the same push before the restart), and how the router answered the
//!    old app meanwhile;
//! 3. HM convergence: both DEAs killed and an empty one started, so the HM
//!    must start every one of `--instances` again (reference: the CC's own
//!    start of as many, by `wf scale`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use tokio::process::{Child, Command};

use super::free_port;
use crate::config::Config;

const HELLO: &[u8] = include_bytes!("../../examples/hello-http/hello_http.wasm");

pub struct HmBench {
    pub instances: u32,
    pub nats_server: PathBuf,
    pub postgres: Option<String>,
}

/// The platform's processes, on one machine.
struct Processes {
    dir: PathBuf,
    exe: PathBuf,
    shared: String,
    nats_server: PathBuf,
    nats_port: u16,
    nats: Option<Child>,
    running: BTreeMap<String, Child>,
    api: String,
    router: String,
    http: reqwest::Client,
}

async fn until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("{what} did not happen within {}s", limit.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

impl Processes {
    async fn start(dir: &Path, options: &HmBench) -> Result<Processes> {
        let (cc_port, router_port, nats_port) = (free_port()?, free_port()?, free_port()?);
        let database_url = options.postgres.clone().unwrap_or_else(|| crate::ccdb::sqlite_url(&dir.join("cc.db")));
        let shared = format!(
            "database_url: {database_url}\nbus_url: nats://127.0.0.1:{nats_port}\nblobstore_url: file://{}\n\
             cc_listen: 127.0.0.1:{cc_port}\nrouter_listen: 127.0.0.1:{router_port}\n",
            dir.join("blobstore").display()
        );
        let mut processes = Processes {
            dir: dir.to_path_buf(),
            exe: std::env::current_exe()?,
            shared,
            nats_server: options.nats_server.clone(),
            nats_port,
            nats: None,
            running: BTreeMap::new(),
            api: format!("http://127.0.0.1:{cc_port}"),
            router: format!("http://127.0.0.1:{router_port}"),
            http: reqwest::Client::new(),
        };
        processes.start_nats().await?;
        processes.spawn("cc", "cc,router").await?;
        let info = format!("{}/v2/info", processes.api);
        let http = processes.http.clone();
        until("the CC answering", Duration::from_secs(30), || {
            let (http, info) = (http.clone(), info.clone());
            async move { http.get(&info).send().await.ok().filter(|r| r.status().is_success()).map(|_| ()) }
        })
        .await?;
        Ok(processes)
    }

    async fn start_nats(&mut self) -> Result<()> {
        let child = Command::new(&self.nats_server)
            .args(["-a", "127.0.0.1", "-p", &self.nats_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.nats_server.display()))?;
        self.nats = Some(child);
        let port = self.nats_port;
        until("nats-server listening", Duration::from_secs(10), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok().map(|_| ())
        })
        .await
    }

    async fn kill_nats(&mut self) -> Result<()> {
        if let Some(mut nats) = self.nats.take() {
            nats.kill().await?;
        }
        Ok(())
    }

    async fn spawn(&mut self, name: &str, roles: &str) -> Result<()> {
        let data = self.dir.join(name);
        let file = self.dir.join(format!("{name}.yml"));
        std::fs::write(&file, format!("data_dir: {}\n{}", data.display(), self.shared))?;
        let log = std::fs::File::create(self.dir.join(format!("{name}.log")))?;
        let child = Command::new(&self.exe)
            .args(["server", "--roles", roles, "-c"])
            .arg(&file)
            .env("WF_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        self.running.insert(name.to_string(), child);
        Ok(())
    }

    async fn kill(&mut self, name: &str) -> Result<()> {
        if let Some(mut child) = self.running.remove(name) {
            child.kill().await?;
        }
        Ok(())
    }

    /// Runs `wf ARGS` as the user would; fails with its output when it does.
    async fn wf(&self, args: &[&str]) -> Result<()> {
        let out = Command::new(&self.exe).args(args).env("WF_HOME", self.dir.join("home")).output().await?;
        if !out.status.success() {
            bail!(
                "wf {} failed:\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<Value> {
        let home = self.dir.join("home");
        let session: Value = serde_json::from_slice(&std::fs::read(home.join("config.json"))?)?;
        let token = session["access_token"].as_str().unwrap_or_default();
        Ok(self.http.get(format!("{}{path}", self.api)).bearer_auth(token).send().await?.json().await?)
    }

    /// How many of the app's instances run, by `/instances`.
    async fn running(&self, guid: &str) -> usize {
        let instances = self.get(&format!("/v2/apps/{guid}/instances")).await.unwrap_or(Value::Null);
        instances.as_object().map_or(0, |all| all.values().filter(|i| i["state"] == "RUNNING").count())
    }

    /// Whether `count` distinct indices answer through the router.
    async fn all_answer(&self, host: &str, count: usize) -> bool {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..count * 4 {
            let Ok(response) = self.http.get(&self.router).header("host", host).send().await else { return false };
            let Ok(json) = response.json::<Value>().await else { return false };
            if let Some(index) = json["instance_index"].as_u64() {
                seen.insert(index);
            }
        }
        seen.len() == count
    }
}

pub async fn hm(options: HmBench) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("wf-bench-hm-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&options, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn row(what: &str, seconds: f64, reference: &str, reference_seconds: f64) {
    println!("{what:<58} {seconds:>8.2} s   {reference:<44} {reference_seconds:>8.2} s");
}

async fn run(options: &HmBench, dir: &Path) -> Result<()> {
    let mut p = Processes::start(dir, options).await?;
    p.spawn("hm", "hm").await?;
    p.spawn("dea1", "dea").await?;
    p.spawn("dea2", "dea").await?;
    let password = std::fs::read_to_string(dir.join("cc/admin-password"))?;
    p.wf(&["login", "-a", &p.api, "-u", "admin", "-p", password.trim()]).await?;
    let app = dir.join("app");
    std::fs::create_dir_all(&app)?;
    std::fs::write(app.join("hello_http.wasm"), HELLO)?;
    let app = app.to_string_lossy().into_owned();
    // Both DEAs advertise before the push spreads over them.
    tokio::time::sleep(Config::default().heartbeat_interval() * 2).await;
    println!("{:<58} {:>10}   {:<44} {:>10}", "what", "measured", "reference (same run)", "");

    // 1. kill -9 of a DEA.
    let began = Instant::now();
    p.wf(&["push", "hello", "-p", &app, "-i", "4", "-m", "8M", "-k", "64M"]).await?;
    let push = began.elapsed();
    let guid = p.get("/v2/apps?q=name:hello").await?["resources"][0]["metadata"]["guid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    until("4 instances answering", Duration::from_secs(30), || async {
        p.all_answer("hello.localhost", 4).await.then_some(())
    })
    .await?;
    p.kill("dea1").await?;
    let killed = Instant::now();
    until("4 instances answering after the kill", Duration::from_secs(60), || async {
        (p.running(&guid).await == 4 && p.all_answer("hello.localhost", 4).await).then_some(())
    })
    .await?;
    row(
        "kill -9 of a DEA -> all 4 instances serving again",
        killed.elapsed().as_secs_f64(),
        "DEA timeout (3 heartbeats)",
        Config::default().dea_timeout().as_secs_f64(),
    );

    // 2. nats-server restart.
    p.kill_nats().await?;
    let during_outage =
        p.http.get(&p.router).header("host", "hello.localhost").send().await.map(|r| r.status().as_u16());
    p.start_nats().await?;
    let restarted = Instant::now();
    until("a push after the NATS restart", Duration::from_secs(60), || async {
        p.wf(&["push", "again", "-p", &app, "-m", "16M"]).await.ok()
    })
    .await?;
    row(
        "nats-server restart -> a new push served",
        restarted.elapsed().as_secs_f64(),
        "the first push, before",
        push.as_secs_f64(),
    );
    println!("{:<58} {:>10}", "the router during the outage answered", format!("{:?}", during_outage.unwrap_or(0)));

    // 3. HM convergence for many instances.
    let n = options.instances.to_string();
    let scaled = Instant::now();
    p.wf(&["scale", "hello", "-i", &n]).await?;
    until("all instances running after scale", Duration::from_secs(600), || async {
        (p.running(&guid).await == options.instances as usize).then_some(())
    })
    .await?;
    let by_cc = scaled.elapsed();
    p.kill("dea2").await?;
    p.spawn("dea3", "dea").await?;
    let emptied = Instant::now();
    let all = options.instances as usize;
    until("the lost instances noticed", Duration::from_secs(60), || async {
        (p.running(&guid).await < all).then_some(())
    })
    .await?;
    let noticed = Instant::now();
    until("all instances running again", Duration::from_secs(600), || async {
        (p.running(&guid).await == all).then_some(())
    })
    .await?;
    row(
        &format!("HM: DEAs killed, {n} instances running on a new one"),
        emptied.elapsed().as_secs_f64(),
        "DEA timeout (3 heartbeats)",
        Config::default().dea_timeout().as_secs_f64(),
    );
    row(
        &format!("HM: {n} instances running again, from the loss noticed"),
        noticed.elapsed().as_secs_f64(),
        &format!("the CC starting {n} (wf scale)"),
        by_cc.as_secs_f64(),
    );
    for name in ["hm", "dea3", "cc"] {
        p.kill(name).await?;
    }
    p.kill_nats().await
}
