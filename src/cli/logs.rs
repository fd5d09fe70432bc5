//! `wf logs NAME [--recent]`: an app's log lines, recent ones dumped or new
//! ones followed, formatted as cf prints them.

use anyhow::Result;
use futures::StreamExt;
use serde_json::Value;

use super::client::{Client, guid};

/// `2026-11-23T05:07:56.123+0000 [APP/0] OUT hello`.
pub fn format_line(line: &Value) -> String {
    let nanos = line["timestamp"].as_i64().unwrap_or_default();
    let time = chrono::DateTime::from_timestamp_nanos(nanos).format("%Y-%m-%dT%H:%M:%S%.3f%z");
    format!(
        "   {time} [{}/{}] {} {}",
        line["source_type"].as_str().unwrap_or_default(),
        line["source_instance"].as_str().unwrap_or_default(),
        line["message_type"].as_str().unwrap_or_default(),
        line["message"].as_str().unwrap_or_default()
    )
}

/// Follows the app's log stream, printing what `show` picks, until the
/// returned task is aborted, the stream ends, or a line `last` picks came.
pub async fn follow(
    client: &Client,
    app_guid: &str,
    show: fn(&Value) -> Option<String>,
    last: fn(&Value) -> bool,
) -> Result<tokio::task::JoinHandle<()>> {
    let response = client
        .http()
        .get(format!("{}/v2/apps/{app_guid}/logs/stream", client.session.api))
        .bearer_auth(&client.session.access_token)
        .send()
        .await?
        .error_for_status()?;
    Ok(tokio::spawn(async move {
        let mut body = response.bytes_stream();
        let mut pending = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let Ok(line) = serde_json::from_slice::<Value>(&line) else { continue };
                if let Some(text) = show(&line) {
                    println!("{text}");
                }
                if last(&line) {
                    return;
                }
            }
        }
    }))
}

pub async fn logs(name: &str, recent: bool) -> Result<()> {
    let mut client = Client::load()?;
    let app = guid(&client.app(name).await?);
    if recent {
        for line in client.get(&format!("/v2/apps/{app}/logs")).await?.as_array().cloned().unwrap_or_default() {
            println!("{}", format_line(&line));
        }
        return Ok(());
    }
    println!("Tailing logs for app {name}...");
    follow(&client, &app, |line| Some(format_line(line)), |_| false).await?.await?;
    Ok(())
}
