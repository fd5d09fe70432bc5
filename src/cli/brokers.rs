//! Service brokers and the marketplace from the command line, as with cf:
//! `wf create-service-broker NAME USER PASS URL [--space-scoped]`, `wf
//! service-brokers`, `update-service-broker NAME USER PASS URL`,
//! `rename-service-broker NAME NEW`, `wf delete-service-broker NAME`, `wf marketplace`
//! (what the targeted space may use) and `wf enable-service-access` /
//! `disable-service-access SERVICE [-p PLAN] [-o ORG]` (admins).

use anyhow::Result;
use reqwest::Method;
use serde_json::json;

use super::client::{Client, Payload, guid, q};

pub async fn create(name: &str, username: &str, password: &str, url: &str, space_scoped: bool) -> Result<()> {
    let mut client = Client::load()?;
    let mut body = json!({"name": name, "broker_url": url, "auth_username": username, "auth_password": password});
    if space_scoped {
        body["space_guid"] = json!(client.space()?);
    }
    client.call(Method::POST, "/v2/service_brokers", Payload::Json(body)).await?;
    println!("Created service broker {name}");
    Ok(())
}

pub async fn list() -> Result<()> {
    let mut client = Client::load()?;
    println!("{:<24} url", "name");
    for broker in client.get_all("/v2/service_brokers").await? {
        let e = &broker["entity"];
        println!("{:<24} {}", e["name"].as_str().unwrap_or_default(), e["broker_url"].as_str().unwrap_or_default());
    }
    Ok(())
}

async fn broker_guid(client: &mut Client, name: &str) -> Result<String> {
    let path = format!("/v2/service_brokers?q={}", q(&format!("name:{name}")));
    Ok(guid(&client.find_one(&path, &format!("service broker {name}")).await?))
}

/// `update-service-broker` / `rename-service-broker`: PUTs `body`.
pub async fn update(name: &str, body: serde_json::Value, done: &str) -> Result<()> {
    let mut client = Client::load()?;
    let broker = broker_guid(&mut client, name).await?;
    client.call(Method::PUT, &format!("/v2/service_brokers/{broker}"), Payload::Json(body)).await?;
    println!("{done}");
    Ok(())
}

pub async fn delete(name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let broker = broker_guid(&mut client, name).await?;
    client.call(Method::DELETE, &format!("/v2/service_brokers/{broker}"), Payload::None).await?;
    println!("Deleted service broker {name}");
    Ok(())
}

/// The services the targeted space may use, with their plans.
pub async fn marketplace() -> Result<()> {
    let mut client = Client::load()?;
    let space = client.space()?;
    println!("{:<20} {:<30} description", "service", "plans");
    for service in client.get_all(&format!("/v2/spaces/{space}/services")).await? {
        let plans = client.get_all(&format!("/v2/services/{}/service_plans", guid(&service))).await?;
        let names: Vec<&str> = plans.iter().filter_map(|p| p["entity"]["name"].as_str()).collect();
        if names.is_empty() {
            continue;
        }
        let e = &service["entity"];
        let label = e["label"].as_str().unwrap_or_default();
        println!("{label:<20} {:<30} {}", names.join(", "), e["description"].as_str().unwrap_or_default());
    }
    Ok(())
}

/// `enable-service-access` / `disable-service-access`: makes a service's
/// plans (or one of them) public or private, or — with an org — visible to
/// that org or no longer.
pub async fn set_access(service: &str, plan: Option<&str>, org: Option<&str>, enable: bool) -> Result<()> {
    let mut client = Client::load()?;
    let path = format!("/v2/services?q={}", q(&format!("label:{service}")));
    let service_guid = guid(&client.find_one(&path, &format!("service {service}")).await?);
    let plans: Vec<String> = client
        .get_all(&format!("/v2/services/{service_guid}/service_plans"))
        .await?
        .iter()
        .filter(|p| plan.is_none_or(|name| p["entity"]["name"] == name))
        .map(guid)
        .collect();
    if plans.is_empty() {
        anyhow::bail!("service {service} has no plan {}", plan.unwrap_or_default());
    }
    let org_guid = match org {
        Some(org) => {
            let path = format!("/v2/organizations?q={}", q(&format!("name:{org}")));
            Some(guid(&client.find_one(&path, &format!("org {org}")).await?))
        }
        None => None,
    };
    for plan in &plans {
        match (&org_guid, enable) {
            (Some(org), true) => make_visible(&mut client, plan, org).await?,
            (Some(org), false) => remove_visibilities(&mut client, plan, Some(org)).await?,
            (None, public) => {
                let path = format!("/v2/service_plans/{plan}");
                client.call(Method::PUT, &path, Payload::Json(json!({"public": public}))).await?;
                if !public {
                    remove_visibilities(&mut client, plan, None).await?;
                }
            }
        }
    }
    let whom = org.map_or("all orgs".to_string(), |o| format!("org {o}"));
    let done = if enable { "Enabled" } else { "Disabled" };
    println!("{done} access to {} plan(s) of {service} for {whom}", plans.len());
    Ok(())
}

/// Removes a plan's visibilities (for one org, when given).
async fn remove_visibilities(client: &mut Client, plan: &str, org: Option<&str>) -> Result<()> {
    let mut path = format!("/v2/service_plan_visibilities?q={}", q(&format!("service_plan_guid:{plan}")));
    if let Some(org) = org {
        path.push_str(&format!("&q={}", q(&format!("organization_guid:{org}"))));
    }
    for visibility in client.get_all(&path).await? {
        client
            .call(Method::DELETE, &format!("/v2/service_plan_visibilities/{}", guid(&visibility)), Payload::None)
            .await?;
    }
    Ok(())
}

/// Makes a plan visible to an org; one that already is, is fine.
async fn make_visible(client: &mut Client, plan: &str, org: &str) -> Result<()> {
    let body = json!({"service_plan_guid": plan, "organization_guid": org});
    match client.call(Method::POST, "/v2/service_plan_visibilities", Payload::Json(body)).await {
        Err(e) if !format!("{e:#}").contains("ServicePlanVisibilityAlreadyExists") => Err(e),
        _ => Ok(()),
    }
}
