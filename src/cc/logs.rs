//! App logs as the CC sees them: every `logs.<app>` line on the bus is kept
//! (the last [`RECENT_LINES`] per app) for `--recent`, and fanned out to
//! live streams.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use anyhow::Result;
use tokio::sync::broadcast;

use super::Cc;
use crate::protocol::messages::{LogMessage, subjects};

pub const RECENT_LINES: usize = 1000;

pub struct AppLogs {
    recent: Mutex<HashMap<String, VecDeque<LogMessage>>>,
    live: broadcast::Sender<LogMessage>,
}

impl Default for AppLogs {
    fn default() -> Self {
        AppLogs { recent: Mutex::default(), live: broadcast::channel(4096).0 }
    }
}

impl AppLogs {
    pub fn record(&self, line: LogMessage) {
        {
            let mut recent = self.recent.lock().expect("app logs");
            let lines = recent.entry(line.app_id.clone()).or_default();
            if lines.len() == RECENT_LINES {
                lines.pop_front();
            }
            lines.push_back(line.clone());
        }
        let _ = self.live.send(line);
    }

    pub fn recent(&self, app: &str) -> Vec<LogMessage> {
        self.recent.lock().expect("app logs").get(app).map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    /// Every line from now on, of every app (callers filter).
    pub fn subscribe(&self) -> broadcast::Receiver<LogMessage> {
        self.live.subscribe()
    }
}

pub async fn listen(cc: Cc) -> Result<()> {
    let mut lines = cc.bus.subscribe(subjects::ALL_LOGS, None).await?;
    tokio::spawn(async move {
        while let Some(message) = lines.next().await {
            match message.json::<LogMessage>() {
                Ok(line) => cc.logs.record(line),
                Err(e) => tracing::warn!("{e:#}"),
            }
        }
    });
    Ok(())
}
