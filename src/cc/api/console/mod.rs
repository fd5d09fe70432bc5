//! The web console, where Stratos and Apps Manager sit in Cloud Foundry:
//! pages at `/console` on the CC's own port (and TLS) to see and run what
//! a user may — orgs and spaces, a space's apps, an app's instances,
//! routes, services, environment, events, traffic and live logs; start,
//! stop, restart, scale and delete; the marketplace, creating, binding
//! and deleting service instances;
//! and for admins the platform: DEAs with their capacity used, apps by
//! state. Signing in is a platform user's username
//! and password ([`session`]).
//!
//! It is a client of the API, in process ([`api`]): every page is made of
//! API answers and every button is an API request with the user's token,
//! so it shows and does exactly what the permission checks let that user
//! see and do, with the API's errors. Pages are rendered on the server
//! (askama templates under `templates/console`); a little plain
//! JavaScript ([`ASSETS`]) refreshes the instances, draws their memory and
//! follows the logs. Nothing is fetched from elsewhere: it works offline.

mod actions;
mod api;
mod logs;
mod pages;
mod session;
mod view;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

pub use api::Api;

/// What every console handler has: the API, whether its cookies are for
/// HTTPS only, and the port apps' routes answer on (as `/v2/info`'s
/// `router_url` tells the CLI).
#[derive(Clone)]
pub struct Console {
    api: Api,
    secure: bool,
    router_port: u16,
}

/// The console's routes, calling `api` (the CC's router, whole).
pub fn router(api: Router, secure: bool, router_port: u16) -> Router {
    let console = Console { api: Api::new(api), secure, router_port };
    Router::new()
        .route("/console", get(pages::home))
        .route("/console/login", get(pages::login_form).post(actions::sign_in))
        .route("/console/logout", post(actions::sign_out))
        .route("/console/orgs", get(pages::orgs))
        .route("/console/spaces/{guid}", get(pages::space))
        .route("/console/apps/{guid}", get(pages::app))
        .route("/console/apps/{guid}/instances", get(pages::instances))
        .route("/console/apps/{guid}/logs", get(logs::follow))
        .route("/console/apps/{guid}/scale", post(actions::scale))
        .route("/console/apps/{guid}/delete", post(actions::delete))
        .route("/console/apps/{guid}/actions/{action}", post(actions::lifecycle))
        .route("/console/apps/{guid}/bindings", post(actions::bind))
        .route("/console/apps/{guid}/bindings/{binding}/delete", post(actions::unbind))
        .route("/console/marketplace", get(pages::marketplace))
        .route("/console/service_instances", post(actions::create_service))
        .route("/console/service_instances/{guid}/delete", post(actions::delete_service))
        .route("/console/platform", get(pages::platform))
        .route("/console/assets/{name}", get(asset))
        .with_state(console)
}

/// The stylesheet and script, in the binary.
const ASSETS: [(&str, &str, &str); 2] = [
    ("console.css", "text/css; charset=utf-8", include_str!("console.css")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("console.js")),
];

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> axum::response::Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, kind, text)) => {
            ([(header::CONTENT_TYPE, *kind), (header::CACHE_CONTROL, "max-age=300")], *text).into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}
