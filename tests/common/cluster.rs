//! The platform as production runs it: every role a `wf server --roles …`
//! process of its own, on a nats-server of the test's own (so it can be
//! killed and restarted without disturbing other tests), a fresh
//! PostgreSQL database and a shared blobstore. Processes are killed for
//! real (SIGKILL) and started again on the same data directory.
//!
//! Needs WF_TEST_NATS_SERVER (the nats-server binary) and
//! WF_TEST_DATABASE_URL; without them a cluster test is skipped with a note
//! (CI sets both). With WF_TEST_S3_URL (an S3-compatible server such as
//! `moto_server`, as CI runs it) the blobstore is a fresh bucket there,
//! else a directory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::{TestPlatform, eventually};

pub struct Cluster {
    /// The client's view: API, router, and `dir/data`, the CC's data dir.
    pub platform: TestPlatform,
    nats_server: PathBuf,
    pub nats_port: u16,
    nats: Option<Child>,
    database_url: String,
    blobstore_url: String,
    cc_port: u16,
    router_port: u16,
    /// Config lines every process gets.
    settings: Vec<(String, String)>,
    processes: BTreeMap<String, Child>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn wait_for_port(port: u16, what: &str) {
    eventually(what, Duration::from_secs(20), || async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok().map(|_| ())
    })
    .await
}

/// A new bucket on the S3-compatible server at `s3` (CreateBucket is a
/// PUT of its name), as a blobstore URL.
async fn fresh_bucket(s3: &str) -> String {
    let bucket = format!("wf-test-{}", uuid::Uuid::new_v4().simple());
    let response = reqwest::Client::new().put(format!("{s3}/{bucket}")).send().await.expect("WF_TEST_S3_URL reachable");
    assert!(response.status().is_success(), "creating bucket {bucket}: {}", response.status());
    format!("s3://{bucket}/blobs?endpoint={s3}&region=us-east-1")
}

impl Cluster {
    /// A nats-server and a database, no roles yet; None (and a note) when
    /// the environment names no nats-server or PostgreSQL.
    pub async fn new(settings: &[(&str, &str)]) -> Option<Cluster> {
        let Ok(nats_server) = std::env::var("WF_TEST_NATS_SERVER") else {
            eprintln!(
                "skipped: set WF_TEST_NATS_SERVER=/usr/sbin/nats-server (and WF_TEST_DATABASE_URL) for cluster tests"
            );
            return None;
        };
        let database_url = super::fresh_postgres().await?;
        let server = std::env::var("WF_TEST_DATABASE_URL").ok()?;
        let dir = tempfile::tempdir().expect("temp dir");
        let (cc_port, router_port) = (free_port(), free_port());
        let postgres =
            url::Url::parse(&database_url).ok().map(|u| (server, u.path().trim_start_matches('/').to_string()));
        let blobstore_url = match std::env::var("WF_TEST_S3_URL") {
            Ok(s3) => fresh_bucket(&s3).await,
            Err(_) => format!("file://{}", dir.path().join("blobstore").display()),
        };
        let mut cluster = Cluster {
            platform: TestPlatform::remote(
                format!("http://127.0.0.1:{cc_port}"),
                format!("http://127.0.0.1:{router_port}"),
                database_url.clone(),
                dir,
                postgres,
            ),
            nats_server: PathBuf::from(nats_server),
            nats_port: free_port(),
            nats: None,
            database_url,
            blobstore_url,
            cc_port,
            router_port,
            settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            processes: BTreeMap::new(),
        };
        cluster.start_nats().await;
        Some(cluster)
    }

    /// A cluster running these processes (name, roles), its DEAs
    /// advertising and the admin logged in; None as for [`Cluster::new`].
    pub async fn running(settings: &[(&str, &str)], processes: &[(&str, &str)]) -> Option<Cluster> {
        let mut cluster = Cluster::new(settings).await?;
        for (name, roles) in processes {
            cluster.spawn(name, roles).await;
        }
        cluster.wait_for_deas(processes.iter().filter(|(_, roles)| roles.split(',').any(|r| r == "dea")).count()).await;
        cluster.platform.login().await;
        Some(cluster)
    }

    pub fn nats_url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.nats_port)
    }

    pub async fn start_nats(&mut self) {
        let log = std::fs::File::create(self.platform.dir.path().join("nats-server.log")).unwrap();
        let child = Command::new(&self.nats_server)
            .args(["-a", "127.0.0.1", "-p", &self.nats_port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server starts");
        self.nats = Some(child);
        wait_for_port(self.nats_port, "nats-server listening").await;
    }

    /// Kills nats-server (SIGKILL).
    pub async fn kill_nats(&mut self) {
        if let Some(mut nats) = self.nats.take() {
            nats.kill().await.expect("nats-server killed");
        }
    }

    /// The config every process of this cluster shares, as YAML lines
    /// (backends, the CC's and router's addresses, the test's settings).
    pub fn shared_config(&self) -> String {
        let mut config = format!(
            "database_url: {}\nbus_url: {}\nblobstore_url: {}\ncc_listen: 127.0.0.1:{}\n\
             router_listen: 127.0.0.1:{}\nexternal_url: http://127.0.0.1:{}\n\
             dea_compile_runtimes_ahead: false\n",
            self.database_url,
            self.nats_url(),
            self.blobstore_url,
            self.cc_port,
            self.router_port,
            self.cc_port,
        );
        for (key, value) in &self.settings {
            config.push_str(&format!("{key}: {value}\n"));
        }
        config
    }

    /// Waits until the CC of the process `name` answers (it listens before
    /// it has migrated and seeded its database). A first start on a cold,
    /// busy machine runs every migration and stores the built-in
    /// buildpacks, so the wait is long; a CC that exits instead fails at
    /// once, and either failure shows the process's log.
    pub async fn wait_for_cc(&mut self, name: &str) {
        self.wait_for_cc_at(name, self.cc_port).await
    }

    /// Waits until the CC of the process `name` answers on `port`.
    pub async fn wait_for_cc_at(&mut self, name: &str, port: u16) {
        let info = format!("http://127.0.0.1:{port}/v2/info");
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let asked = self.platform.http.get(&info).timeout(Duration::from_secs(10)).send().await;
            if asked.is_ok_and(|response| response.status().is_success()) {
                return;
            }
            let exited = self.processes.get_mut(name).and_then(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!(
                    "the Cloud Controller ({name}) exited ({status}) before it answered; its log:\n{}",
                    self.log(name)
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the Cloud Controller ({name}) answering; its log:\n{}",
                self.log(name)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A command with the environment every process of the cluster gets.
    pub fn wf_command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wf"));
        command
            .env("WF_LOG", "warn,wasmfoundry=info")
            .env("AWS_ACCESS_KEY_ID", "wf-test")
            .env("AWS_SECRET_ACCESS_KEY", "wf-test")
            .kill_on_drop(true);
        command
    }

    /// Starts `wf server --roles ROLES` as the process `name` (its data dir
    /// `dir/<name>`, the CC's `dir/data`), waiting for what it listens on.
    pub async fn spawn(&mut self, name: &str, roles: &str) {
        self.spawn_with(name, roles, &[]).await
    }

    /// As [`Cluster::spawn`], with config lines of this process's own.
    pub async fn spawn_with(&mut self, name: &str, roles: &str, own: &[(&str, &str)]) {
        let dir = self.platform.dir.path();
        let data_dir = if roles.split(',').any(|r| r == "cc") { dir.join("data") } else { dir.join(name) };
        let mut config = format!("data_dir: {}\n{}", data_dir.display(), self.shared_config());
        for (key, value) in own {
            config.push_str(&format!("{key}: {value}\n"));
        }
        self.start(name, roles, config);
        if roles.split(',').any(|r| r == "cc") {
            self.wait_for_cc(name).await;
        }
        if roles.split(',').any(|r| r == "router") {
            wait_for_port(self.router_port, "the router listening").await;
        }
    }

    /// Starts a CC of its own (`dir/<name>`) on `port`, beside the
    /// cluster's, without waiting for it to answer.
    pub fn start_cc_on(&mut self, name: &str, port: u16) {
        let dir = self.platform.dir.path();
        let shared = self
            .shared_config()
            .replace(&format!("cc_listen: 127.0.0.1:{}\n", self.cc_port), &format!("cc_listen: 127.0.0.1:{port}\n"));
        let config = format!("data_dir: {}\n{shared}", dir.join(name).display());
        self.start(name, "cc", config);
    }

    /// Starts `wf server --roles ROLES` with `config` as the process `name`.
    fn start(&mut self, name: &str, roles: &str, config: String) {
        let dir = self.platform.dir.path();
        let file = dir.join(format!("{name}.yml"));
        std::fs::write(&file, config).unwrap();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("{name}.log"))).unwrap();
        let child = self
            .wf_command()
            .args(["server", "--roles", roles, "-c", file.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("wf server starts");
        self.processes.insert(name.to_string(), child);
    }

    /// Kills the process `name` with SIGKILL: no shutdown, no goodbyes.
    pub async fn kill(&mut self, name: &str) {
        let mut child = self.processes.remove(name).unwrap_or_else(|| panic!("no process {name}"));
        child.kill().await.expect("killed");
    }

    /// The log the process `name` wrote so far (for failure messages).
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.platform.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }

    /// Waits until `count` DEAs advertise on the bus.
    pub async fn wait_for_deas(&self, count: usize) {
        let nats = async_nats::connect(self.nats_url()).await.expect("nats-server reachable");
        let mut adverts = nats.subscribe("dea.advertise").await.unwrap();
        let mut seen = std::collections::BTreeSet::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while seen.len() < count {
            use futures::StreamExt;
            let message = tokio::time::timeout_at(deadline.into(), adverts.next())
                .await
                .unwrap_or_else(|_| panic!("{count} DEAs advertising within 30 s (saw {seen:?})"))
                .unwrap();
            let advert: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
            seen.insert(advert["id"].as_str().unwrap().to_string());
        }
    }

    pub async fn shutdown(mut self) {
        for (_, mut child) in std::mem::take(&mut self.processes) {
            let _ = child.kill().await;
        }
        self.kill_nats().await;
        self.platform.shutdown().await;
    }
}
