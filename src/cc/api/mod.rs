//! The CC's HTTP surface: CF's v2 REST API plus the UAA endpoints the cf
//! CLI logs in with. One file per resource; read-only routes come from the
//! resource declarations ([`collection`]); every error is an
//! [`ApiError`](crate::cc::error::ApiError) in CF's shape, unknown paths
//! included.

mod apps;
mod bits;
mod body;
mod buildpacks;
mod collection;
mod domains;
mod info;
mod instances;
mod jobs;
mod logs;
mod organizations;
mod routes;
mod spaces;
mod stacks;
mod uaa;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};

pub use apps::APPS;
use collection::{list, nested, show};
use domains::{PRIVATE_DOMAINS, SHARED_DOMAINS};
use organizations::ORGANIZATIONS;
use routes::{ROUTE_MAPPINGS, ROUTES};
use spaces::SPACES;

use crate::cc::Cc;
use crate::cc::error::ApiError;

pub fn router(cc: Cc) -> Router {
    let upload_limit = cc.config.max_upload_size as usize + 1024 * 1024;
    Router::new()
        .route("/", get(info::root))
        .route("/v2/info", get(info::v2_info))
        .route("/v3", get(info::v3_root))
        .route("/login", get(info::login_info))
        .route("/oauth/token", post(uaa::token))
        .route("/v2/apps", list(&APPS).post(apps::create))
        .route("/v2/apps/{guid}", show(&APPS).put(apps::update).delete(apps::delete))
        .route(
            "/v2/apps/{guid}/routes",
            nested(&APPS, "routes", &ROUTES, "guid IN (SELECT route_guid FROM route_mappings WHERE app_guid = ?)"),
        )
        .route("/v2/apps/{guid}/route_mappings", nested(&APPS, "route_mappings", &ROUTE_MAPPINGS, "app_guid = ?"))
        .route("/v2/apps/{app}/routes/{route}", put(apps::map_route).delete(apps::unmap_route))
        .route("/v2/apps/{guid}/bits", put(bits::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/v2/apps/{guid}/instances", get(instances::instances))
        .route("/v2/apps/{guid}/stats", get(instances::stats))
        .route("/v2/apps/{guid}/logs", get(logs::recent))
        .route("/v2/apps/{guid}/logs/stream", get(logs::stream))
        .route("/v2/resource_match", put(bits::resource_match))
        .route("/v2/jobs/{guid}", get(jobs::get))
        .route("/v2/routes", list(&ROUTES).post(routes::create))
        .route("/v2/routes/{guid}", show(&ROUTES).delete(routes::delete))
        .route(
            "/v2/routes/{guid}/apps",
            nested(&ROUTES, "apps", &APPS, "guid IN (SELECT app_guid FROM route_mappings WHERE route_guid = ?)"),
        )
        .route("/v2/routes/{route}/apps/{app}", put(routes::map_app).delete(routes::unmap_app))
        .route("/v2/routes/reserved/domain/{domain}", get(routes::reserved))
        .route("/v2/route_mappings", list(&ROUTE_MAPPINGS).post(routes::create_mapping))
        .route("/v2/route_mappings/{guid}", show(&ROUTE_MAPPINGS))
        .route("/v2/shared_domains", list(&SHARED_DOMAINS))
        .route("/v2/shared_domains/{guid}", show(&SHARED_DOMAINS))
        .route("/v2/private_domains", list(&PRIVATE_DOMAINS))
        .route("/v2/private_domains/{guid}", show(&PRIVATE_DOMAINS))
        .route("/v2/organizations", list(&ORGANIZATIONS))
        .route("/v2/organizations/{guid}", show(&ORGANIZATIONS))
        .route("/v2/organizations/{guid}/spaces", nested(&ORGANIZATIONS, "spaces", &SPACES, "organization_guid = ?"))
        .route(
            "/v2/organizations/{guid}/private_domains",
            nested(&ORGANIZATIONS, "private_domains", &PRIVATE_DOMAINS, "owning_organization_guid = ?"),
        )
        .route("/v2/spaces", list(&SPACES))
        .route("/v2/spaces/{guid}", show(&SPACES))
        .route("/v2/spaces/{guid}/apps", nested(&SPACES, "apps", &APPS, "space_guid = ?"))
        .route("/v2/spaces/{guid}/routes", nested(&SPACES, "routes", &ROUTES, "space_guid = ?"))
        .route("/v2/stacks", list(&stacks::STACKS))
        .route("/v2/stacks/{guid}", show(&stacks::STACKS))
        .route("/v2/buildpacks", list(&buildpacks::BUILDPACKS))
        .route("/v2/buildpacks/{guid}", show(&buildpacks::BUILDPACKS))
        .fallback(|| async { ApiError::not_found() })
        .with_state(cc)
}
