//! Where guest output goes: every line onto the app's log stream
//! (`logs.<app>` on the bus, tagged STG for staging or APP for an
//! instance) and, for instances, into `logs/stdout.log` and
//! `logs/stderr.log` in the instance directory.
//!
//! A line goes into its file's buffer and onto a queue; a task per guest
//! ships the queue in batches: it wakes for the first line, lets the
//! lines of the next [`GATHER`] join it, appends the files' buffers to
//! the files and publishes the lines in order. An app that logs a line
//! per request so costs its requests a copy and a queue push, not a
//! thread's wake-up and a file's open, write and close each (those were
//! 5% of a JavaScript app's request, on the thread that runs it). A flood
//! of lines fills the queue, and the lines past it are dropped from the
//! stream (counted: a line says how many), as loggregator drops them,
//! rather than filling the DEA's memory; the files keep every line, in
//! order: a buffer that reaches [`FILE_BUFFER`] is appended by the
//! writer itself.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

/// How much of a log file may wait in memory for its batch.
const FILE_BUFFER: usize = 256 * 1024;

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
        let files = files_dir.map(LogFiles::create).transpose()?.map(Arc::new);
        let (sender, receiver) = mpsc::channel::<Shipped>(LOG_BACKLOG);
        let dropped = Arc::new(AtomicU64::new(0));
        let source = LogSource { app: app.into(), source_type: source_type.into(), instance: source_instance.into() };
        tokio::spawn(ship(bus, receiver, dropped.clone(), source.clone(), files.clone()));
        let stream = |message_type: &'static str| {
            let (sender, dropped, source) = (sender.clone(), dropped.clone(), source.clone());
            let files = files.clone();
            LogStream::new(move |line: String| {
                if let Some(files) = &files {
                    if message_type == "ERR" { &files.stderr } else { &files.stdout }.push(&line);
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
/// is dropped, appending `files`' buffers before each batch goes out. A
/// notice of dropped lines comes from `source`.
async fn ship(
    bus: Bus,
    mut receiver: mpsc::Receiver<Shipped>,
    dropped: Arc<AtomicU64>,
    source: LogSource,
    files: Option<Arc<LogFiles>>,
) {
    let write_files = || {
        if let Some(files) = &files {
            files.stdout.write_out();
            files.stderr.write_out();
        }
    };
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
                    write_files();
                    publish(&bus, &subject, &mut batch).await;
                    let _ = done.send(());
                }
            }
        }
        write_files();
        publish(&bus, &subject, &mut batch).await;
    }
    // Lines dropped from the last batches are still in the buffers.
    write_files();
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
/// batch, not held: a DEA of thousands of instances would otherwise hold
/// two descriptors for each.
struct LogFiles {
    stdout: LogFile,
    stderr: LogFile,
}

impl LogFiles {
    fn create(dir: &Path) -> Result<LogFiles> {
        std::fs::create_dir_all(dir)?;
        let files = LogFiles {
            stdout: LogFile::create(dir.join("stdout.log"))?,
            stderr: LogFile::create(dir.join("stderr.log"))?,
        };
        Ok(files)
    }
}

/// One log file and the lines on their way into it.
struct LogFile {
    path: PathBuf,
    pending: Mutex<Vec<u8>>,
}

impl LogFile {
    fn create(path: PathBuf) -> Result<LogFile> {
        std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(LogFile { path, pending: Mutex::default() })
    }

    fn push(&self, line: &str) {
        let mut pending = self.pending.lock().expect("log file buffer");
        pending.extend_from_slice(line.as_bytes());
        pending.push(b'\n');
        if pending.len() >= FILE_BUFFER {
            self.append(&mut pending);
        }
    }

    fn write_out(&self) {
        self.append(&mut self.pending.lock().expect("log file buffer"));
    }

    /// One appending write of whole lines, made while the buffer is held:
    /// no other write of this file comes between, so lines stay in order.
    fn append(&self, pending: &mut Vec<u8>) {
        if pending.is_empty() {
            return;
        }
        let appended = std::fs::OpenOptions::new().append(true).open(&self.path);
        let _ = appended.and_then(|mut file| file.write_all(pending));
        pending.clear();
        pending.shrink_to(FILE_BUFFER / 16);
    }
}
