//! `wf push NAME -p DIR [-b BUILDPACK] [-i N] [-m 64M] [-k 1G] [-u port|process|none] [-t S]`: cf push's six
//! steps — create (or update) the app, make and map its route, match
//! resources and upload the rest, start it — while the staging log streams
//! live, then wait for instances and print the URL and the time it took.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::bits;
use super::client::{Backoff, Client, Payload, guid, q};

#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    pub name: String,
    pub path: String,
    pub buildpack: Option<String>,
    pub instances: Option<u32>,
    pub memory_mb: Option<u64>,
    pub disk_quota_mb: Option<u64>,
    pub health_check_type: Option<String>,
    pub health_check_timeout: Option<u32>,
    pub command: Option<String>,
    pub env: Option<std::collections::BTreeMap<String, String>>,
    /// `host.domain[/path]`s; None means the default route.
    pub routes: Option<Vec<String>>,
    pub no_route: bool,
    pub random_route: bool,
    /// Service instances to bind (by name).
    pub services: Vec<String>,
}

/// How long to wait for staging, then for the first instance to run.
const STAGING_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// `64M`, `1G`, `512` (MB) as megabytes.
pub fn parse_memory(text: &str) -> Result<u64> {
    let upper = text.trim().to_ascii_uppercase();
    let (digits, factor) = match upper.strip_suffix("GB").or(upper.strip_suffix('G')) {
        Some(d) => (d, 1024),
        None => (upper.strip_suffix("MB").or(upper.strip_suffix('M')).unwrap_or(&upper), 1),
    };
    let n: u64 = digits.parse().with_context(|| format!("invalid memory {text:?}: use e.g. 64M or 1G"))?;
    Ok(n * factor)
}

pub async fn push(options: PushOptions) -> Result<()> {
    let began = Instant::now();
    let mut client = Client::load()?;
    let space = client.session.space_guid.clone().context("no space targeted: log in with -o ORG -s SPACE")?;
    let name = options.name.clone();
    println!(
        "Pushing app {name} to org {} / space {}...",
        client.session.org_name.as_deref().unwrap_or("?"),
        client.session.space_name.as_deref().unwrap_or("?")
    );

    // 1. The app.
    let mut fields = json!({});
    if let Some(b) = &options.buildpack {
        fields["buildpack"] = json!(b);
    }
    if let Some(i) = options.instances {
        fields["instances"] = json!(i);
    }
    if let Some(m) = options.memory_mb {
        fields["memory"] = json!(m);
    }
    if let Some(d) = options.disk_quota_mb {
        fields["disk_quota"] = json!(d);
    }
    if let Some(t) = &options.health_check_type {
        fields["health_check_type"] = json!(t);
    }
    if let Some(t) = options.health_check_timeout {
        fields["health_check_timeout"] = json!(t);
    }
    if let Some(c) = &options.command {
        fields["command"] = json!(c);
    }
    if let Some(env) = &options.env {
        fields["environment_json"] = json!(env);
    }
    let existing = client
        .get(&format!("/v2/apps?q={}&q={}", q(&format!("name:{name}")), q(&format!("space_guid:{space}"))))
        .await?;
    let app = match existing["resources"].get(0) {
        Some(app) => {
            println!("Updating app {name}...");
            client.call(Method::PUT, &format!("/v2/apps/{}", guid(app)), Payload::Json(fields)).await?
        }
        None => {
            println!("Creating app {name}...");
            fields["name"] = json!(name);
            fields["space_guid"] = json!(space);
            client.call(Method::POST, "/v2/apps", Payload::Json(fields)).await?
        }
    };
    let app_guid = guid(&app);

    // 2. Its routes.
    let domains = client.get_all("/v2/shared_domains").await?;
    let mut urls = Vec::new();
    if !options.no_route {
        for (host, domain, path) in wanted_routes(&options, &domains)? {
            let route = super::routes::ensure(&mut client, &space, &host, &domain, &path).await?;
            let url = super::apps::route_url(&route, &domains);
            println!("Binding {url} to {name}...");
            client.call(Method::PUT, &format!("/v2/routes/{}/apps/{app_guid}", guid(&route)), Payload::None).await?;
            urls.push(url);
        }
    }

    for service in &options.services {
        println!("Binding service {service} to {name}...");
        super::services::ensure_bound(&mut client, &app_guid, service, None).await?;
    }

    // 3. Bits: only what the CC does not have yet.
    println!("Uploading {name}...");
    upload(&mut client, &app_guid, Path::new(&options.path)).await?;

    // 4. (Re)start, streaming the staging log.
    if app["entity"]["state"] == "STARTED" {
        println!("Stopping app {name}...");
        client.call(Method::PUT, &format!("/v2/apps/{app_guid}"), Payload::Json(json!({"state": "STOPPED"}))).await?;
    }
    let mut log_task = super::logs::follow(
        &client,
        &app_guid,
        |line| (line["source_type"] == "STG").then(|| format!("   {}", line["message"].as_str().unwrap_or_default())),
        // The DEA's last staging line names the droplet.
        |line| {
            line["source_type"] == "STG" && line["message"].as_str().is_some_and(|m| m.trim().starts_with("droplet "))
        },
    )
    .await?;
    println!("Starting app {name}...");
    client.call(Method::PUT, &format!("/v2/apps/{app_guid}"), Payload::Json(json!({"state": "STARTED"}))).await?;
    let staged = wait_for_staging(&mut client, &app_guid).await;
    // The last staging line may still be on its way; a staging that failed
    // has none, so it is not waited for long.
    if tokio::time::timeout(Duration::from_millis(300), &mut log_task).await.is_err() {
        log_task.abort();
    }
    let entity = staged?;
    if entity["package_state"] == "FAILED" {
        bail!(
            "staging failed: {} ({})",
            entity["staging_failed_description"].as_str().unwrap_or("unknown"),
            entity["staging_failed_reason"].as_str().unwrap_or("StagingError")
        );
    }
    wait_for_instances(&mut client, &app_guid).await?;

    let router = client.session.router_url.clone().unwrap_or_default();
    let port = router.rsplit(':').next().filter(|p| *p != "80").map(|p| format!(":{p}")).unwrap_or_default();
    let urls: Vec<String> = urls.iter().map(|u| format!("http://{}", insert_port(u, &port))).collect();
    println!("\nApp {name} is running\nurls: {}", urls.join(", "));
    println!("pushed in {:.2}s", began.elapsed().as_secs_f64());
    Ok(())
}

/// `host.domain/path` with the router's port after the domain.
fn insert_port(url: &str, port: &str) -> String {
    match url.find('/') {
        Some(at) => format!("{}{port}{}", &url[..at], &url[at..]),
        None => format!("{url}{port}"),
    }
}

/// (host, domain guid, path) of each route the app should have.
fn wanted_routes(options: &PushOptions, domains: &[Value]) -> Result<Vec<(String, String, String)>> {
    let first = domains.first().context("there is no shared domain to put the app on")?;
    let Some(routes) = &options.routes else {
        let mut host = options.name.to_ascii_lowercase();
        if options.random_route {
            host = format!("{host}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        }
        return Ok(vec![(host, guid(first), String::new())]);
    };
    routes
        .iter()
        .map(|route| {
            let (address, path) = match route.find('/') {
                Some(at) => (&route[..at], route[at..].to_string()),
                None => (route.as_str(), String::new()),
            };
            let domain = domains
                .iter()
                .filter_map(|d| d["entity"]["name"].as_str().map(|n| (n, d)))
                .filter(|(n, _)| address == *n || address.ends_with(&format!(".{n}")))
                .max_by_key(|(n, _)| n.len())
                .with_context(|| format!("route {route}: no domain of it exists here"))?;
            let host = address.strip_suffix(domain.0).unwrap_or_default().trim_end_matches('.').to_string();
            Ok((host, guid(domain.1), path))
        })
        .collect()
}

async fn upload(client: &mut Client, app_guid: &str, dir: &Path) -> Result<()> {
    let dir = dir.to_path_buf();
    let files = tokio::task::spawn_blocking(move || bits::collect(&dir)).await??;
    let fingerprints: Vec<Value> = files.iter().map(|f| f.fingerprint()).collect();
    let known = client.call(Method::PUT, "/v2/resource_match", Payload::Json(Value::Array(fingerprints))).await?;
    let known: Vec<String> = known
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["sha1"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let (matched, missing): (Vec<&bits::AppFile>, Vec<&bits::AppFile>) =
        files.iter().partition(|f| known.contains(&f.sha1));
    let size: u64 = missing.iter().map(|f| f.size).sum();
    println!("Uploading {} files ({} KB), {} already on the server", missing.len(), size.div_ceil(1024), matched.len());
    let zip = bits::zip(&missing)?;
    let resources = serde_json::to_string(&matched.iter().map(|f| f.fingerprint()).collect::<Vec<_>>())?;
    let form = move || {
        let part = reqwest::multipart::Part::bytes(zip.clone())
            .file_name("application.zip")
            .mime_str("application/zip")
            .expect("static mime");
        reqwest::multipart::Form::new().text("resources", resources.clone()).part("application", part)
    };
    let job = client
        .call(Method::PUT, &format!("/v2/apps/{app_guid}/bits?async=true"), Payload::Multipart(Box::new(form)))
        .await?;
    let job_url = job["metadata"]["url"].as_str().context("the upload answered without a job")?.to_string();
    let mut backoff = Backoff::default();
    loop {
        let job = client.get(&job_url).await?;
        match job["entity"]["status"].as_str() {
            Some("finished") => return Ok(()),
            Some("failed") => bail!(
                "upload failed: {}",
                job["entity"]["error_details"]["description"].as_str().unwrap_or("unknown error")
            ),
            _ => backoff.wait().await,
        }
    }
}

async fn wait_for_staging(client: &mut Client, app_guid: &str) -> Result<Value> {
    let deadline = Instant::now() + STAGING_TIMEOUT;
    let mut backoff = Backoff::default();
    while Instant::now() < deadline {
        let app = client.get(&format!("/v2/apps/{app_guid}")).await?;
        if matches!(app["entity"]["package_state"].as_str(), Some("STAGED") | Some("FAILED")) {
            return Ok(app["entity"].clone());
        }
        backoff.wait().await;
    }
    bail!("staging did not finish within {} minutes", STAGING_TIMEOUT.as_secs() / 60)
}

/// Waits until an instance runs; fails when every instance crashed.
pub async fn wait_for_instances(client: &mut Client, app_guid: &str) -> Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut backoff = Backoff::default();
    loop {
        let instances = client.get(&format!("/v2/apps/{app_guid}/instances")).await?;
        let states: Vec<&str> =
            instances.as_object().map(|m| m.values().filter_map(|i| i["state"].as_str()).collect()).unwrap_or_default();
        let count = |s: &str| states.iter().filter(|x| **x == s).count();
        if count("RUNNING") > 0 {
            println!("{} of {} instances running", count("RUNNING"), states.len());
            return Ok(());
        }
        if !states.is_empty() && count("CRASHED") == states.len() {
            bail!("all {} instances crashed on start", states.len());
        }
        if Instant::now() >= deadline {
            bail!("no instance was running after {}s", START_TIMEOUT.as_secs());
        }
        backoff.wait().await;
    }
}
