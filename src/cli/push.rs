//! `wf push NAME -p DIR [-b BUILDPACK] [-i N] [-m 64M] [-k 1G] [-u port|process|none] [-t S]`: cf push's six
//! steps — create (or update) the app, make and map its route, match
//! resources and upload the rest, start it — while the staging log streams
//! live, then wait for instances and print the URL and the time it took.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{Value, json};

use super::bits;
use super::client::{Client, Payload, guid, q};
use crate::protocol::manifest::ManifestProcess;

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
    /// A manifest's process types (`processes:`), applied as the CC
    /// applies a manifest's.
    pub processes: Vec<ManifestProcess>,
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
    let existing = existing["resources"].get(0).cloned();
    let app_guid = match &existing {
        Some(app) => {
            println!("Updating app {name}...");
            guid(app)
        }
        None => {
            println!("Creating app {name}...");
            fields["name"] = json!(name);
            fields["space_guid"] = json!(space);
            guid(&client.call(Method::POST, "/v2/apps", Payload::Json(fields.take())).await?)
        }
    };

    // Its process types, as a manifest gives them (instances, sizes,
    // commands, health checks): the CC applies them as it applies cf
    // push's manifest.
    if !options.processes.is_empty() {
        println!("Applying the process types of {name}...");
        let manifest = json!({"applications": [{"name": name, "processes": options.processes}]});
        client.apply_manifest(&space, manifest).await?;
    }

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

    // 4. (Re)start, following the staging log and the instances' events. A
    // started app is not stopped: the new version's instances replace the
    // old ones as they come up. Changed fields make a new version by
    // themselves; otherwise the new bits are staged by a restage.
    let events = super::wait::AppEvents::open(&client, &app_guid, true).await?;
    let app_path = format!("/v2/apps/{app_guid}");
    match existing.filter(|app| app["entity"]["state"] == "STARTED") {
        Some(running) => {
            println!("Restarting app {name}: its instances serve until new ones run...");
            let updated = client.call(Method::PUT, &app_path, Payload::Json(fields)).await?;
            if updated["entity"]["version"] == running["entity"]["version"] {
                client.call(Method::POST, &format!("{app_path}/restage"), Payload::None).await?;
            }
        }
        None => {
            println!("Starting app {name}...");
            fields["state"] = json!("STARTED");
            client.call(Method::PUT, &app_path, Payload::Json(fields)).await?;
        }
    }
    events.until_running(&mut client).await?;

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
    let fingerprints: Vec<Value> = files.iter().filter_map(|f| f.fingerprint()).collect();
    let known = client.call(Method::PUT, "/v2/resource_match", Payload::Json(Value::Array(fingerprints))).await?;
    let known: Vec<String> = known
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["sha1"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let (matched, missing): (Vec<&bits::AppFile>, Vec<&bits::AppFile>) =
        files.iter().partition(|f| f.link.is_none() && known.contains(&f.sha1));
    let size: u64 = missing.iter().map(|f| f.size).sum();
    println!("Uploading {} files ({} KB), {} already on the server", missing.len(), size.div_ceil(1024), matched.len());
    let zip = bits::zip(&missing)?;
    let resources = serde_json::to_string(&matched.iter().filter_map(|f| f.fingerprint()).collect::<Vec<_>>())?;
    let form = move || {
        let part = reqwest::multipart::Part::bytes(zip.clone())
            .file_name("application.zip")
            .mime_str("application/zip")
            .expect("static mime");
        reqwest::multipart::Form::new().text("resources", resources.clone()).part("application", part)
    };
    // Answered once the package is stored: nothing to poll.
    client.call(Method::PUT, &format!("/v2/apps/{app_guid}/bits"), Payload::Multipart(Box::new(form))).await?;
    Ok(())
}
