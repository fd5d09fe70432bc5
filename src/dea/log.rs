//! Where guest output goes: every line onto the app's log stream
//! (`logs.<app>` on the bus, tagged STG for staging or APP for an
//! instance) and, for instances, into `logs/stdout.log` and
//! `logs/stderr.log` in the instance directory.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;
use tokio::sync::mpsc;

use crate::bus::{Bus, BusExt};
use crate::protocol::messages::{LogMessage, subjects};
use crate::runtime::guest::LogStream;

/// Lines waiting to be shipped to the bus; beyond this a flooding guest's
/// lines are dropped (and counted), as loggregator drops them, rather than
/// filling the DEA's memory. The log files still get every line.
const LOG_BACKLOG: usize = 10_000;

/// The stdout and stderr streams of one guest.
pub struct GuestLogs {
    pub stdout: LogStream,
    pub stderr: LogStream,
}

impl GuestLogs {
    /// Streams for `app`; `files_dir` (if given) gets stdout.log and stderr.log.
    pub fn new(
        bus: Bus,
        app: &str,
        source_type: &str,
        source_instance: &str,
        files_dir: Option<&Path>,
    ) -> Result<GuestLogs> {
        let (sender, mut receiver) = mpsc::channel::<LogMessage>(LOG_BACKLOG);
        let dropped = Arc::new(AtomicU64::new(0));
        let subject = subjects::app_logs(app);
        let (drop_count, app_id, drop_source, drop_instance) =
            (dropped.clone(), app.to_string(), source_type.to_string(), source_instance.to_string());
        tokio::spawn(async move {
            while let Some(line) = receiver.recv().await {
                let lost = drop_count.swap(0, Ordering::Relaxed);
                if lost > 0 {
                    let notice = format!("{lost} log lines dropped: the app wrote faster than its logs are shipped");
                    let notice = LogMessage::new(&app_id, &drop_source, &drop_instance, "ERR", notice);
                    let _ = bus.publish(&subject, &notice).await;
                }
                if let Err(e) = bus.publish(&subject, &line).await {
                    tracing::warn!("publishing a log line: {e:#}");
                }
            }
        });
        let stream = |message_type: &'static str, file_name: &str| -> Result<LogStream> {
            // The file is opened for each line, not held: a DEA of thousands
            // of instances would otherwise hold two descriptors for each.
            let file = match files_dir {
                Some(dir) => {
                    std::fs::create_dir_all(dir)?;
                    let path = dir.join(file_name);
                    std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
                    Some(path)
                }
                None => None,
            };
            let (sender, dropped, app, source_type, source_instance) = (
                sender.clone(),
                dropped.clone(),
                app.to_string(),
                source_type.to_string(),
                source_instance.to_string(),
            );
            Ok(LogStream::new(move |line: String| {
                if let Some(path) = &file {
                    // One appending write per line: a line does not
                    // interleave with another's.
                    let appended = std::fs::OpenOptions::new().append(true).open(path);
                    let _ = appended.and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
                }
                let message = LogMessage::new(&app, &source_type, &source_instance, message_type, line);
                if sender.try_send(message).is_err() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
            }))
        };
        Ok(GuestLogs { stdout: stream("OUT", "stdout.log")?, stderr: stream("ERR", "stderr.log")? })
    }
}
