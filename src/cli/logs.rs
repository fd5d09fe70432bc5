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

/// An app's log stream, line by line, as long as it is held.
pub struct LogStream {
    lines: tokio::sync::mpsc::UnboundedReceiver<Value>,
    reader: tokio::task::JoinHandle<()>,
}

impl LogStream {
    /// Opens the stream: every line the app logs from now on comes out of
    /// [`LogStream::next`].
    pub async fn open(client: &Client, app_guid: &str) -> Result<LogStream> {
        let response = client
            .http()
            .get(format!("{}/v2/apps/{app_guid}/logs/stream", client.session.api))
            .bearer_auth(&client.session.access_token)
            .send()
            .await?
            .error_for_status()?;
        let (sender, lines) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut body = response.bytes_stream();
            let mut pending = Vec::new();
            while let Some(Ok(chunk)) = body.next().await {
                pending.extend_from_slice(&chunk);
                while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    if let Ok(line) = serde_json::from_slice::<Value>(&line)
                        && sender.send(line).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Ok(LogStream { lines, reader })
    }

    /// The next line; None once the stream ended.
    pub async fn next(&mut self) -> Option<Value> {
        self.lines.recv().await
    }
}

impl Drop for LogStream {
    fn drop(&mut self) {
        self.reader.abort();
    }
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
    let mut stream = LogStream::open(&client, &app).await?;
    while let Some(line) = stream.next().await {
        println!("{}", format_line(&line));
    }
    Ok(())
}
