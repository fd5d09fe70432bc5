//! `routes`, `create-route`, `map-route`: routes of the targeted space.

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, Payload, guid, q};

async fn domain_guid(client: &mut Client, domain: &str) -> Result<String> {
    Ok(guid(
        &client
            .find_one(&format!("/v2/shared_domains?q={}", q(&format!("name:{domain}"))), &format!("domain {domain}"))
            .await?,
    ))
}

pub async fn routes() -> Result<()> {
    let mut client = Client::load()?;
    let space = client.space()?;
    println!("{:<24} {:<20} {:<8} apps", "host", "domain", "path");
    for route in client.get_all(&format!("/v2/spaces/{space}/routes?inline-relations-depth=1")).await? {
        let e = &route["entity"];
        let apps: Vec<&str> = e["apps"]
            .as_array()
            .map(|a| a.iter().filter_map(|app| app["entity"]["name"].as_str()).collect())
            .unwrap_or_default();
        println!(
            "{:<24} {:<20} {:<8} {}",
            e["host"].as_str().unwrap_or_default(),
            e["domain"]["entity"]["name"].as_str().unwrap_or_default(),
            e["path"].as_str().unwrap_or_default(),
            apps.join(", ")
        );
    }
    Ok(())
}

/// The route host.domain/path (domain by guid) in the space, created if new.
pub async fn ensure(client: &mut Client, space: &str, host: &str, domain: &str, path: &str) -> Result<Value> {
    let filter = format!(
        "/v2/routes?q={}&q={}&q={}",
        q(&format!("domain_guid:{domain}")),
        q(&format!("host:{host}")),
        q(&format!("path:{path}"))
    );
    if let Some(route) = client.get(&filter).await?["resources"].get(0) {
        return Ok(route.clone());
    }
    let mut body = json!({"host": host, "domain_guid": domain, "space_guid": space});
    if !path.is_empty() {
        body["path"] = json!(path);
    }
    client.call(Method::POST, "/v2/routes", Payload::Json(body)).await
}

/// `host.domain` (domain by name) in the targeted space, created if new; its guid.
async fn ensure_route(client: &mut Client, domain: &str, host: &str) -> Result<String> {
    let space = client.space()?;
    let domain = domain_guid(client, domain).await?;
    Ok(guid(&ensure(client, &space, host, &domain, "").await?))
}

pub async fn create_route(domain: &str, host: &str) -> Result<()> {
    let mut client = Client::load()?;
    ensure_route(&mut client, domain, host).await?;
    println!("Route {host}.{domain} created");
    Ok(())
}

pub async fn map_route(app: &str, domain: &str, host: &str) -> Result<()> {
    let mut client = Client::load()?;
    let app_guid = guid(&client.app(app).await?);
    let route = ensure_route(&mut client, domain, host).await?;
    client.call(Method::PUT, &format!("/v2/routes/{route}/apps/{app_guid}"), Payload::None).await?;
    println!("Mapped {host}.{domain} to {app}");
    Ok(())
}
