//! The load a benchmark puts on a server comes from a process of its own,
//! as wrk's would, so the generator does not share the server's process:
//! `wf bench load` runs keep-alive connections sending GETs back to back
//! (for a time, or until a number of requests is answered) and prints
//! what it saw as one JSON line; a benchmark starts it with
//! [`LoadRun::start`] and reads that line with [`LoadRun::finish`]. A
//! failed request — an error status or a broken connection, after which
//! the connection is made again — is counted, not fatal, so a re-push
//! under load can be scored.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};

/// What a load run saw.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadReport {
    /// Requests answered with a 2xx.
    pub requests: u64,
    /// Requests answered otherwise, or lost with their connection.
    pub failed: u64,
    /// What the first few failures were (a status and the start of its
    /// body, or the connection's error), one of each.
    #[serde(default)]
    pub failures: Vec<String>,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl LoadReport {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }
}

/// Where the load goes: GET `path` on `address` (host:port) with this
/// `Host` header and `headers` (an `Authorization`, the instance a DEA's
/// gateway is to hand it to…).
#[derive(Debug, Clone)]
pub struct Target {
    pub address: String,
    pub host: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Target {
    /// GET / of `host` at `address`.
    pub fn root(address: &str, host: &str) -> Target {
        Target { address: address.into(), host: host.into(), path: "/".into(), headers: Vec::new() }
    }

    /// With `name: value` on every request too.
    pub fn with_header(mut self, name: &str, value: &str) -> Target {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// When a load run ends.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    Seconds(f64),
    Requests(u64),
}

/// A `wf bench load` child at work.
pub struct LoadRun {
    child: tokio::process::Child,
}

impl LoadRun {
    /// Starts loading `target` from `connections` connections.
    pub fn start(target: &Target, until: Until, connections: usize) -> Result<LoadRun> {
        let mut command = tokio::process::Command::new(std::env::current_exe()?);
        command.args(["bench", "load", "--address", &target.address, "--host", &target.host, "--path", &target.path]);
        command.args(["--connections", &connections.to_string()]);
        for (name, value) in &target.headers {
            command.args(["--header", &format!("{name}: {value}")]);
        }
        match until {
            Until::Seconds(seconds) => command.args(["--seconds", &seconds.to_string()]),
            Until::Requests(requests) => command.args(["--requests", &requests.to_string()]),
        };
        let child = command.stdout(Stdio::piped()).kill_on_drop(true).spawn().context("starting the load generator")?;
        Ok(LoadRun { child })
    }

    /// Waits for the run to end and reads its report.
    pub async fn finish(self) -> Result<LoadReport> {
        let output = self.child.wait_with_output().await?;
        let text = String::from_utf8_lossy(&output.stdout);
        serde_json::from_str(text.lines().last().unwrap_or_default())
            .with_context(|| format!("the load generator printed no report: {text}"))
    }

    /// Starts a run and waits for it.
    pub async fn run(target: Target, until: Until, connections: usize) -> Result<LoadReport> {
        LoadRun::start(&target, until, connections)?.finish().await
    }
}

/// The child's side: loads `target` and prints the report.
pub async fn generate(target: Target, until: Until, connections: usize) -> Result<()> {
    let began = Instant::now();
    let end = End {
        at: match until {
            Until::Seconds(seconds) => began + Duration::from_secs_f64(seconds),
            Until::Requests(_) => began + Duration::from_secs(3600),
        },
        left: std::sync::atomic::AtomicU64::new(match until {
            Until::Requests(requests) => requests,
            Until::Seconds(_) => u64::MAX,
        }),
    };
    let end = std::sync::Arc::new(end);
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..connections.max(1) {
        let (target, end) = (target.clone(), end.clone());
        clients.spawn(async move { client(&target, &end).await });
    }
    let (mut latencies, mut failed, mut failures) = (Vec::new(), 0, Vec::new());
    while let Some(client) = clients.join_next().await {
        let seen = client?;
        latencies.extend(seen.latencies);
        failed += seen.failed;
        for failure in seen.failures {
            note_failure(&mut failures, failure);
        }
    }
    latencies.sort();
    let ms = |q: f64| percentile(&latencies, q).as_secs_f64() * 1000.0;
    let report = LoadReport {
        requests: latencies.len() as u64,
        failed,
        failures,
        seconds: began.elapsed().as_secs_f64(),
        p50_ms: ms(0.50),
        p99_ms: ms(0.99),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// When the connections of a run stop: at a time, or when the requests
/// left run out.
struct End {
    at: Instant,
    left: std::sync::atomic::AtomicU64,
}

impl End {
    /// Takes one more request, if the run is not over.
    fn another(&self) -> bool {
        use std::sync::atomic::Ordering;
        Instant::now() < self.at
            && self.left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok()
    }
}

/// What one connection saw: the latencies of the 2xx answers, the count
/// of failures and what the first few were.
#[derive(Default)]
struct Seen {
    latencies: Vec<Duration>,
    failed: u64,
    failures: Vec<String>,
}

impl Seen {
    fn failure(&mut self, what: String) {
        self.failed += 1;
        note_failure(&mut self.failures, what);
    }
}

/// Keeps up to three distinct failure descriptions.
fn note_failure(failures: &mut Vec<String>, what: String) {
    if failures.len() < 3 && !failures.contains(&what) {
        failures.push(what);
    }
}

/// One connection's requests until the run ends.
async fn client(target: &Target, end: &End) -> Seen {
    let mut seen = Seen::default();
    let mut pending = end.another();
    while pending {
        let stream = match tokio::net::TcpStream::connect(&target.address).await {
            Ok(stream) => stream,
            Err(e) => {
                seen.failure(format!("connecting: {e}"));
                pending = end.another();
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
            Ok(handshake) => handshake,
            Err(e) => {
                seen.failure(format!("handshake: {e}"));
                pending = end.another();
                continue;
            }
        };
        tokio::spawn(connection);
        while pending {
            // A keep-alive connection takes its next request only once it
            // has finished with the last response, which can be a moment
            // after the client read that response's body; sending before
            // then is refused as "not ready", a failure of this client
            // and not of the server.
            if let Err(e) = sender.ready().await {
                seen.failure(format!("the connection closed: {e}"));
                pending = end.another();
                break;
            }
            let mut request = hyper::Request::get(&target.path).header("host", &target.host);
            for (name, value) in &target.headers {
                request = request.header(name, value);
            }
            let Ok(request) = request.body(Empty::<Bytes>::new()) else {
                seen.failure("an invalid request".into());
                return seen;
            };
            let sent = Instant::now();
            match sender.send_request(request).await {
                Ok(response) => {
                    let status = response.status();
                    match response.into_body().collect().await {
                        Ok(_) if status.is_success() => seen.latencies.push(sent.elapsed()),
                        Ok(body) => {
                            let body = body.to_bytes();
                            let start = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                            seen.failure(format!("{status}: {start}"));
                        }
                        Err(e) => seen.failure(format!("{status}, then the body broke off: {e}")),
                    }
                    pending = end.another();
                }
                Err(e) => {
                    // The connection broke: count it and connect again.
                    seen.failure(format!("the connection broke: {e}"));
                    pending = end.another();
                    break;
                }
            }
        }
    }
    seen
}

/// One GET / for `host` on a new connection, as plain as a client can
/// make it: the status and body, None if the connection failed.
pub async fn get_once(target: &Target) -> Option<(u16, Bytes)> {
    let stream = tokio::net::TcpStream::connect(&target.address).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(connection);
    let mut request = hyper::Request::get(&target.path).header("host", &target.host);
    for (name, value) in &target.headers {
        request = request.header(name, value);
    }
    let request = request.body(Empty::<Bytes>::new()).ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.into_body().collect().await.ok()?.to_bytes()))
}

/// Sends the target's GET until it answers 200 (within 60 s of `began`).
pub async fn first_200(target: &Target, began: Instant) -> Result<()> {
    while get_once(target).await.is_none_or(|(status, _)| status != 200) {
        if began.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("{} did not answer 200 within 60s", target.address);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// The `q` quantile of sorted times.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}
