//! A whole platform per test: CC, DEA and router in this process on free
//! ports, over the local bus or a real NATS server, with a fresh data dir —
//! driven only through its public surface (HTTP API, the `wf` binary,
//! the router).
#![allow(dead_code)] // each test binary uses part of this harness

pub mod broker;
pub mod browser;
pub mod cluster;
pub mod source_apps;
pub mod v3;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmfoundry::config::Config;
use wasmfoundry::server::{Platform, Role};

pub struct TestPlatform {
    pub api: String,
    /// The CCDB the platform's CC keeps.
    pub database_url: String,
    pub router: String,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    platform: Option<Platform>,
    /// A test database to drop at shutdown (server URL, database name).
    postgres: Option<(String, String)>,
}

/// The repository root, where examples and fixtures live.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty PostgreSQL database on the server WF_TEST_DATABASE_URL
/// names (so tests running at once never see each other's rows), or None
/// when that variable is unset.
pub async fn fresh_postgres() -> Option<String> {
    let server = std::env::var("WF_TEST_DATABASE_URL").ok()?;
    let name = format!("wf_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&server).await.expect("WF_TEST_DATABASE_URL reachable");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("can create a test database");
    let mut url = url::Url::parse(&server).expect("WF_TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// A platform with its CCDB in a fresh PostgreSQL database, or None (and a
/// note) when WF_TEST_DATABASE_URL is unset.
pub async fn postgres_platform() -> Option<TestPlatform> {
    match fresh_postgres().await {
        Some(db) => Some(TestPlatform::start_with("local:", Some(db)).await),
        None => {
            eprintln!("skipped: set WF_TEST_DATABASE_URL=postgres://… to run on PostgreSQL");
            None
        }
    }
}

impl TestPlatform {
    pub async fn start(bus_url: &str) -> TestPlatform {
        TestPlatform::start_with(bus_url, None).await
    }

    /// A platform whose CCDB is `database_url` (SQLite in its data dir when None).
    pub async fn start_with(bus_url: &str, database_url: Option<String>) -> TestPlatform {
        TestPlatform::start_configured(bus_url, database_url, |_| {}).await
    }

    /// A platform with some configuration changed by `configure`.
    pub async fn start_configured(
        bus_url: &str,
        database_url: Option<String>,
        configure: impl FnOnce(&mut Config),
    ) -> TestPlatform {
        let postgres = match (&database_url, std::env::var("WF_TEST_DATABASE_URL")) {
            (Some(url), Ok(server)) => {
                url::Url::parse(url).ok().map(|u| (server, u.path().trim_start_matches('/').to_string()))
            }
            _ => None,
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: dir.path().join("data"),
            database_url,
            bus_url: bus_url.to_string(),
            cc_listen: "127.0.0.1:0".parse().unwrap(),
            router_listen: "127.0.0.1:0".parse().unwrap(),
            // Hundreds of platforms start in a run, few stage Python: each
            // would compile CPython (tests/runtimes_ahead.rs tests it).
            dea_compile_runtimes_ahead: false,
            ..Config::default()
        };
        configure(&mut config);
        let database_url = config.database_url();
        let platform = Platform::start(config, &Role::ALL).await.expect("platform starts");
        TestPlatform {
            api: platform.cc_url.clone().unwrap(),
            database_url,
            router: format!("http://{}", platform.router_address.unwrap()),
            dir,
            // A fresh connection per request: a server may close one after
            // answering an upload it refused before reading all of it.
            http: reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap(),
            platform: Some(platform),
            postgres,
        }
    }

    /// The client's view of a platform running elsewhere (other
    /// processes), whose CC keeps its data in `dir/data`.
    pub fn remote(
        api: String,
        router: String,
        database_url: String,
        dir: tempfile::TempDir,
        postgres: Option<(String, String)>,
    ) -> Self {
        TestPlatform {
            api,
            database_url,
            router,
            dir,
            http: reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap(),
            platform: None,
            postgres,
        }
    }

    /// Waits until the DEA has compiled the built-in buildpacks' runtimes
    /// (with `dea_compile_runtimes_ahead` on).
    pub async fn runtimes_compiled(&mut self) {
        let platform = self.platform.as_mut().expect("running");
        let compiling = platform.runtimes_compiled.take().expect("the DEA compiles its runtimes when it starts");
        compiling.await.expect("compiled");
    }

    /// Where the router serves HTTPS, when configured to.
    pub fn router_tls(&self) -> Option<std::net::SocketAddr> {
        self.platform.as_ref()?.router_tls_address
    }

    /// Scrapes `{base}/metrics`: each sample's line (name and labels) and value.
    pub async fn metrics(&self, base: &str) -> std::collections::HashMap<String, f64> {
        let response = self.http.get(format!("{base}/metrics")).send().await.expect("a scrape");
        assert_eq!(response.status(), 200, "GET {base}/metrics");
        parse_metrics(&response.text().await.unwrap())
    }

    pub fn admin_password(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("data/admin-password")).expect("admin password written")
    }

    /// `POST /oauth/token` as the cf client: (status, JSON body).
    pub async fn oauth(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/oauth/token", self.api))
            .basic_auth("cf", Some(""))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// The admin's token pair from the password grant.
    pub async fn tokens(&self) -> Value {
        let password = self.admin_password();
        let (status, body) =
            self.oauth(&[("grant_type", "password"), ("username", "admin"), ("password", &password)]).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn token(&self) -> String {
        self.tokens().await["access_token"].as_str().expect("a token").to_string()
    }

    /// An authenticated API call: (status, JSON body or null).
    pub async fn api(&self, method: reqwest::Method, path: &str, body: Option<&str>) -> (u16, Value) {
        self.api_with_token(&self.token().await, method, path, body).await
    }

    /// An API call as whoever `token` is (another user than the admin).
    pub async fn api_with_token(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.api)).bearer_auth(token);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `PUT /v2/apps/:app/bits` with this zip as the application and no
    /// resources: (status, JSON body — a job when `asynchronous`).
    pub async fn put_bits(&self, app: &str, zip: Vec<u8>, asynchronous: bool) -> (u16, Value) {
        let form = reqwest::multipart::Form::new()
            .text("resources", "[]")
            .part("application", reqwest::multipart::Part::bytes(zip).file_name("application.zip"));
        let query = if asynchronous { "?async=true" } else { "" };
        let response = self
            .http
            .put(format!("{}/v2/apps/{app}/bits{query}", self.api))
            .bearer_auth(self.token().await)
            .multipart(form)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.api(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Runs the `wf` binary with this platform's own client config.
    pub async fn wf(&self, args: &[&str]) -> std::process::Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_wf"))
            .args(args)
            .env("WF_HOME", self.dir.path().join("home"))
            .output()
            .await
            .expect("wf runs")
    }

    pub async fn login(&self) {
        let out = self.wf(&["login", "-a", &self.api, "-u", "admin", "-p", &self.admin_password()]).await;
        assert!(out.status.success(), "login failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `wf push`, asserting it succeeds; returns its stdout.
    pub async fn push(&self, name: &str, dir: &Path, extra: &[&str]) -> String {
        let mut args = vec!["push", name, "-p", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = self.wf(&args).await;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "push {name} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    }

    pub async fn app_guid(&self, name: &str) -> String {
        let apps = self.get(&format!("/v2/apps?q=name:{name}")).await;
        apps["resources"][0]["metadata"]["guid"].as_str().expect("app exists").to_string()
    }

    /// A request through the router with this Host.
    pub async fn via_router(&self, host: &str, path: &str) -> (u16, String) {
        let response = self.http.get(format!("{}{path}", self.router)).header("host", host).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub async fn instances(&self, guid: &str) -> Value {
        self.get(&format!("/v2/apps/{guid}/instances")).await
    }

    /// The states of an app's instances, sorted.
    pub async fn states(&self, guid: &str) -> Vec<String> {
        let instances = self.instances(guid).await;
        let mut states: Vec<String> =
            instances.as_object().unwrap().values().map(|i| i["state"].as_str().unwrap().to_string()).collect();
        states.sort();
        states
    }

    /// Waits until an app's instances are in exactly these states.
    pub async fn wait_for_states(&self, guid: &str, wanted: &[&str], timeout: Duration) {
        eventually(&format!("instances {wanted:?}"), timeout, || async move {
            (self.states(guid).await == wanted).then_some(())
        })
        .await
    }

    /// Waits until a line of the app's recent logs contains `text`; returns it.
    pub async fn wait_for_log(&self, guid: &str, text: &str, timeout: Duration) -> String {
        eventually(&format!("a log line with {text:?}"), timeout, || async move {
            let logs = self.get(&format!("/v2/apps/{guid}/logs")).await;
            logs.as_array()?.iter().filter_map(|l| l["message"].as_str()).find(|m| m.contains(text)).map(str::to_string)
        })
        .await
    }

    /// Stops the DEA and starts it again on the same data dir.
    pub async fn restart_dea(&mut self) {
        self.platform.as_mut().expect("running").restart_dea().await.expect("the DEA restarts");
    }

    pub async fn shutdown(mut self) {
        if let Some(platform) = self.platform.take() {
            platform.shutdown().await;
        }
        if let Some((server, name)) = self.postgres.take() {
            drop_database(&server, &name).await;
        }
    }
}

async fn drop_database(server: &str, name: &str) {
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(server).await.expect("database server");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("test database dropped");
}

/// A test that failed before `shutdown` still drops its database.
impl Drop for TestPlatform {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            // Drop may run inside the test's runtime: use a thread of its own.
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(drop_database(&server, &name))
            })
            .join();
        }
    }
}

/// A configuration whose health manager leaves crashed instances crashed
/// (for tests of the crash itself, not of what follows it).
pub fn keep_crashes(config: &mut Config) {
    config.crash_policy.immediate_restarts = 0;
    config.crash_policy.backoff_seconds = 24 * 3600;
    config.crash_policy.max_backoff_seconds = 24 * 3600;
}

/// Polls `check` until it returns Some, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A fresh app directory holding a copy of `files` (paths under the repo).
pub fn app_dir(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in files {
        let source = repo().join(file);
        std::fs::copy(&source, dir.path().join(source.file_name().unwrap())).unwrap();
    }
    dir
}

/// A zip of these (name, contents) files, as clients upload packages.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, contents) in files {
        writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(contents).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// The first-push scenario, on whichever bus: push examples/hello-http with
/// two instances, and both answer through the router with their own index
/// and the VCAP_APPLICATION CF would give them.
pub async fn push_hello_scenario(bus_url: &str) {
    let platform = TestPlatform::start(bus_url).await;
    platform.login().await;
    let app = app_dir(&["examples/hello-http/hello_http.wasm"]);
    let out = platform.push("hello", app.path(), &["-i", "2", "-m", "64M"]).await;
    assert!(out.contains("wasm_buildpack detected wasm"), "staging log shown:\n{out}");
    assert!(out.contains("App hello is running"), "{out}");
    assert!(out.contains("urls: http://hello.localhost:"), "{out}");
    assert!(out.contains("pushed in "), "{out}");

    let guid = platform.app_guid("hello").await;
    let instances = platform.instances(&guid).await;
    let guid_ref = &guid;
    let platform_ref = &platform;
    eventually("both instances RUNNING", Duration::from_secs(20), || async move {
        let i = platform_ref.instances(guid_ref).await;
        (i["0"]["state"] == "RUNNING" && i["1"]["state"] == "RUNNING").then_some(())
    })
    .await;
    assert_eq!(instances.as_object().unwrap().len(), 2);

    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let (status, body) = platform.via_router("hello.localhost", "/hi?x=1").await;
        assert_eq!(status, 200, "{body}");
        let json: Value = serde_json::from_str(&body).expect("hello answers JSON");
        let index = json["instance_index"].as_u64().expect("an instance index");
        let vcap = &json["vcap_application"];
        assert_eq!(json["path"], "/hi?x=1");
        assert_eq!(json["memory_limit"], "64m");
        assert_eq!(vcap["application_name"], "hello");
        assert_eq!(vcap["name"], "hello");
        assert_eq!(vcap["application_id"], guid.as_str());
        assert_eq!(vcap["application_uris"], serde_json::json!(["hello.localhost"]));
        assert_eq!(vcap["limits"]["mem"], 64);
        assert_eq!(vcap["space_name"], "dev");
        assert_eq!(vcap["instance_index"].as_u64(), Some(index));
        assert_eq!(json["port"].as_str().unwrap(), vcap["port"].to_string());
        assert!(vcap["instance_id"].as_str().is_some_and(|id| !id.is_empty()));
        seen.insert(index);
    }
    assert_eq!(seen, [0, 1].into_iter().collect(), "the router spreads requests over both instances");

    let (status, body) = platform.via_router("nothing.localhost", "/").await;
    assert_eq!(status, 404);
    assert!(body.contains("Requested route ('nothing.localhost') does not exist"), "{body}");
    platform.shutdown().await;
}

/// Runs `scenario` as two tests: on SQLite, and on PostgreSQL when
/// WF_TEST_DATABASE_URL names a server (CI sets it).
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $scenario:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                $scenario($crate::common::TestPlatform::start("local:").await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if let Some(platform) = $crate::common::postgres_platform().await {
                    $scenario(platform).await;
                }
            }
        }
    };
}

/// The samples of a scrape in the text format: `name{labels}` → value
/// (labels as written, in the order the server wrote them).
pub fn parse_metrics(text: &str) -> std::collections::HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The `field` of every resource of a list page, sorted.
pub fn sorted_field(page: &Value, field: &str) -> Vec<String> {
    let resources = page["resources"].as_array().expect("a list page");
    let mut values: Vec<String> =
        resources.iter().map(|r| r["entity"][field].as_str().expect("a text field").to_string()).collect();
    values.sort();
    values
}
