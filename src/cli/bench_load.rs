//! The load a benchmark puts on a server comes from a process of its own,
//! as wrk's would, so the generator does not share the server's process:
//! `wf bench load` runs keep-alive connections sending GETs back to back
//! and prints what it saw as one JSON line; a benchmark starts it with
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
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl LoadReport {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }
}

/// Where the load goes: `address` (host:port) with this `Host` header.
#[derive(Debug, Clone)]
pub struct Target {
    pub address: String,
    pub host: String,
}

/// A `wf bench load` child at work.
pub struct LoadRun {
    child: tokio::process::Child,
}

impl LoadRun {
    /// Starts loading `target` from `connections` connections for `seconds`.
    pub fn start(target: &Target, seconds: f64, connections: usize) -> Result<LoadRun> {
        let child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["bench", "load", "--address", &target.address, "--host", &target.host])
            .args(["--seconds", &seconds.to_string(), "--connections", &connections.to_string()])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the load generator")?;
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
    pub async fn run(target: Target, seconds: f64, connections: usize) -> Result<LoadReport> {
        LoadRun::start(&target, seconds, connections)?.finish().await
    }
}

/// The child's side: loads `target` and prints the report.
pub async fn generate(target: Target, seconds: f64, connections: usize) -> Result<()> {
    let began = Instant::now();
    let until = began + Duration::from_secs_f64(seconds);
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let target = target.clone();
        clients.spawn(async move { client(&target, until).await });
    }
    let (mut latencies, mut failed) = (Vec::new(), 0);
    while let Some(client) = clients.join_next().await {
        let (times, errors) = client?;
        latencies.extend(times);
        failed += errors;
    }
    latencies.sort();
    let ms = |q: f64| percentile(&latencies, q).as_secs_f64() * 1000.0;
    let report = LoadReport {
        requests: latencies.len() as u64,
        failed,
        seconds: began.elapsed().as_secs_f64(),
        p50_ms: ms(0.50),
        p99_ms: ms(0.99),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// One connection's requests until `until`: the latencies of the 2xx
/// answers and the count of failures.
async fn client(target: &Target, until: Instant) -> (Vec<Duration>, u64) {
    let (mut latencies, mut failed) = (Vec::new(), 0);
    while Instant::now() < until {
        let Ok(stream) = tokio::net::TcpStream::connect(&target.address).await else {
            failed += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, connection)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await else {
            failed += 1;
            continue;
        };
        tokio::spawn(connection);
        while Instant::now() < until {
            let request = hyper::Request::get("/").header("host", &target.host).body(Empty::<Bytes>::new());
            let Ok(request) = request else { return (latencies, failed + 1) };
            let sent = Instant::now();
            match sender.send_request(request).await {
                Ok(response) => {
                    let success = response.status().is_success();
                    let whole = response.into_body().collect().await.is_ok();
                    match success && whole {
                        true => latencies.push(sent.elapsed()),
                        false => failed += 1,
                    }
                }
                Err(_) => {
                    // The connection broke: count it and connect again.
                    failed += 1;
                    break;
                }
            }
        }
    }
    (latencies, failed)
}

/// One GET / for `host` on a new connection, as plain as a client can
/// make it: the status and body, None if the connection failed.
pub async fn get_once(address: &str, host: &str) -> Option<(u16, Bytes)> {
    let stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(connection);
    let request = hyper::Request::get("/").header("host", host).body(Empty::<Bytes>::new()).ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.into_body().collect().await.ok()?.to_bytes()))
}

/// Sends GET / until it answers 200 (within 60 s of `began`).
pub async fn first_200(address: &str, host: &str, began: Instant) -> Result<()> {
    while get_once(address, host).await.is_none_or(|(status, _)| status != 200) {
        if began.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("{address} did not answer 200 within 60s");
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
