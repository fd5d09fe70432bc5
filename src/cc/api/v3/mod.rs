//! The v3 API's handlers. Reading any declared resource (list with
//! filters, pagination and `include`, and one by guid) comes from its
//! declaration ([`read_routes`]); the files here add what changes them.

mod apps;
mod body;
mod deployments;
mod processes;
mod root;

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::v3::app::APPS;
use crate::cc::v3::domain::DOMAINS;
use crate::cc::v3::organization::ORGANIZATIONS;
use crate::cc::v3::process::PROCESSES;
use crate::cc::v3::resource::V3Resource;
use crate::cc::v3::route::ROUTES;
use crate::cc::v3::space::SPACES;
use crate::cc::v3::stack::STACKS;

pub fn routes(router: Router<Cc>) -> Router<Cc> {
    let mut router = router
        .route("/v3", get(root::root))
        .route("/v3/jobs/{guid}", get(root::job))
        .route("/v3/isolation_segments", get(root::isolation_segments))
        .route("/v3/spaces/{guid}/relationships/isolation_segment", get(root::no_isolation_segment))
        .route("/v3/organizations/{guid}/relationships/default_isolation_segment", get(root::no_isolation_segment))
        .route("/v3/deployments", post(deployments::create))
        .route("/v3/deployments/{guid}", get(deployments::show))
        .route("/v3/apps", post(apps::create))
        .route("/v3/apps/{guid}", axum::routing::patch(apps::update).delete(apps::delete))
        .route("/v3/apps/{guid}/actions/{action}", post(apps::action))
        .route("/v3/apps/{guid}/env", get(apps::env))
        .route(
            "/v3/apps/{guid}/environment_variables",
            get(apps::get_environment_variables).patch(apps::update_environment_variables),
        )
        .route("/v3/apps/{guid}/ssh_enabled", get(apps::ssh_enabled))
        .route("/v3/apps/{guid}/features", get(apps::features))
        .route("/v3/apps/{guid}/processes", get(processes::of_app))
        .route("/v3/apps/{guid}/processes/{kind}", get(processes::show_of_app))
        .route("/v3/apps/{guid}/processes/{kind}/stats", get(processes::stats_of_app))
        .route("/v3/apps/{guid}/processes/{kind}/actions/scale", post(processes::scale_of_app))
        .route("/v3/processes/{guid}/actions/scale", post(processes::scale_process))
        .route("/v3/processes/{guid}/stats", get(processes::stats_of_process));
    for resource in [&APPS, &DOMAINS, &ORGANIZATIONS, &ROUTES, &SPACES, &STACKS] {
        router = read_routes(router, resource);
    }
    router.route(
        "/v3/processes/{guid}",
        get(|State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>, RawQuery(query): RawQuery| async move {
            PROCESSES.show(&cc, &user.user, &guid, query.as_deref()).await.map(Json)
        })
        .patch(processes::update),
    ).route(
        "/v3/processes",
        get(|State(cc): State<Cc>, user: CurrentUser, RawQuery(query): RawQuery| async move {
            PROCESSES.list(&cc, &user.user, query.as_deref(), vec![], PROCESSES.path).await.map(Json)
        }),
    )
}

/// `GET <path>` (a page of what the user sees) and `GET <path>/{guid}`.
fn read_routes(router: Router<Cc>, resource: &'static V3Resource) -> Router<Cc> {
    router
        .route(
            resource.path,
            get(move |State(cc): State<Cc>, user: CurrentUser, RawQuery(query): RawQuery| async move {
                resource.list(&cc, &user.user, query.as_deref(), vec![], resource.path).await.map(Json)
            }),
        )
        .route(
            &format!("{}/{{guid}}", resource.path),
            get(move |State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>, RawQuery(query): RawQuery| async move {
                resource.show(&cc, &user.user, &guid, query.as_deref()).await.map(Json)
            }),
        )
}
