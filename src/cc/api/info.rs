//! Discovery: `/v2/info`, the root and `/v3` link maps, and UAA's `/login`,
//! shaped as CF clients expect. The v3 version is kept below 3.27.0 so cf
//! CLI v6 stays on the v2 API it knows.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::cc::Cc;

pub const API_VERSION: &str = "2.128.0";
pub const V3_VERSION: &str = "3.26.0";

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
            "app_ssh": null,
        }
    }))
}

pub async fn v3_root(State(cc): State<Cc>) -> Json<Value> {
    let url = cc.config.external_url();
    Json(json!({ "links": {
        "self": {"href": format!("{url}/v3")},
        "isolation_segments": {"href": format!("{url}/v3/isolation_segments")},
        "spaces": {"href": format!("{url}/v3/spaces")},
        "organizations": {"href": format!("{url}/v3/organizations")},
    } }))
}

/// `GET /v3/isolation_segments`: v6 clients ask which segments an org or
/// space may use; instances all run on the shared DEA pool, so none.
pub async fn isolation_segments(State(cc): State<Cc>, _user: crate::cc::auth::CurrentUser) -> Json<Value> {
    let url = format!("{}/v3/isolation_segments", cc.config.external_url());
    Json(json!({
        "pagination": {
            "total_results": 0,
            "total_pages": 1,
            "first": {"href": format!("{url}?page=1&per_page=50")},
            "last": {"href": format!("{url}?page=1&per_page=50")},
            "next": null,
            "previous": null,
        },
        "resources": [],
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

/// `GET /v3/{spaces,organizations}/:guid/relationships/{isolation_segment,default_isolation_segment}`:
/// none, for the same reason.
pub async fn no_isolation_segment(
    State(cc): State<Cc>,
    _user: crate::cc::auth::CurrentUser,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Json<Value> {
    Json(json!({"data": null, "links": {"self": {"href": format!("{}{}", cc.config.external_url(), uri.path())}}}))
}
