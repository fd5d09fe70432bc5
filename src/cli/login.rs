//! `wf login -a API -u USER -p PASSWORD [-o ORG] [-s SPACE]`: the cf CLI's
//! `cf login`: fetch /v2/info, get tokens with the password grant, target
//! the org and space (given, or the only one there is).

use anyhow::{Result, bail};
use serde_json::Value;

use super::client::{Client, q};
use super::session::Session;

pub async fn login(api: &str, username: &str, password: &str, org: Option<&str>, space: Option<&str>) -> Result<()> {
    let api = api.trim_end_matches('/').to_string();
    let mut client = Client::new(Session { api: api.clone(), ..Default::default() });
    let info: Value = client.http().get(format!("{api}/v2/info")).send().await?.error_for_status()?.json().await?;
    let auth = info["authorization_endpoint"].as_str().unwrap_or(&api).to_string();
    println!("API endpoint: {api} (API version: {})", info["api_version"].as_str().unwrap_or("?"));
    let (access, refresh) = client.password_grant(&auth, username, password).await?;
    client.session.access_token = access;
    client.session.refresh_token = refresh;
    client.session.router_url = info["router_url"].as_str().map(str::to_string);
    println!("Authenticated as {username}");

    let orgs = match org {
        Some(name) => client.get_all(&format!("/v2/organizations?q={}", q(&format!("name:{name}")))).await?,
        None => client.get_all("/v2/organizations").await?,
    };
    if let Some(name) = org.filter(|_| orgs.is_empty()) {
        bail!("organization {name} not found");
    }
    if orgs.len() == 1 {
        let org = &orgs[0];
        let org_guid = org["metadata"]["guid"].as_str().unwrap_or_default().to_string();
        client.session.org_name = org["entity"]["name"].as_str().map(str::to_string);
        client.session.org_guid = Some(org_guid.clone());
        let mut path = format!("/v2/organizations/{org_guid}/spaces");
        if let Some(name) = space {
            path.push_str(&format!("?q={}", q(&format!("name:{name}"))));
        }
        let spaces = client.get_all(&path).await?;
        if let Some(name) = space.filter(|_| spaces.is_empty()) {
            bail!("space {name} not found");
        }
        if spaces.len() == 1 {
            client.session.space_guid = spaces[0]["metadata"]["guid"].as_str().map(str::to_string);
            client.session.space_name = spaces[0]["entity"]["name"].as_str().map(str::to_string);
        }
    }
    client.session.save()?;
    println!(
        "Targeted org {}, space {}",
        client.session.org_name.as_deref().unwrap_or("(none)"),
        client.session.space_name.as_deref().unwrap_or("(none)")
    );
    Ok(())
}
