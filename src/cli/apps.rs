//! Commands on apps: `apps` (the targeted space's apps with their state,
//! running instances, memory and routes, like `cf apps`), and on one app
//! `app`, `start`, `stop`, `restart`, `restage`, `scale`, `delete`,
//! `events`. Those that start instances wait for them by the app's events
//! ([`super::wait`]).

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, Payload, guid, q};

pub async fn apps() -> Result<()> {
    let mut client = Client::load()?;
    let space = client.session.space_guid.clone().context("no space targeted: log in with -o ORG -s SPACE")?;
    println!(
        "Getting apps in org {} / space {}...\n",
        client.session.org_name.as_deref().unwrap_or("?"),
        client.session.space_name.as_deref().unwrap_or("?")
    );
    let apps = client.get_all(&format!("/v2/spaces/{space}/apps")).await?;
    let domains: Vec<Value> = client.get_all("/v2/shared_domains").await?;
    println!("{:<24} {:<10} {:<10} {:<8} urls", "name", "state", "instances", "memory");
    for app in apps {
        let guid = app["metadata"]["guid"].as_str().unwrap_or_default();
        let e = &app["entity"];
        let total = e["instances"].as_u64().unwrap_or(0);
        let running = if e["state"] == "STARTED" {
            match client.get(&format!("/v2/apps/{guid}/instances")).await {
                Ok(instances) => {
                    instances.as_object().map(|m| m.values().filter(|i| i["state"] == "RUNNING").count()).unwrap_or(0)
                }
                Err(_) => 0,
            }
        } else {
            0
        };
        let routes = client.get_all(&format!("/v2/apps/{guid}/routes")).await?;
        let urls: Vec<String> = routes.iter().map(|r| route_url(r, &domains)).collect();
        println!(
            "{:<24} {:<10} {:<10} {:<8} {}",
            e["name"].as_str().unwrap_or_default(),
            e["state"].as_str().unwrap_or_default().to_lowercase(),
            format!("{running}/{total}"),
            format!("{}M", e["memory"].as_u64().unwrap_or(0)),
            urls.join(", ")
        );
    }
    Ok(())
}

/// `host.domain/path` of a route, the domain looked up among `domains`.
pub fn route_url(route: &Value, domains: &[Value]) -> String {
    let e = &route["entity"];
    let domain = domains
        .iter()
        .find(|d| d["metadata"]["guid"] == e["domain_guid"])
        .and_then(|d| d["entity"]["name"].as_str())
        .unwrap_or("?");
    let host = e["host"].as_str().unwrap_or_default();
    let path = e["path"].as_str().unwrap_or_default();
    if host.is_empty() { format!("{domain}{path}") } else { format!("{host}.{domain}{path}") }
}

pub async fn show(name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let app = guid(&client.app(name).await?);
    let summary = client.get(&format!("/v2/apps/{app}/summary")).await?;
    let urls: Vec<String> = summary["routes"]
        .as_array()
        .map(|routes| {
            routes
                .iter()
                .map(|r| {
                    format!(
                        "{}.{}",
                        r["host"].as_str().unwrap_or_default(),
                        r["domain"]["name"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    println!("name:              {name}");
    println!("requested state:   {}", summary["state"].as_str().unwrap_or_default().to_lowercase());
    println!("instances:         {}/{}", summary["running_instances"], summary["instances"]);
    println!("usage:             {}M x {} instances", summary["memory"], summary["instances"]);
    println!("routes:            {}", urls.join(", "));
    println!(
        "buildpack:         {}",
        summary["detected_buildpack"].as_str().or(summary["buildpack"].as_str()).unwrap_or("(none)")
    );
    println!("start command:     {}", summary["detected_start_command"].as_str().unwrap_or_default());
    if summary["state"] == "STARTED" && summary["package_state"] == "STAGED" {
        let stats = client.get(&format!("/v2/apps/{app}/stats")).await?;
        let crashes = client.get(&format!("/v2/apps/{app}/crashes")).await?;
        println!("\n     state      since                  host:port");
        let mut indices: Vec<&String> = stats.as_object().map(|m| m.keys().collect()).unwrap_or_default();
        indices.sort_by_key(|i| i.parse::<u32>().unwrap_or(0));
        for index in indices {
            let i = &stats[index.as_str()];
            let state = i["state"].as_str().unwrap_or_default().to_lowercase();
            let line = match i["stats"]["port"].as_u64() {
                Some(port) if state != "crashed" => format!(
                    "up {:>6}s            {}:{port}",
                    i["stats"]["uptime"].as_u64().unwrap_or(0),
                    i["stats"]["host"].as_str().unwrap_or("-")
                ),
                _ => crash_note(&crashes, index),
            };
            println!("#{index:<4} {state:<10} {line}");
        }
    }
    Ok(())
}

/// What `/crashes` says of an index that does not run: its crash count,
/// why it crashed last, and when the health manager starts it again.
fn crash_note(crashes: &Value, index: &str) -> String {
    let last = crashes.as_array().and_then(|all| {
        all.iter().rev().find(|c| {
            c["index"].as_u64().map(|i| i.to_string()).as_deref() == Some(index) && !c["crash_count"].is_null()
        })
    });
    let Some(crash) = last else { return "-".into() };
    let next = match crash["next_restart"].as_str() {
        Some(at) => format!("next restart {at}"),
        None => "not restarted again".into(),
    };
    format!("crashed {} time(s), {next}: {}", crash["crash_count"], crash["reason"].as_str().unwrap_or_default())
}

/// Sets the app's state and, for a start, waits until it runs.
pub async fn set_state(name: &str, state: &str) -> Result<()> {
    let mut client = Client::load()?;
    let app = guid(&client.app(name).await?);
    let events = super::wait::AppEvents::open(&client, &app, true).await?;
    println!("{} app {name}...", if state == "STARTED" { "Starting" } else { "Stopping" });
    client.call(Method::PUT, &format!("/v2/apps/{app}"), Payload::Json(json!({"state": state}))).await?;
    if state == "STARTED" {
        events.until_running(&mut client).await?;
    }
    println!("OK");
    Ok(())
}

/// Stages the app's package again; a started app's instances serve until
/// the new droplet's run.
pub async fn restage(name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let app = client.app(name).await?;
    let guid = guid(&app);
    let events = super::wait::AppEvents::open(&client, &guid, true).await?;
    println!("Restaging app {name}...");
    client.call(Method::POST, &format!("/v2/apps/{guid}/restage"), Payload::None).await?;
    if app["entity"]["state"] == "STARTED" {
        events.until_running(&mut client).await?;
    }
    println!("OK");
    Ok(())
}

pub async fn scale(name: &str, instances: Option<u32>, memory_mb: Option<u64>) -> Result<()> {
    let mut client = Client::load()?;
    let app = guid(&client.app(name).await?);
    let mut body = json!({});
    if let Some(i) = instances {
        body["instances"] = json!(i);
    }
    if let Some(m) = memory_mb {
        body["memory"] = json!(m);
    }
    let events = super::wait::AppEvents::open(&client, &app, false).await?;
    let updated = client.call(Method::PUT, &format!("/v2/apps/{app}"), Payload::Json(body)).await?;
    let e = &updated["entity"];
    println!("Scaled {name}: {} instances of {}M", e["instances"], e["memory"]);
    if e["state"] == "STARTED" {
        events.until_running(&mut client).await?;
    }
    Ok(())
}

pub async fn delete(name: &str, delete_routes: bool) -> Result<()> {
    let mut client = Client::load()?;
    let app = guid(&client.app(name).await?);
    let routes = if delete_routes { client.get_all(&format!("/v2/apps/{app}/routes")).await? } else { Vec::new() };
    client.call(Method::DELETE, &format!("/v2/apps/{app}?recursive=true"), Payload::None).await?;
    for route in routes {
        client.call(Method::DELETE, &format!("/v2/routes/{}", guid(&route)), Payload::None).await?;
    }
    println!("Deleted app {name}");
    Ok(())
}

pub async fn events(name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let app = guid(&client.app(name).await?);
    let path = format!("/v2/events?q={}&order-direction=desc&results-per-page=50", q(&format!("actee:{app}")));
    println!("{:<22} {:<28} {:<12} description", "time", "event", "actor");
    for event in client.get(&path).await?["resources"].as_array().cloned().unwrap_or_default() {
        let e = &event["entity"];
        println!(
            "{:<22} {:<28} {:<12} {}",
            e["timestamp"].as_str().unwrap_or_default(),
            e["type"].as_str().unwrap_or_default(),
            e["actor_name"].as_str().unwrap_or_default(),
            describe(&e["metadata"])
        );
    }
    Ok(())
}

/// The interesting part of an event's metadata, one line.
fn describe(metadata: &Value) -> String {
    if let Some(reason) = metadata["exit_description"].as_str() {
        return format!(
            "index: {}, reason: {}, exit_description: {reason}",
            metadata["index"],
            metadata["reason"].as_str().unwrap_or_default()
        );
    }
    match metadata["request"].as_object() {
        Some(request) => request.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "),
        None => String::new(),
    }
}
