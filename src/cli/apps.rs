//! `wf apps`: the apps of the targeted space with their state, running
//! instances, memory and routes, like `cf apps`.

use anyhow::{Context, Result};
use serde_json::Value;

use super::client::Client;

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
