//! `wf restart` of a started app, and `wf continue-deployment` /
//! `wf cancel-deployment`: v3 deployments, as `cf restart --strategy
//! rolling|canary`, `cf continue-deployment` and `cf cancel-deployment`
//! drive them. A rolling one returns once every instance runs the new
//! version; a canary one once its canary instances do and it paused.

use std::time::Duration;

use anyhow::{Result, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, Payload};

/// How long a deployment may take to reach its pause or its end.
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(300);
const POLL_EVERY: Duration = Duration::from_millis(200);

/// How a restart rolls out.
pub struct Strategy {
    /// `rolling` or `canary`.
    pub name: String,
    pub max_in_flight: Option<u32>,
}

/// Restarts a started app without a moment unserved (a v3 deployment:
/// its instances roll over `max_in_flight` at a time); starts a stopped one.
pub async fn restart(name: &str, strategy: Strategy) -> Result<()> {
    let mut client = Client::load()?;
    let app = client.app(name).await?;
    if app["entity"]["state"] != "STARTED" || app["entity"]["package_state"] != "STAGED" {
        return super::apps::set_state(name, "STARTED").await;
    }
    let guid = app["metadata"]["guid"].as_str().unwrap_or_default().to_string();
    println!("Restarting app {name} ({} deployment): its instances serve until new ones run...", strategy.name);
    let mut request = json!({"relationships": {"app": {"data": {"guid": guid}}}, "strategy": strategy.name});
    if let Some(max_in_flight) = strategy.max_in_flight {
        request["options"] = json!({"max_in_flight": max_in_flight});
    }
    let events = super::wait::AppEvents::open(&client, &guid, false).await?;
    let deployment = client.call(Method::POST, "/v3/deployments", Payload::Json(request)).await?;
    if strategy.name == "canary" {
        return follow(&mut client, name, deployment["guid"].as_str().unwrap_or_default()).await;
    }
    events.until_running(&mut client).await?;
    println!("OK");
    Ok(())
}

/// Continues the app's paused canary deployment.
pub async fn continue_deployment(name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let guid = active_deployment(&mut client, name).await?;
    client.call(Method::POST, &format!("/v3/deployments/{guid}/actions/continue"), Payload::None).await?;
    println!("Continuing the deployment of app {name}...");
    follow(&mut client, name, &guid).await
}

/// Cancels the app's active deployment: its previous droplet rolls back out.
pub async fn cancel_deployment(name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let guid = active_deployment(&mut client, name).await?;
    client.call(Method::POST, &format!("/v3/deployments/{guid}/actions/cancel"), Payload::None).await?;
    println!("Cancelled the deployment of app {name}: its previous droplet rolls back out.");
    Ok(())
}

async fn active_deployment(client: &mut Client, name: &str) -> Result<String> {
    let app = client.app(name).await?;
    let app = app["metadata"]["guid"].as_str().unwrap_or_default();
    let active = client.get(&format!("/v3/deployments?app_guids={app}&status_values=ACTIVE")).await?;
    match active["resources"].as_array().and_then(|r| r.last()) {
        Some(deployment) => Ok(deployment["guid"].as_str().unwrap_or_default().to_string()),
        None => bail!("app {name} has no active deployment"),
    }
}

/// Waits for the deployment to pause or end, printing its steps; fails
/// once an instance of the new version crashed.
async fn follow(client: &mut Client, name: &str, guid: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + DEPLOY_TIMEOUT;
    let mut last = String::new();
    loop {
        let deployment: Value = client.get(&format!("/v3/deployments/{guid}")).await?;
        let app = deployment["relationships"]["app"]["data"]["guid"].as_str().unwrap_or_default();
        let instances = client.get(&format!("/v2/apps/{app}/instances")).await?;
        if instances.as_object().is_some_and(|all| all.values().any(|i| i["state"] == "CRASHED")) {
            bail!("an instance of the new version crashed: `wf cancel-deployment {name}` rolls back");
        }
        let status = &deployment["status"];
        let reason = status["reason"].as_str().unwrap_or_default();
        let step = &status["canary"]["steps"];
        let now = format!("{reason}{}", step["current"]);
        if now != last && step.is_object() {
            println!("canary step {} of {}: {reason}", step["current"], step["total"]);
        }
        last = now;
        match reason {
            "DEPLOYED" => {
                println!("OK");
                return Ok(());
            }
            "PAUSED" => {
                println!(
                    "Paused: `wf continue-deployment {name}` rolls out the rest, `wf cancel-deployment {name}` rolls back."
                );
                return Ok(());
            }
            "CANCELED" | "SUPERSEDED" => bail!("the deployment was {}", reason.to_lowercase()),
            _ if tokio::time::Instant::now() >= deadline => {
                bail!("the deployment did not finish within {}s", DEPLOY_TIMEOUT.as_secs())
            }
            _ => tokio::time::sleep(POLL_EVERY).await,
        }
    }
}
