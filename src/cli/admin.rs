//! Commands for admins and managers: `create-org`, `create-space`,
//! `create-user`, `set-org-role`, `set-space-role`, `create-buildpack`,
//! `buildpacks`, `quotas`.

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::json;

use super::client::{Client, Payload, guid, q};

pub async fn create_org(name: &str) -> Result<()> {
    let mut client = Client::load()?;
    client.call(Method::POST, "/v2/organizations", Payload::Json(json!({"name": name}))).await?;
    println!("Created org {name}");
    Ok(())
}

pub async fn create_space(name: &str, org: Option<&str>) -> Result<()> {
    let mut client = Client::load()?;
    let org_guid = match org {
        Some(org) => guid(
            &client
                .find_one(&format!("/v2/organizations?q={}", q(&format!("name:{org}"))), &format!("organization {org}"))
                .await?,
        ),
        None => client.session.org_guid.clone().context("no org targeted: use -o ORG")?,
    };
    client
        .call(Method::POST, "/v2/spaces", Payload::Json(json!({"name": name, "organization_guid": org_guid})))
        .await?;
    println!("Created space {name}");
    Ok(())
}

pub async fn create_user(username: &str, password: &str) -> Result<()> {
    let mut client = Client::load()?;
    let body = json!({"userName": username, "password": password, "emails": [{"value": username}]});
    let created = client.call(Method::POST, "/Users", Payload::Json(body)).await?;
    let id = created["id"].as_str().context("UAA answered without an id")?;
    client.call(Method::POST, "/v2/users", Payload::Json(json!({"guid": id}))).await?;
    println!("Created user {username}");
    Ok(())
}

/// cf's role names → the v2 relation they are.
fn relation(role: &str) -> Result<&'static str> {
    Ok(match role {
        "OrgManager" => "managers",
        "BillingManager" => "billing_managers",
        "OrgAuditor" => "auditors",
        "SpaceManager" => "managers",
        "SpaceDeveloper" => "developers",
        "SpaceAuditor" => "auditors",
        other => bail!(
            "unknown role {other}: use OrgManager, BillingManager, OrgAuditor, SpaceManager, SpaceDeveloper or SpaceAuditor"
        ),
    })
}

async fn org_guid(client: &mut Client, org: &str) -> Result<String> {
    Ok(guid(
        &client
            .find_one(&format!("/v2/organizations?q={}", q(&format!("name:{org}"))), &format!("organization {org}"))
            .await?,
    ))
}

pub async fn set_org_role(username: &str, org: &str, role: &str) -> Result<()> {
    let mut client = Client::load()?;
    let relation = relation(role)?;
    let org = org_guid(&mut client, org).await?;
    client
        .call(Method::PUT, &format!("/v2/organizations/{org}/users"), Payload::Json(json!({"username": username})))
        .await?;
    client
        .call(Method::PUT, &format!("/v2/organizations/{org}/{relation}"), Payload::Json(json!({"username": username})))
        .await?;
    println!("Assigned {role} to {username}");
    Ok(())
}

/// Gives a space role, making the user an org member first as cf does.
pub async fn set_space_role(username: &str, org: &str, space: &str, role: &str) -> Result<()> {
    let mut client = Client::load()?;
    let relation = relation(role)?;
    let org = org_guid(&mut client, org).await?;
    let path = format!("/v2/organizations/{org}/spaces?q={}", q(&format!("name:{space}")));
    let space_guid = guid(&client.find_one(&path, &format!("space {space}")).await?);
    client
        .call(Method::PUT, &format!("/v2/organizations/{org}/users"), Payload::Json(json!({"username": username})))
        .await?;
    client
        .call(Method::PUT, &format!("/v2/spaces/{space_guid}/{relation}"), Payload::Json(json!({"username": username})))
        .await?;
    println!("Assigned {role} in {space} to {username}");
    Ok(())
}

pub async fn create_buildpack(name: &str, path: &str, position: u32) -> Result<()> {
    let mut client = Client::load()?;
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let file_name =
        std::path::Path::new(path).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let created =
        client.call(Method::POST, "/v2/buildpacks", Payload::Json(json!({"name": name, "position": position}))).await?;
    let form = move || {
        let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name(file_name.clone());
        reqwest::multipart::Form::new().part("buildpack", part)
    };
    client
        .call(Method::PUT, &format!("/v2/buildpacks/{}/bits", guid(&created)), Payload::Multipart(Box::new(form)))
        .await?;
    println!("Created buildpack {name} at position {position}");
    Ok(())
}

pub async fn buildpacks() -> Result<()> {
    let mut client = Client::load()?;
    println!("{:<10} {:<24} {:<8} {:<8} filename", "position", "name", "enabled", "locked");
    for b in client.get_all("/v2/buildpacks?order-by=position").await? {
        let e = &b["entity"];
        println!(
            "{:<10} {:<24} {:<8} {:<8} {}",
            e["position"],
            e["name"].as_str().unwrap_or_default(),
            e["enabled"],
            e["locked"],
            e["filename"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn quotas() -> Result<()> {
    let mut client = Client::load()?;
    let limit = |v: &serde_json::Value, unit: &str| match v.as_i64() {
        Some(-1) | None => "unlimited".to_string(),
        Some(n) => format!("{n}{unit}"),
    };
    println!(
        "{:<16} {:<14} {:<16} {:<10} {:<10}",
        "name", "total memory", "instance memory", "routes", "app instances"
    );
    for quota in client.get_all("/v2/quota_definitions").await? {
        let e = &quota["entity"];
        println!(
            "{:<16} {:<14} {:<16} {:<10} {:<10}",
            e["name"].as_str().unwrap_or_default(),
            limit(&e["memory_limit"], "M"),
            limit(&e["instance_memory_limit"], "M"),
            limit(&e["total_routes"], ""),
            limit(&e["app_instance_limit"], "")
        );
    }
    Ok(())
}
