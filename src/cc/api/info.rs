//! Discovery: `/v2/info`, the root link map and UAA's `/login`, shaped as
//! CF clients expect.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::cc::Cc;

pub const API_VERSION: &str = "2.128.0";
/// The cf CLI v8's minimum (v7 warns below 3.85.0). The cf CLI v6 still
/// pushes through v2 at this version (6.40 and 6.53 were run against it)
/// and shows the pushed app through v3.
pub const V3_VERSION: &str = "3.99.0";

pub async fn v2_info(State(cc): State<Cc>) -> Json<Value> {
    let url = cc.config.external_url();
    Json(json!({
        "name": "wasmfoundry",
        "build": env!("CARGO_PKG_VERSION"),
        "support": "https://github.com/wasmfoundry/wasmfoundry",
        "version": 2,
        "description": "wasmfoundry: Cloud Foundry v2 with WebAssembly components",
        "authorization_endpoint": url,
        "token_endpoint": url,
        "min_cli_version": null,
        "min_recommended_cli_version": null,
        "api_version": API_VERSION,
        "osbapi_version": "2.14",
        "app_ssh_endpoint": null,
        "app_ssh_host_key_fingerprint": null,
        "app_ssh_oauth_client": null,
        "doppler_logging_endpoint": url.replacen("http", "ws", 1),
        "routing_endpoint": null,
        // Not CF's: where the router serves app routes, so clients can print working URLs.
        "router_url": format!("http://{}", cc.config.router_listen),
    }))
}

pub async fn root(State(cc): State<Cc>) -> Json<Value> {
    let url = cc.config.external_url();
    Json(json!({
        "links": {
            "self": {"href": url},
            "bits_service": null,
            "cloud_controller_v2": {"href": format!("{url}/v2"), "meta": {"version": API_VERSION}},
            "cloud_controller_v3": {"href": format!("{url}/v3"), "meta": {"version": V3_VERSION}},
            "network_policy_v0": null,
            "network_policy_v1": null,
            "login": {"href": url},
            "uaa": {"href": url},
            "credhub": null,
            "routing": null,
            "logging": null,
            "log_cache": {"href": url},
            "app_ssh": null,
        }
    }))
}

pub async fn login_info(State(cc): State<Cc>) -> Json<Value> {
    let url = cc.config.external_url();
    Json(json!({
        "app": {"version": env!("CARGO_PKG_VERSION")},
        "showLoginLinks": true,
        "links": {"uaa": url, "passwd": "/forgot_password", "login": url, "register": "/create_account"},
        "zone_name": "uaa",
        "entityID": "wasmfoundry",
        "commit_id": "wasmfoundry",
        "idpDefinitions": {},
        "prompts": {"username": ["text", "Email"], "password": ["password", "Password"]},
        "timestamp": crate::cc::now(),
    }))
}
