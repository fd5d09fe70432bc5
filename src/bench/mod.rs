//! `wf bench …`: the platform's speed, each figure beside its reference
//! measured in the same run, the load from a process of its own ([`load`]).
//! Benchmarks start roles through their public entry points (a
//! [`Platform`](crate::server::Platform), a [`Dea`](crate::dea::Dea), a
//! [`Router`](crate::router::Router)) and time what a user feels:
//!
//! - [`api`]: the CC's app listings with 10,000 apps, beside `/v2/info`;
//! - [`dea`]: instance start → first 200, and requests/s, beside `wasmtime serve`;
//! - [`push`]: a push and a re-push under load, counting failed requests;
//! - [`languages`]: apps from source beside a compiled one;
//! - [`hm`]: recovery from a killed DEA and a restarted nats-server;
//! - [`density`]: how many instances one DEA holds, and what they cost.

pub mod api;
pub mod dea;
pub mod density;
pub mod hm;
pub mod languages;
pub mod load;
pub mod push;

use anyhow::{Context, Result};

/// A port free on the loopback now (for a process the benchmark starts).
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The admin's token from the CC's UAA at `api` (the cf CLI's client).
async fn admin_token(http: &reqwest::Client, api: &str, password: &str) -> Result<String> {
    let tokens: serde_json::Value = http
        .post(format!("{api}/oauth/token"))
        .basic_auth("cf", Some(""))
        .form(&[("grant_type", "password"), ("username", "admin"), ("password", password)])
        .send()
        .await?
        .json()
        .await?;
    Ok(tokens["access_token"].as_str().context("no token")?.to_string())
}
