//! The router's access log, a line per request in gorouter's format, so
//! the tools operators point at gorouter logs read it too. Lines go through
//! a channel to a thread of their own: a slow disk never holds up a request.

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// How often the log's thread writes the lines that came.
const WRITE_INTERVAL: Duration = Duration::from_millis(100);

pub struct AccessLog {
    lines: mpsc::Sender<String>,
}

/// One finished request.
pub struct Entry<'a> {
    pub host: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub version: http::Version,
    pub status: u16,
    pub user_agent: &'a str,
    pub referer: &'a str,
    pub client: std::net::SocketAddr,
    pub backend: Option<&'a str>,
    pub forwarded_for: &'a str,
    pub request_id: &'a str,
    pub seconds: f64,
    pub app: Option<&'a str>,
    pub index: Option<u32>,
}

impl AccessLog {
    /// Appends to `file` (its directory made if needed).
    pub fn open(file: &Path) -> std::io::Result<AccessLog> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let out = std::fs::OpenOptions::new().create(true).append(true).open(file)?;
        let (lines, receiver) = mpsc::channel::<String>();
        // The thread wakes at intervals and writes what came meanwhile: a
        // wake-up per line would cost the router a context switch per request.
        std::thread::Builder::new().name("router-access-log".into()).spawn(move || {
            let mut out = std::io::BufWriter::new(out);
            loop {
                std::thread::sleep(WRITE_INTERVAL);
                let ended = loop {
                    match receiver.try_recv() {
                        Ok(line) => {
                            let _ = out.write_all(line.as_bytes());
                        }
                        Err(mpsc::TryRecvError::Empty) => break false,
                        Err(mpsc::TryRecvError::Disconnected) => break true,
                    }
                };
                let _ = out.flush();
                if ended {
                    return;
                }
            }
        })?;
        Ok(AccessLog { lines })
    }

    /// Appends one line (from [`Entry::line`]).
    pub fn write(&self, mut line: String) {
        line.push('\n');
        let _ = self.lines.send(line);
    }
}

impl Entry<'_> {
    /// The request as gorouter's access log line (no newline): what the
    /// access log and the app's `[RTR]` log lines say.
    pub fn line(&self) -> String {
        let e = self;
        let time = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let optional = |v: Option<&str>| v.map_or("-".to_string(), |v| format!("\"{v}\""));
        format!(
            "{host} - [{time}] \"{method} {path} {version:?}\" {status} \"{referer}\" \"{agent}\" \"{client}\" {backend} \
             x_forwarded_for:\"{forwarded}\" vcap_request_id:\"{id}\" response_time:{seconds:.6} app_id:{app} app_index:{index}",
            host = e.host,
            method = e.method,
            path = e.path,
            version = e.version,
            status = e.status,
            referer = e.referer,
            agent = e.user_agent,
            client = e.client,
            backend = optional(e.backend),
            forwarded = e.forwarded_for,
            id = e.request_id,
            seconds = e.seconds,
            app = optional(e.app),
            index = e.index.map_or("-".to_string(), |i| format!("\"{i}\"")),
        )
    }
}
