//! CF's health checks, as the DEA runs them when an instance starts: with
//! `health_check_type` `port` (the default) the instance is RUNNING once
//! its port accepts a connection; with `http`, once a GET of
//! `health_check_http_endpoint` (default `/`) answers 2xx; with `process`
//! or `none`, as soon as it started. The check gives up after
//! `health_check_timeout` seconds (the app's, else the DEA's).

use std::time::Duration;

use anyhow::{Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::protocol::INSTANCE_ID;
use crate::protocol::messages::DeaStart;

/// How often a failing check is tried again.
const RETRY: Duration = Duration::from_millis(20);

/// Where an instance is checked: `host:port`, and the instance a request
/// names there (an HTTP instance at the DEA's gateway).
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub host: &'a str,
    pub port: u16,
    pub instance: Option<&'a str>,
}

/// Waits until the instance `at` passes its check.
pub async fn wait_until_healthy(start: &DeaStart, at: At<'_>, default_timeout: u64) -> Result<()> {
    let timeout = Duration::from_secs(start.health_check_timeout.unwrap_or(default_timeout));
    let endpoint = match start.health_check_type.as_deref() {
        None | Some("port") => None,
        Some("http") => {
            Some(start.health_check_http_endpoint.clone().filter(|e| e.starts_with('/')).unwrap_or("/".into()))
        }
        Some(_) => return Ok(()),
    };
    let passing = async {
        while !passes(at, endpoint.as_deref()).await {
            tokio::time::sleep(RETRY).await;
        }
    };
    if tokio::time::timeout(timeout, passing).await.is_err() {
        match endpoint {
            Some(endpoint) => bail!("GET {endpoint} did not answer 2xx within {} seconds", timeout.as_secs()),
            None => bail!("the app did not accept connections on $PORT within {} seconds", timeout.as_secs()),
        }
    }
    Ok(())
}

/// One try: a connection, and (for an endpoint) a 2xx answer to GET.
async fn passes(at: At<'_>, endpoint: Option<&str>) -> bool {
    let At { host, port, instance } = at;
    // An instance at the gateway accepts once it is served there: its
    // port check is passed (the gateway accepts for it).
    if instance.is_some() && endpoint.is_none() {
        return true;
    }
    let Ok(mut stream) = TcpStream::connect((host, port)).await else { return false };
    let Some(endpoint) = endpoint else { return true };
    let named = instance.map(|id| format!("{INSTANCE_ID}: {id}\r\n")).unwrap_or_default();
    let request = format!(
        "GET {endpoint} HTTP/1.1\r\nHost: {host}:{port}\r\n{named}User-Agent: wf-health-check\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut status_line = [0u8; 12];
    if stream.read_exact(&mut status_line).await.is_err() {
        return false;
    }
    // "HTTP/1.1 200"
    status_line.starts_with(b"HTTP/1.") && status_line[9] == b'2'
}
