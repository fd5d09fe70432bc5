//! The DEA's gateway: one port on which it serves every HTTP instance it
//! runs, each request handed to the instance its `X-Cf-InstanceId` names
//! ([`crate::protocol::INSTANCE_ID`], set by routers as gorouter sets it),
//! so an instance costs no socket of its own and one DEA holds thousands.
//! Routers register every HTTP instance at the gateway's address with its
//! id; a request for an instance not (any more) served here is answered
//! as gone (a 503 with [`crate::protocol::INSTANCE_GONE`]), and the router
//! tries another. (A program that
//! listens itself — a `wasi:cli` app — keeps a port of its own.)
//!
//! The port is kept in the DEA's directory: a DEA that restarts takes it
//! again, so what routers know of its instances stays right.

use std::path::Path;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::protocol::INSTANCE_ID;
use crate::runtime::http::{self, LocalHttpApps};

const PORT_FILE: &str = "gateway-port";

/// Opens the gateway on `host` (the port it had before, if it is free)
/// for the instances listed in `apps`, until `closed` is cancelled; its port.
pub async fn open(dir: &Path, host: &str, apps: LocalHttpApps, closed: CancellationToken) -> Result<u16> {
    let before = std::fs::read_to_string(dir.join(PORT_FILE)).ok().and_then(|port| port.trim().parse::<u16>().ok());
    let again = match before {
        Some(port) => TcpListener::bind((host, port)).await.ok(),
        None => None,
    };
    let listener = match again {
        Some(listener) => listener,
        None => TcpListener::bind((host, 0)).await.context("opening the DEA's gateway")?,
    };
    let port = listener.local_addr()?.port();
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(PORT_FILE), port.to_string()).context("keeping the gateway's port")?;
    tokio::spawn(http::serve(listener, closed, move |headers| apps.find(headers.get(INSTANCE_ID)?.to_str().ok()?)));
    Ok(port)
}
