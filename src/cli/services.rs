//! Services from the command line, as with cf: `wf create-service SERVICE
//! PLAN NAME [-c JSON] [-t TAGS]`, `update-service`, `rename-service`,
//! `service`, `services`, `create-user-provided-service NAME -p JSON`,
//! `bind-service APP SERVICE [-c JSON]`, `unbind-service`, `delete-service`,
//! `purge-service-instance`. Broker operations that go on asynchronously
//! are reported as in progress; `wf service NAME` tells how they went. As
//! with cf, a binding reaches an app's environment when it next starts.

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

/// A `-c` argument: a JSON object for the broker.
pub fn parameters(text: Option<&str>) -> Result<Option<Value>> {
    let Some(text) = text else { return Ok(None) };
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(Some(value)),
        _ => bail!("-c takes parameters as a JSON object, e.g. '{{\"size\":\"large\"}}'"),
    }
}

fn tag_list(tags: &str) -> Vec<String> {
    tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// The plan called `plan` of the marketplace service `service`, as the
/// targeted space sees them.
async fn plan_guid(client: &mut Client, service: &str, plan: &str) -> Result<String> {
    let space = client.space()?;
    let path = format!("/v2/spaces/{space}/services?q={}", q(&format!("label:{service}")));
    let service_guid = guid(&client.find_one(&path, &format!("service {service} in the marketplace")).await?);
    let path = format!("/v2/services/{service_guid}/service_plans?q={}", q(&format!("name:{plan}")));
    Ok(guid(&client.find_one(&path, &format!("plan {plan} of service {service}")).await?))
}

/// Says how a broker operation went: done, or going on.
fn report(done: &str, what: &str, answer: &Value) {
    let operation = &answer["entity"]["last_operation"];
    if operation["state"] == "in progress" {
        let kind = match operation["type"].as_str() {
            Some("create") => "Create",
            Some("update") => "Update",
            Some("delete") => "Delete",
            _ => "Operation",
        };
        println!("{kind} in progress. Use 'wf services' or 'wf service {what}' to check operation status.");
    } else {
        println!("{done}");
    }
}

const ACCEPTS_INCOMPLETE: &str = "accepts_incomplete=true";

pub async fn create(service: &str, plan: &str, name: &str, params: Option<&str>, tags: Option<&str>) -> Result<()> {
    let mut client = Client::load()?;
    let mut body = json!({"name": name, "space_guid": client.space()?});
    if let Some(parameters) = parameters(params)? {
        body["parameters"] = parameters;
    }
    if let Some(tags) = tags {
        body["tags"] = json!(tag_list(tags));
    }
    body["service_plan_guid"] = json!(plan_guid(&mut client, service, plan).await?);
    let answer =
        client.call(Method::POST, &format!("/v2/service_instances?{ACCEPTS_INCOMPLETE}"), Payload::Json(body)).await?;
    report(&format!("Created service {name} ({service}, plan {plan})"), name, &answer);
    Ok(())
}

pub async fn update(name: &str, plan: Option<&str>, params: Option<&str>, tags: Option<&str>) -> Result<()> {
    let mut client = Client::load()?;
    let instance = instance(&mut client, name).await?;
    let mut body = json!({});
    if let Some(parameters) = parameters(params)? {
        body["parameters"] = parameters;
    }
    if let Some(tags) = tags {
        body["tags"] = json!(tag_list(tags));
    }
    if let Some(plan) = plan {
        let plan_url = instance["entity"]["service_plan_url"].as_str().unwrap_or_default().to_string();
        if plan_url.is_empty() {
            bail!("{name} is a user-provided service: it has no plan");
        }
        let current = client.get(&plan_url).await?;
        let service = client.get(current["entity"]["service_url"].as_str().unwrap_or_default()).await?;
        let label = service["entity"]["label"].as_str().unwrap_or_default().to_string();
        body["service_plan_guid"] = json!(plan_guid(&mut client, &label, plan).await?);
    }
    let path = format!("/v2/service_instances/{}?{ACCEPTS_INCOMPLETE}", guid(&instance));
    let answer = client.call(Method::PUT, &path, Payload::Json(body)).await?;
    report(&format!("Updated service {name}"), name, &answer);
    Ok(())
}

pub async fn rename(name: &str, new_name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let instance = instance(&mut client, name).await?;
    let path = match instance["entity"]["type"].as_str() {
        Some("user_provided_service_instance") => format!("/v2/user_provided_service_instances/{}", guid(&instance)),
        _ => format!("/v2/service_instances/{}?{ACCEPTS_INCOMPLETE}", guid(&instance)),
    };
    client.call(Method::PUT, &path, Payload::Json(json!({"name": new_name}))).await?;
    println!("Renamed service {name} to {new_name}");
    Ok(())
}

/// The service label and plan name of an instance (user-provided has none).
async fn offering(client: &mut Client, instance: &Value) -> Result<(String, String)> {
    let Some(plan_url) = instance["entity"]["service_plan_url"].as_str() else {
        return Ok(("user-provided".into(), String::new()));
    };
    let plan = client.get(plan_url).await?;
    let service = client.get(plan["entity"]["service_url"].as_str().unwrap_or_default()).await?;
    let name = |v: &Value, key: &str| v["entity"][key].as_str().unwrap_or_default().to_string();
    Ok((name(&service, "label"), name(&plan, "name")))
}

/// The names of the apps bound to an instance.
async fn bound_apps(client: &mut Client, instance: &Value) -> Result<Vec<String>> {
    let path = format!("/v2/service_bindings?q={}", q(&format!("service_instance_guid:{}", guid(instance))));
    let mut apps = Vec::new();
    for binding in client.get_all(&path).await? {
        let app =
            client.get(&format!("/v2/apps/{}", binding["entity"]["app_guid"].as_str().unwrap_or_default())).await?;
        apps.push(app["entity"]["name"].as_str().unwrap_or_default().to_string());
    }
    Ok(apps)
}

/// "create succeeded", "update in progress"… (empty for user-provided).
fn last_operation(instance: &Value) -> String {
    let operation = &instance["entity"]["last_operation"];
    match (operation["type"].as_str(), operation["state"].as_str()) {
        (Some(kind), Some(state)) => format!("{kind} {state}"),
        _ => String::new(),
    }
}

pub async fn show(name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let instance = instance(&mut client, name).await?;
    let (service, plan) = offering(&mut client, &instance).await?;
    let apps = bound_apps(&mut client, &instance).await?;
    let e = &instance["entity"];
    println!("name:            {name}");
    println!("service:         {service}");
    if !plan.is_empty() {
        println!("plan:            {plan}");
    }
    if let Some(tags) = e["tags"].as_array().filter(|t| !t.is_empty()) {
        let tags: Vec<&str> = tags.iter().filter_map(Value::as_str).collect();
        println!("tags:            {}", tags.join(", "));
    }
    if let Some(url) = e["dashboard_url"].as_str() {
        println!("dashboard:       {url}");
    }
    println!("bound apps:      {}", apps.join(", "));
    let operation = last_operation(&instance);
    if !operation.is_empty() {
        println!("status:          {operation}");
        if let Some(message) = e["last_operation"]["description"].as_str().filter(|m| !m.is_empty()) {
            println!("message:         {message}");
        }
    }
    Ok(())
}

/// The guid of the service instance called `name` in the targeted space.
pub async fn instance_guid(client: &mut Client, name: &str) -> Result<String> {
    Ok(guid(&instance(client, name).await?))
}

async fn instance(client: &mut Client, name: &str) -> Result<Value> {
    let space = client.space()?;
    let path = format!("/v2/spaces/{space}/service_instances?q={}", q(&format!("name:{name}")));
    client.find_one(&path, &format!("service {name}")).await
}

/// Binds the service named `service` to the app named `app`.
pub async fn bind(app: &str, service: &str, params: Option<&str>) -> Result<()> {
    let mut client = Client::load()?;
    let app_guid = guid(&client.app(app).await?);
    let parameters = parameters(params)?;
    ensure_bound(&mut client, &app_guid, service, parameters).await?;
    println!("Bound {service} to {app}; restart the app to give it the credentials (wf restart {app})");
    Ok(())
}

/// Binds the service named `service` to the app, unless it is already.
pub async fn ensure_bound(client: &mut Client, app_guid: &str, service: &str, parameters: Option<Value>) -> Result<()> {
    let instance_guid = guid(&instance(client, service).await?);
    let path =
        format!("/v2/apps/{app_guid}/service_bindings?q={}", q(&format!("service_instance_guid:{instance_guid}")));
    if client.get(&path).await?["total_results"].as_u64().unwrap_or(0) > 0 {
        return Ok(());
    }
    let mut body = json!({"app_guid": app_guid, "service_instance_guid": instance_guid});
    if let Some(parameters) = parameters {
        body["parameters"] = parameters;
    }
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

/// Deletes an instance with its bindings and keys (at the broker too), or
/// with `purge` forgets it without asking the broker.
pub async fn delete(name: &str, purge: bool) -> Result<()> {
    let mut client = Client::load()?;
    let instance = instance(&mut client, name).await?;
    let query = if purge { "purge=true".to_string() } else { format!("recursive=true&{ACCEPTS_INCOMPLETE}") };
    let path = format!("/v2/service_instances/{}?{query}", guid(&instance));
    let answer = client.call(Method::DELETE, &path, Payload::None).await?;
    let done = if purge { format!("Purged service {name}") } else { format!("Deleted service {name}") };
    report(&done, name, &answer);
    Ok(())
}

pub async fn list() -> Result<()> {
    let mut client = Client::load()?;
    let space = client.space()?;
    let instances = client.get_all(&format!("/v2/spaces/{space}/service_instances")).await?;
    println!("{:<24} {:<16} {:<12} {:<22} bound apps", "name", "service", "plan", "last operation");
    for instance in instances {
        let (service, plan) = offering(&mut client, &instance).await?;
        let apps = bound_apps(&mut client, &instance).await?;
        let name = instance["entity"]["name"].as_str().unwrap_or_default();
        println!("{name:<24} {service:<16} {plan:<12} {:<22} {}", last_operation(&instance), apps.join(", "));
    }
    Ok(())
}
