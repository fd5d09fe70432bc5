//! Waiting for an app to stage and run, by its events rather than by
//! polling. The app's log stream carries the staging output, a DEA's
//! `[CELL/n] Container became healthy` as each instance passes its health
//! check, and the CC's `[API/0]` lines when an instance exits or staging
//! fails; the app is looked at (a GET of it and one of its instances) when
//! such a line comes — and, should one be lost, after [`QUIET_RECHECK`]
//! without any.

use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::Value;
use tokio::time::Instant;

use super::client::Client;
use super::logs::LogStream;

/// How long a wait goes without an event before it looks anyway.
const QUIET_RECHECK: Duration = Duration::from_secs(2);
/// How long staging may take, then the instances' start.
const STAGING_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// The events of one app, from the moment they were opened.
pub struct AppEvents {
    app: String,
    stream: LogStream,
    /// Print staging output as it comes.
    show_staging: bool,
}

/// Where an app is on its way to running.
enum Progress {
    Staging,
    Starting,
    Running { running: usize, crashed: usize, of: usize },
}

impl AppEvents {
    /// Listens to the app's events; open it before the request whose
    /// outcome is waited for, so no event is missed.
    pub async fn open(client: &Client, app_guid: &str, show_staging: bool) -> Result<AppEvents> {
        Ok(AppEvents { app: app_guid.to_string(), stream: LogStream::open(client, app_guid).await?, show_staging })
    }

    /// Returns once the app is staged and none of its instances is still
    /// starting with at least one running; fails when staging failed or
    /// every instance crashed. Prints how many run.
    pub async fn until_running(mut self, client: &mut Client) -> Result<()> {
        let mut deadline = Instant::now() + STAGING_TIMEOUT;
        let mut staged = false;
        loop {
            match self.progress(client).await? {
                Progress::Running { running, crashed, of } => {
                    let crashed = if crashed > 0 { format!(", {crashed} crashed") } else { String::new() };
                    println!("{running} of {of} instances running{crashed}");
                    return Ok(());
                }
                Progress::Starting if !staged => {
                    staged = true;
                    deadline = Instant::now() + START_TIMEOUT;
                }
                _ => {}
            }
            if self.next_event(deadline).await.is_err() {
                match staged {
                    true => bail!("the app's instances did not start within {}s", START_TIMEOUT.as_secs()),
                    false => bail!("staging did not finish within {}s", STAGING_TIMEOUT.as_secs()),
                }
            }
        }
    }

    async fn progress(&self, client: &mut Client) -> Result<Progress> {
        let app = client.get(&format!("/v2/apps/{}", self.app)).await?;
        let entity = &app["entity"];
        if entity["state"] != "STARTED" {
            bail!("the app was stopped");
        }
        match entity["package_state"].as_str() {
            Some("FAILED") => bail!(
                "staging failed: {} ({})",
                entity["staging_failed_description"].as_str().unwrap_or("unknown"),
                entity["staging_failed_reason"].as_str().unwrap_or("StagingError")
            ),
            Some("STAGED") => {}
            _ => return Ok(Progress::Staging),
        }
        let instances = client.get(&format!("/v2/apps/{}/instances", self.app)).await?;
        let states: Vec<&str> =
            instances.as_object().map(|m| m.values().filter_map(|i| i["state"].as_str()).collect()).unwrap_or_default();
        let count = |s: &str| states.iter().filter(|x| **x == s).count();
        let (running, crashed, of) = (count("RUNNING"), count("CRASHED"), states.len());
        if of > 0 && crashed == of {
            bail!("all {of} instances crashed on start");
        }
        Ok(if running > 0 && running + crashed == of {
            Progress::Running { running, crashed, of }
        } else {
            Progress::Starting
        })
    }

    /// Waits for an event that may change the app's progress, printing the
    /// staging output that comes meanwhile; Err at the deadline.
    async fn next_event(&mut self, deadline: Instant) -> Result<(), ()> {
        let quiet = Instant::now() + QUIET_RECHECK;
        loop {
            let line = tokio::select! {
                line = self.stream.next() => line,
                _ = tokio::time::sleep_until(quiet.min(deadline)) => {
                    return if Instant::now() >= deadline { Err(()) } else { Ok(()) };
                }
            };
            let Some(line) = line else {
                // The stream ended (a CC restart): look at the app at the quiet pace.
                tokio::time::sleep_until(quiet.min(deadline)).await;
                return Ok(());
            };
            if self.show_staging && line["source_type"] == "STG" {
                println!("   {}", line["message"].as_str().unwrap_or_default());
            }
            if is_event(&line) {
                return Ok(());
            }
        }
    }
}

/// A line telling of an instance's health or exit, or of staging's end.
fn is_event(line: &Value) -> bool {
    match line["source_type"].as_str() {
        Some("CELL") => line["message"] == "Container became healthy",
        Some("API") => true,
        _ => false,
    }
}
