//! The CC's HTTP surface: CF's v2 REST API ([`v2`]), the v3 API ([`v3`]),
//! and what sits beside both — the root and `/v2/info` documents, the UAA
//! endpoints the cf CLI logs in with, Log Cache's read API and doppler's
//! log endpoints, and `/metrics` (Prometheus's, unauthenticated, as
//! gorouter's and the CC's are on CF: [`crate::cc::metrics`]). Every error
//! is an [`ApiError`](crate::cc::error::ApiError) in CF's shape (v3's
//! under `/v3`), unknown paths included. The web console ([`console`]) is
//! served beside them, as a client of them.

pub(crate) mod app_access;
mod console;
mod doppler;
pub(crate) mod info;
pub mod input;
mod log_cache;
pub mod multipart;
mod uaa;
mod v2;
pub mod v3;

use axum::Router;
use axum::routing::{get, post};

use crate::cc::Cc;
use crate::cc::error::ApiError;
use crate::cc::metrics;

pub fn router(cc: Cc) -> Router {
    let secure = cc.config.cc_tls_certificate.is_some();
    let router_port = cc.config.router_listen.port();
    let api = api_router(cc);
    api.clone().merge(console::router(api, secure, router_port))
}

fn api_router(cc: Cc) -> Router {
    let upload_limit = cc.config.max_upload_size as usize + 1024 * 1024;
    let router = Router::new()
        .route("/", get(info::root))
        .route("/v2/info", get(info::v2_info))
        .route("/login", get(info::login_info))
        .route("/api/v1/info", get(log_cache::info))
        .route("/api/v1/read/{source}", get(log_cache::read))
        .route("/api/v1/meta", get(log_cache::meta))
        .route("/oauth/token", post(uaa::token))
        .route("/Users", post(uaa::create_user).get(uaa::find_users))
        .route("/Users/{id}", axum::routing::delete(uaa::delete_user))
        .route("/Users/{id}/status", axum::routing::patch(uaa::user_status))
        .route("/apps/{guid}/stream", get(doppler::stream))
        .route("/apps/{guid}/recentlogs", get(doppler::recent));
    let router = v3::routes(v2::routes(router, upload_limit), upload_limit);
    router
        .route("/metrics", get(crate::metrics::scrape))
        .route_layer(axum::middleware::from_fn(metrics::tag_endpoint))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::from_fn_with_state(cc.clone(), v2::jobs::async_deletes))
        .layer(axum::middleware::from_fn(input::checked))
        .layer(axum::middleware::from_fn(crate::cc::v3::errors::in_v3_shape))
        .layer(axum::middleware::from_fn(metrics::metered))
        .with_state(cc)
}
