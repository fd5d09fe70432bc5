//! `wf login -a API -u USER -p PASSWORD [-o ORG] [-s SPACE]
//! [--skip-ssl-validation]`: the cf CLI's `cf login`: fetch /v2/info, get
//! tokens with the password grant, target the org and space (given, or the
//! only one there is). An HTTPS API whose certificate is not trusted is
//! refused, as the cf CLI refuses it, unless told to skip the check.

use anyhow::{Result, bail};
use serde_json::Value;

use super::client::{Client, q};
use super::session::Session;

/// The API to log in to, and whether its certificate is checked.
pub struct Target<'a> {
    pub api: &'a str,
    pub skip_ssl_validation: bool,
}

pub async fn login(
    target: Target<'_>,
    username: &str,
    password: &str,
    org: Option<&str>,
    space: Option<&str>,
) -> Result<()> {
    let api = target.api.trim_end_matches('/').to_string();
    let session = Session { api: api.clone(), skip_ssl_validation: target.skip_ssl_validation, ..Default::default() };
    let mut client = Client::new(session)?;
    let info = client.http().get(format!("{api}/v2/info")).send().await.map_err(|e| untrusted(&api, e))?;
    let info: Value = info.error_for_status()?.json().await?;
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

/// The cf CLI's words for a certificate it does not trust; other errors as they are.
fn untrusted(api: &str, error: reqwest::Error) -> anyhow::Error {
    let certificate = std::iter::successors(std::error::Error::source(&error), |e| e.source())
        .any(|e| e.to_string().contains("certificate"));
    if certificate {
        anyhow::anyhow!(
            "Invalid SSL Cert for {api}\nTIP: Use 'wf login --skip-ssl-validation' to continue with an insecure API endpoint"
        )
    } else {
        error.into()
    }
}
