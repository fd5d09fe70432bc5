//! Where guest output goes: every line onto the app's log stream
//! (`logs.<app>` on the bus, tagged STG for staging or APP for an
//! instance) and, for instances, into `logs/stdout.log` and
//! `logs/stderr.log` in the instance directory.
//!
//! A line goes into its file at once (the files keep every line) and
//! onto a queue; a task per guest ships the queue in batches: it wakes
//! for the first line, lets the lines of the next [`GATHER`] join it and
//! publishes them in order. An app that logs a line per request so costs
//! its requests a file append and a queue push, not a thread's wake-up
//! each. A flood of lines fills the queue, and the lines past it are
//! dropped from the stream (counted: a line says how many), as
//! loggregator drops them, rather than filling the DEA's memory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Result;
use tokio::sync::mpsc;

use crate::bus::{Bus, BusExt};
use crate::protocol::messages::{LogMessage, subjects};
use crate::runtime::guest::LogStream;

/// Lines waiting to be shipped.
const LOG_BACKLOG: usize = 10_000;

/// How long the lines after a batch's first may take to join it.
const GATHER: Duration = Duration::from_millis(5);

/// The stdout and stderr streams of one guest.
pub struct GuestLogs {
    pub stdout: LogStream,
    pub stderr: LogStream,
    shipper: mpsc::Sender<Shipped>,
}

/// What the shipping task is handed.
enum Shipped {
    Line(LogMessage),
    /// Ship what came before, then say so.
    Flush(tokio::sync::oneshot::Sender<()>),
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
        let files = files_dir.map(LogFiles::create).transpose()?;
        let (sender, receiver) = mpsc::channel::<Shipped>(LOG_BACKLOG);
        let dropped = Arc::new(AtomicU64::new(0));
        let source = LogSource { app: app.into(), source_type: source_type.into(), instance: source_instance.into() };
        tokio::spawn(ship(bus, receiver, dropped.clone(), source.clone()));
        let stream = |message_type: &'static str| {
            let (sender, dropped, source) = (sender.clone(), dropped.clone(), source.clone());
            let file =
                files.as_ref().map(|files| if message_type == "ERR" { &files.stderr } else { &files.stdout }.clone());
            LogStream::new(move |line: String| {
                if let Some(path) = &file {
                    append(path, &line);
                }
                let message = source.line(message_type, line);
                if sender.try_send(Shipped::Line(message)).is_err() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        Ok(GuestLogs { stdout: stream("OUT"), stderr: stream("ERR"), shipper: sender })
    }

    /// Returns once every line written so far is shipped (staging's last
    /// lines go out before the reply that staging is over).
    pub async fn flush(&self) {
        let (shipped, done) = tokio::sync::oneshot::channel();
        if self.shipper.send(Shipped::Flush(shipped)).await.is_ok() {
            let _ = done.await;
        }
    }
}

/// Whose lines a guest's are.
#[derive(Clone)]
struct LogSource {
    app: String,
    source_type: String,
    instance: String,
}

impl LogSource {
    fn line(&self, message_type: &str, text: String) -> LogMessage {
        LogMessage::new(&self.app, &self.source_type, &self.instance, message_type, text)
    }
}

/// Ships the lines `receiver` gets, a batch at a time, until every stream
/// is dropped. A notice of dropped lines comes from `source`.
async fn ship(bus: Bus, mut receiver: mpsc::Receiver<Shipped>, dropped: Arc<AtomicU64>, source: LogSource) {
    let subject = subjects::app_logs(&source.app);
    let mut batch = Vec::new();
    while let Some(first) = receiver.recv().await {
        if matches!(first, Shipped::Line(_)) {
            tokio::time::sleep(GATHER).await;
        }
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            let notice = format!("{lost} log lines dropped: the app wrote faster than its logs are shipped");
            batch.push(source.line("ERR", notice));
        }
        let mut next = Some(first);
        // At most a queue's worth at a time: a guest writing on while the
        // batch is taken must not make it grow without bound.
        while let Some(shipped) =
            next.take().or_else(|| (batch.len() < LOG_BACKLOG).then(|| receiver.try_recv().ok()).flatten())
        {
            match shipped {
                Shipped::Line(line) => batch.push(line),
                Shipped::Flush(done) => {
                    publish(&bus, &subject, &mut batch).await;
                    let _ = done.send(());
                }
            }
        }
        publish(&bus, &subject, &mut batch).await;
    }
}

/// Publishes `batch`, emptying it.
async fn publish(bus: &Bus, subject: &str, batch: &mut Vec<LogMessage>) {
    for line in batch.drain(..) {
        if let Err(e) = bus.publish(subject, &line).await {
            tracing::warn!("publishing a log line: {e:#}");
        }
    }
}

/// An instance's stdout.log and stderr.log. Each is opened for each
/// line, not held: a DEA of thousands of instances would otherwise hold
/// two descriptors for each.
struct LogFiles {
    stdout: PathBuf,
    stderr: PathBuf,
}

impl LogFiles {
    fn create(dir: &Path) -> Result<LogFiles> {
        std::fs::create_dir_all(dir)?;
        let files = LogFiles { stdout: dir.join("stdout.log"), stderr: dir.join("stderr.log") };
        for path in [&files.stdout, &files.stderr] {
            std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        }
        Ok(files)
    }
}

/// One appending write per line: a line does not interleave with another's.
fn append(path: &Path, line: &str) {
    let appended = std::fs::OpenOptions::new().append(true).open(path);
    let _ = appended.and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
}
