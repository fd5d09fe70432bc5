//! Tasks, as the cf CLI v7 has them: `run-task` (a one-off program of the
//! app's droplet; `--wait` follows it to its end and fails as it fails),
//! `tasks` (the app's, newest first) and `terminate-task`, through the v3
//! API.

use std::time::Duration;

use anyhow::{Result, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, Payload, guid};

/// What `wf run-task` asks for.
pub struct RunTask<'a> {
    pub app: &'a str,
    pub command: &'a str,
    pub name: Option<&'a str>,
    pub memory_mb: Option<u64>,
    pub disk_mb: Option<u64>,
    pub wait: bool,
}

pub async fn run(request: RunTask<'_>) -> Result<()> {
    let mut client = Client::load()?;
    let app = guid(&client.app(request.app).await?);
    let mut body = json!({"command": request.command});
    for (field, value) in [
        ("name", request.name.map(Value::from)),
        ("memory_in_mb", request.memory_mb.map(Value::from)),
        ("disk_in_mb", request.disk_mb.map(Value::from)),
    ] {
        if let Some(value) = value {
            body[field] = value;
        }
    }
    println!("Creating task for app {}...", request.app);
    let task = client.call(Method::POST, &format!("/v3/apps/{app}/tasks"), Payload::Json(body)).await?;
    println!("Task has been submitted successfully for execution.");
    println!("task name:   {}", task["name"].as_str().unwrap_or_default());
    println!("task id:     {}", task["sequence_id"]);
    if !request.wait {
        return Ok(());
    }
    let path = format!("/v3/tasks/{}", task["guid"].as_str().unwrap_or_default());
    loop {
        let task = client.get(&path).await?;
        match task["state"].as_str().unwrap_or_default() {
            "SUCCEEDED" => {
                println!("state:       SUCCEEDED");
                return Ok(());
            }
            "FAILED" => bail!("the task failed: {}", task["result"]["failure_reason"].as_str().unwrap_or_default()),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub async fn list(app_name: &str) -> Result<()> {
    let mut client = Client::load()?;
    let app = guid(&client.app(app_name).await?);
    println!("Getting tasks for app {app_name}...\n");
    let page = client.get(&format!("/v3/apps/{app}/tasks?order_by=-created_at&per_page=5000")).await?;
    println!("{:<4} {:<20} {:<10} {:<22} command", "id", "name", "state", "start time");
    for task in page["resources"].as_array().into_iter().flatten() {
        println!(
            "{:<4} {:<20} {:<10} {:<22} {}",
            task["sequence_id"],
            task["name"].as_str().unwrap_or_default(),
            task["state"].as_str().unwrap_or_default(),
            task["created_at"].as_str().unwrap_or_default(),
            task["command"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn terminate(app_name: &str, sequence_id: u64) -> Result<()> {
    let mut client = Client::load()?;
    let app = guid(&client.app(app_name).await?);
    println!("Terminating task {sequence_id} of app {app_name}...");
    let page = client.get(&format!("/v3/apps/{app}/tasks?sequence_ids={sequence_id}")).await?;
    let Some(task) = page["resources"].get(0) else { bail!("task {sequence_id} of app {app_name} not found") };
    let path = format!("/v3/tasks/{}/actions/cancel", task["guid"].as_str().unwrap_or_default());
    client.call(Method::POST, &path, Payload::None).await?;
    println!("OK");
    Ok(())
}
