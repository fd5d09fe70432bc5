//! Services from the command line: `wf create-user-provided-service NAME
//! -p JSON`, `wf services`, `wf bind-service APP SERVICE`, `wf
//! unbind-service APP SERVICE`, `wf delete-service NAME`. As with cf, a
//! binding reaches an app's environment when it next starts (`wf restart`).

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, Payload, guid, q};

pub async fn create_user_provided(name: &str, credentials: Option<&str>, syslog: Option<&str>) -> Result<()> {
    let mut client = Client::load()?;
    let space = client.space()?;
    let mut body = json!({"name": name, "space_guid": space});
    if let Some(credentials) = credentials {
        let parsed: Value = serde_json::from_str(credentials)
            .with_context(|| "-p takes credentials as a JSON object, e.g. '{\"uri\":\"postgres://…\"}'")?;
        if !parsed.is_object() {
            bail!("-p takes credentials as a JSON object, e.g. '{{\"uri\":\"postgres://…\"}}'");
        }
        body["credentials"] = parsed;
    }
    if let Some(syslog) = syslog {
        body["syslog_drain_url"] = json!(syslog);
    }
    client.call(Method::POST, "/v2/user_provided_service_instances", Payload::Json(body)).await?;
    println!("Created user-provided service {name}");
    Ok(())
}

async fn instance(client: &mut Client, name: &str) -> Result<Value> {
    let space = client.space()?;
    let path = format!("/v2/spaces/{space}/service_instances?q={}", q(&format!("name:{name}")));
    client.find_one(&path, &format!("service {name}")).await
}

/// Binds the service named `service` to the app named `app`.
pub async fn bind(app: &str, service: &str) -> Result<()> {
    let mut client = Client::load()?;
    let app_guid = guid(&client.app(app).await?);
    ensure_bound(&mut client, &app_guid, service).await?;
    println!("Bound {service} to {app}; restart the app to give it the credentials (wf restart {app})");
    Ok(())
}

/// Binds the service named `service` to the app, unless it is already.
pub async fn ensure_bound(client: &mut Client, app_guid: &str, service: &str) -> Result<()> {
    let instance_guid = guid(&instance(client, service).await?);
    let path =
        format!("/v2/apps/{app_guid}/service_bindings?q={}", q(&format!("service_instance_guid:{instance_guid}")));
    if client.get(&path).await?["total_results"].as_u64().unwrap_or(0) > 0 {
        return Ok(());
    }
    let body = json!({"app_guid": app_guid, "service_instance_guid": instance_guid});
    client.call(Method::POST, "/v2/service_bindings", Payload::Json(body)).await?;
    Ok(())
}

pub async fn unbind(app: &str, service: &str) -> Result<()> {
    let mut client = Client::load()?;
    let app_guid = guid(&client.app(app).await?);
    let instance_guid = guid(&instance(&mut client, service).await?);
    let path =
        format!("/v2/apps/{app_guid}/service_bindings?q={}", q(&format!("service_instance_guid:{instance_guid}")));
    let binding = client.find_one(&path, &format!("a binding of {service} to {app}")).await?;
    client.call(Method::DELETE, &format!("/v2/service_bindings/{}", guid(&binding)), Payload::None).await?;
    println!("Unbound {service} from {app}");
    Ok(())
}

pub async fn delete(name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let instance_guid = guid(&instance(&mut client, name).await?);
    let path = format!("/v2/user_provided_service_instances/{instance_guid}?recursive=true");
    client.call(Method::DELETE, &path, Payload::None).await?;
    println!("Deleted service {name}");
    Ok(())
}

pub async fn list() -> Result<()> {
    let mut client = Client::load()?;
    let space = client.space()?;
    let instances = client.get_all(&format!("/v2/spaces/{space}/service_instances")).await?;
    println!("{:<24} {:<16} bound apps", "name", "service");
    for instance in instances {
        let bindings = client
            .get_all(&format!("/v2/user_provided_service_instances/{}/service_bindings", guid(&instance)))
            .await?;
        let mut apps = Vec::new();
        for binding in bindings {
            let app =
                client.get(&format!("/v2/apps/{}", binding["entity"]["app_guid"].as_str().unwrap_or_default())).await?;
            apps.push(app["entity"]["name"].as_str().unwrap_or_default().to_string());
        }
        println!(
            "{:<24} {:<16} {}",
            instance["entity"]["name"].as_str().unwrap_or_default(),
            "user-provided",
            apps.join(", ")
        );
    }
    Ok(())
}
