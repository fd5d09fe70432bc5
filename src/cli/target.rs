//! `wf target [-o ORG] [-s SPACE]`, `wf orgs`, `wf spaces`: where commands act.

use anyhow::{Context, Result};

use super::client::{Client, guid, q};

pub async fn target(org: Option<&str>, space: Option<&str>) -> Result<()> {
    let mut client = Client::load()?;
    if let Some(name) = org {
        let found = client
            .find_one(&format!("/v2/organizations?q={}", q(&format!("name:{name}"))), &format!("organization {name}"))
            .await?;
        client.session.org_guid = Some(guid(&found));
        client.session.org_name = Some(name.to_string());
        client.session.space_guid = None;
        client.session.space_name = None;
    }
    if let Some(name) = space {
        let org = client.session.org_guid.clone().context("no org targeted: use -o ORG")?;
        let path = format!("/v2/organizations/{org}/spaces?q={}", q(&format!("name:{name}")));
        let found = client.find_one(&path, &format!("space {name}")).await?;
        client.session.space_guid = Some(guid(&found));
        client.session.space_name = Some(name.to_string());
    }
    client.session.save()?;
    println!("API endpoint: {}", client.session.api);
    println!("org:          {}", client.session.org_name.as_deref().unwrap_or("(none)"));
    println!("space:        {}", client.session.space_name.as_deref().unwrap_or("(none)"));
    Ok(())
}

pub async fn orgs() -> Result<()> {
    let mut client = Client::load()?;
    println!("name");
    for org in client.get_all("/v2/organizations?order-by=name").await? {
        println!("{}", org["entity"]["name"].as_str().unwrap_or_default());
    }
    Ok(())
}

pub async fn spaces() -> Result<()> {
    let mut client = Client::load()?;
    let org = client.session.org_guid.clone().context("no org targeted: run `wf target -o ORG`")?;
    println!("name");
    for space in client.get_all(&format!("/v2/organizations/{org}/spaces?order-by=name")).await? {
        println!("{}", space["entity"]["name"].as_str().unwrap_or_default());
    }
    Ok(())
}
