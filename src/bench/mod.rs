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

/// The Cloud Controller's API at `base` with the admin's token.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// Logs in as the admin with `password`.
    async fn login(base: &str, password: &str) -> Result<Api> {
        let http = reqwest::Client::new();
        let token = admin_token(&http, base, password).await?;
        Ok(Api { http, base: base.to_string(), token })
    }

    /// GET `path`, which must answer 2xx.
    async fn get(&self, path: &str) -> Result<serde_json::Value> {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await?;
        Ok(response.error_for_status()?.json().await?)
    }

    /// `method` `path` with a JSON `body`, which must answer 2xx.
    async fn send(&self, method: reqwest::Method, path: &str, body: serde_json::Value) -> Result<serde_json::Value> {
        let request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        Ok(request.json(&body).send().await?.error_for_status()?.json().await?)
    }

    /// The guid of the app called `name`.
    async fn app_guid(&self, name: &str) -> Result<String> {
        let apps = self.get(&format!("/v2/apps?q=name:{name}")).await?;
        Ok(apps["resources"][0]["metadata"]["guid"].as_str().context("the app exists")?.to_string())
    }
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
