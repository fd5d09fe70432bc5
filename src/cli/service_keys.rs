//! Service keys from the command line, as with cf: `wf create-service-key
//! SERVICE KEY [-c JSON]`, `service-keys SERVICE`, `service-key SERVICE
//! KEY` (its credentials, as JSON), `delete-service-key SERVICE KEY`.

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, Payload, guid, q};
use super::services::{instance_guid, parameters};

pub async fn create(service: &str, key: &str, params: Option<&str>) -> Result<()> {
    let mut client = Client::load()?;
    let mut body = json!({"name": key, "service_instance_guid": instance_guid(&mut client, service).await?});
    if let Some(parameters) = parameters(params)? {
        body["parameters"] = parameters;
    }
    client.call(Method::POST, "/v2/service_keys", Payload::Json(body)).await?;
    println!("Created key {key} of service {service}");
    Ok(())
}

async fn key(client: &mut Client, service: &str, key: &str) -> Result<Value> {
    let instance = instance_guid(client, service).await?;
    let path = format!(
        "/v2/service_keys?q={}&q={}",
        q(&format!("service_instance_guid:{instance}")),
        q(&format!("name:{key}"))
    );
    client.find_one(&path, &format!("key {key} of service {service}")).await
}

pub async fn list(service: &str) -> Result<()> {
    let mut client = Client::load()?;
    let instance = instance_guid(&mut client, service).await?;
    let path = format!("/v2/service_keys?q={}", q(&format!("service_instance_guid:{instance}")));
    println!("name");
    for key in client.get_all(&path).await? {
        println!("{}", key["entity"]["name"].as_str().unwrap_or_default());
    }
    Ok(())
}

pub async fn show(service: &str, name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let key = key(&mut client, service, name).await?;
    println!("{}", serde_json::to_string_pretty(&key["entity"]["credentials"])?);
    Ok(())
}

pub async fn delete(service: &str, name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let key = key(&mut client, service, name).await?;
    client.call(Method::DELETE, &format!("/v2/service_keys/{}", guid(&key)), Payload::None).await?;
    println!("Deleted key {name} of service {service}");
    Ok(())
}
