//! The v3 API's handlers. Reading any declared resource (list with
//! filters, pagination and `include`, and one by guid) comes from its
//! declaration ([`read_routes`]); the files here add what changes them.

mod apps;
mod body;
mod buildpacks;
mod deployments;
mod droplets;
mod feature_flags;
mod manifest;
mod packages;
mod processes;
mod quotas;
mod revisions;
mod root;
mod route_bindings;
mod route_shares;
mod routing;
mod security_groups;
mod service_brokers;
mod services;
mod tasks;
mod tenancy;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::routing::{get, post};

use body::Body;
use bytes::Bytes;
use serde_json::Value;

use crate::cc::Cc;
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::model::metadata;
use crate::cc::model::sql::Condition;
use crate::cc::v3::app::APPS;
use crate::cc::v3::audit_event::AUDIT_EVENTS;
use crate::cc::v3::build::BUILDS;
use crate::cc::v3::buildpack::BUILDPACKS;
use crate::cc::v3::credential_binding::SERVICE_CREDENTIAL_BINDINGS;
use crate::cc::v3::deployment::DEPLOYMENTS;
use crate::cc::v3::domain::DOMAINS;
use crate::cc::v3::droplet::DROPLETS;
use crate::cc::v3::organization::ORGANIZATIONS;
use crate::cc::v3::package::PACKAGES;
use crate::cc::v3::process::PROCESSES;
use crate::cc::v3::quota::{ORGANIZATION_QUOTAS, SPACE_QUOTAS};
use crate::cc::v3::resource::V3Resource;
use crate::cc::v3::revision::REVISIONS;
use crate::cc::v3::role::ROLES;
use crate::cc::v3::route::ROUTES;
use crate::cc::v3::route_binding::SERVICE_ROUTE_BINDINGS;
use crate::cc::v3::security_group::SECURITY_GROUPS;
use crate::cc::v3::service_broker::SERVICE_BROKERS;
use crate::cc::v3::service_instance::SERVICE_INSTANCES;
use crate::cc::v3::service_offering::SERVICE_OFFERINGS;
use crate::cc::v3::service_plan::SERVICE_PLANS;
use crate::cc::v3::space::SPACES;
use crate::cc::v3::stack::STACKS;
use crate::cc::v3::task::TASKS;
use crate::cc::v3::user::USERS;

pub fn routes(router: Router<Cc>, upload_limit: usize) -> Router<Cc> {
    let mut router = router
        .route("/v3", get(root::root))
        .route("/v3/jobs/{guid}", get(root::job))
        .route("/v3/isolation_segments", get(root::isolation_segments))
        .route("/v3/info/deas", get(root::deas))
        .route("/v3/info/health_manager", get(root::health_manager))
        .route("/v3/apps/{guid}/sidecars", get(root::no_sidecars))
        .route("/v3/processes/{guid}/sidecars", get(root::no_sidecars))
        .route("/v3/spaces/{guid}/relationships/isolation_segment", get(root::no_isolation_segment))
        .route("/v3/organizations/{guid}/relationships/default_isolation_segment", get(root::no_isolation_segment))
        .route("/v3/deployments", post(deployments::create).get(deployments::list))
        .route("/v3/deployments/{guid}/actions/cancel", post(deployments::cancel))
        .route("/v3/deployments/{guid}/actions/continue", post(deployments::continue_deployment))
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
        .route("/v3/apps/{guid}/features/{name}", get(apps::feature))
        .route("/v3/apps/{guid}/revisions/deployed", get(revisions::deployed))
        .route("/v3/revisions/{guid}/environment_variables", get(revisions::environment_variables))
        .route("/v3/apps/{guid}/tasks", post(tasks::create))
        .route("/v3/tasks/{guid}/actions/cancel", post(tasks::cancel))
        .route("/v3/tasks/{guid}/cancel", axum::routing::put(tasks::cancel))
        .route("/v3/apps/{guid}/processes", get(processes::of_app))
        .route("/v3/apps/{guid}/processes/{kind}", get(processes::show_of_app))
        .route("/v3/apps/{guid}/processes/{kind}/stats", get(processes::stats_of_app))
        .route("/v3/apps/{guid}/processes/{kind}/actions/scale", post(processes::scale_of_app))
        .route("/v3/processes/{guid}/actions/scale", post(processes::scale_process))
        .route("/v3/processes/{guid}/stats", get(processes::stats_of_process))
        .route("/v3/processes/{guid}/instances/{index}", axum::routing::delete(processes::restart_instance))
        .route(
            "/v3/apps/{guid}/processes/{kind}/instances/{index}",
            axum::routing::delete(processes::restart_instance_of_app),
        )
        .route("/v3/spaces/{guid}/actions/apply_manifest", post(manifest::apply))
        .route("/v3/spaces/{guid}/manifest_diff", post(manifest::diff))
        .route("/v3/apps/{guid}/manifest", get(manifest::of_app))
        .route("/v3/organizations", post(tenancy::create_org))
        .route("/v3/spaces", post(tenancy::create_space))
        .route("/v3/organizations/{guid}", axum::routing::patch(tenancy::rename_org).delete(tenancy::delete_org))
        .route("/v3/spaces/{guid}", axum::routing::patch(tenancy::rename_space).delete(tenancy::delete_space))
        .route("/v3/feature_flags", get(feature_flags::list))
        .route("/v3/feature_flags/{name}", get(feature_flags::get))
        .route(
            "/v3/environment_variable_groups/{group}",
            get(feature_flags::environment_variable_group).patch(feature_flags::update_environment_variable_group),
        )
        .route("/v3/organization_quotas", post(quotas::create_org_quota))
        .route(
            "/v3/organization_quotas/{guid}",
            axum::routing::patch(quotas::update_org_quota).delete(quotas::delete_org_quota),
        )
        .route("/v3/organization_quotas/{guid}/relationships/organizations", post(quotas::apply_org_quota))
        .route("/v3/space_quotas", post(quotas::create_space_quota))
        .route(
            "/v3/space_quotas/{guid}",
            axum::routing::patch(quotas::update_space_quota).delete(quotas::delete_space_quota),
        )
        .route("/v3/space_quotas/{guid}/relationships/spaces", post(quotas::apply_space_quota))
        .route("/v3/space_quotas/{guid}/relationships/spaces/{space}", axum::routing::delete(quotas::remove_space))
        .route("/v3/roles", post(tenancy::create_role))
        .route("/v3/users", post(tenancy::create_user))
        .route("/v3/users/{guid}", axum::routing::delete(tenancy::delete_user))
        .route("/v3/roles/{guid}", axum::routing::delete(tenancy::delete_role))
        .route("/v3/spaces/{guid}/features", get(tenancy::space_features))
        .route("/v3/spaces/{guid}/features/ssh", get(tenancy::space_features))
        .route("/v3/spaces/{guid}/{lifecycle}", get(tenancy::space_security_groups))
        .route("/v3/service_brokers", post(service_brokers::create))
        .route(
            "/v3/service_brokers/{guid}",
            axum::routing::patch(service_brokers::update).delete(service_brokers::delete),
        )
        .route(
            "/v3/service_plans/{guid}/visibility",
            get(service_brokers::visibility)
                .post(service_brokers::add_visibility)
                .patch(service_brokers::replace_visibility),
        )
        .route("/v3/service_plans/{guid}/visibility/{org}", axum::routing::delete(service_brokers::remove_org))
        .route("/v3/service_instances", post(services::create_instance))
        .route(
            "/v3/service_instances/{guid}",
            axum::routing::patch(services::update_instance).delete(services::delete_instance),
        )
        .route("/v3/service_credential_bindings", post(services::create_binding))
        .route("/v3/service_credential_bindings/{guid}", axum::routing::delete(services::delete_binding))
        .route("/v3/service_credential_bindings/{guid}/details", get(services::binding_details))
        .route("/v3/domains", post(routing::create_domain))
        .route("/v3/domains/{guid}", axum::routing::delete(routing::delete_domain))
        .route("/v3/domains/{guid}/route_reservations", get(routing::route_reservations))
        .route("/v3/buildpacks", post(buildpacks::create))
        .route("/v3/buildpacks/{guid}", axum::routing::patch(buildpacks::update).delete(buildpacks::delete))
        .route("/v3/buildpacks/{guid}/upload", post(buildpacks::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/v3/security_groups", post(security_groups::create))
        .route(
            "/v3/security_groups/{guid}",
            axum::routing::patch(security_groups::update).delete(security_groups::delete),
        )
        .route("/v3/security_groups/{guid}/relationships/{kind}", post(security_groups::bind_spaces))
        .route(
            "/v3/security_groups/{guid}/relationships/{kind}/{space}",
            axum::routing::delete(security_groups::unbind_space),
        )
        .route("/v3/resource_matches", post(packages::resource_matches))
        .route("/v3/packages", post(packages::create))
        .route("/v3/packages/{guid}/upload", post(packages::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/v3/builds", post(packages::create_build))
        .route("/v3/builds/{guid}", get(packages::show_build))
        .route(
            "/v3/apps/{guid}/relationships/current_droplet",
            get(packages::current_droplet_link).patch(packages::set_current_droplet),
        )
        .route("/v3/apps/{guid}/droplets/current", get(packages::show_current_droplet))
        .route("/v3/packages/{guid}/droplets", get(droplets::droplets_of_package))
        .route("/v3/droplets", post(droplets::create))
        .route("/v3/droplets/{guid}/upload", post(droplets::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/v3/droplets/{guid}/download", get(droplets::download_droplet))
        .route("/v3/organizations/{guid}/domains", get(routing::org_domains))
        .route("/v3/organizations/{guid}/domains/default", get(routing::default_domain))
        .route("/v3/apps/{guid}/routes", get(routing::app_routes))
        .route("/v3/routes", post(routing::create))
        .route("/v3/routes/{guid}", axum::routing::delete(routing::delete))
        .route("/v3/routes/{guid}/destinations", get(routing::list_destinations).post(routing::add_destinations))
        .route("/v3/routes/{guid}/relationships/shared_spaces", get(route_shares::list).post(route_shares::share))
        .route("/v3/routes/{guid}/relationships/shared_spaces/{space}", axum::routing::delete(route_shares::unshare))
        .route("/v3/routes/{guid}/relationships/space", axum::routing::patch(route_shares::move_to_space))
        .route("/v3/service_route_bindings", post(route_bindings::create))
        .route("/v3/service_route_bindings/{guid}", axum::routing::delete(route_bindings::delete))
        .route("/v3/routes/{guid}/destinations/{destination}", axum::routing::delete(routing::remove_destination));
    for resource in [&PACKAGES, &DROPLETS, &BUILDS, &TASKS, &REVISIONS] {
        router = of_app(router, resource);
    }
    for resource in [&PACKAGES, &DROPLETS, &BUILDS, &TASKS, &REVISIONS, &DEPLOYMENTS] {
        router = relabel_of_app(router, resource);
    }
    for resource in [
        &APPS,
        &AUDIT_EVENTS,
        &BUILDPACKS,
        &DOMAINS,
        &DROPLETS,
        &ORGANIZATIONS,
        &ORGANIZATION_QUOTAS,
        &PACKAGES,
        &REVISIONS,
        &ROLES,
        &ROUTES,
        &SECURITY_GROUPS,
        &SERVICE_BROKERS,
        &SERVICE_CREDENTIAL_BINDINGS,
        &SERVICE_INSTANCES,
        &SERVICE_OFFERINGS,
        &SERVICE_PLANS,
        &SERVICE_ROUTE_BINDINGS,
        &SPACES,
        &SPACE_QUOTAS,
        &STACKS,
        &TASKS,
        &USERS,
    ] {
        router = read_routes(router, resource);
    }
    router = router.route(
        "/v3/builds",
        get(|State(cc): State<Cc>, user: CurrentUser, RawQuery(query): RawQuery| async move {
            BUILDS.list(&cc, &user.user, query.as_deref(), vec![], BUILDS.path).await.map(Json)
        }),
    );
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

/// `GET /v3/apps/:guid/<plural>`: a page of the app's packages, droplets,
/// builds, tasks or revisions (rows whose `app_guid` is the app's).
fn of_app(router: Router<Cc>, resource: &'static V3Resource) -> Router<Cc> {
    router.route(
        &format!("/v3/apps/{{guid}}/{}", resource.plural),
        get(move |State(cc): State<Cc>, user: CurrentUser, Path(app): Path<String>, RawQuery(query): RawQuery| async move {
            APPS.find_for(&cc, &user.user, &app).await?;
            let path = format!("/v3/apps/{app}/{}", resource.plural);
            let fixed = vec![Condition::eq("app_guid", &app)];
            resource.list(&cc, &user.user, query.as_deref(), fixed, &path).await.map(Json)
        }),
    )
}

/// `PATCH <path>/:guid {"metadata": …}`: relabels one of an app's
/// packages, droplets, builds, tasks, revisions or deployments, for whoever
/// may change the app.
fn relabel_of_app(router: Router<Cc>, resource: &'static V3Resource) -> Router<Cc> {
    router.route(
        &format!("{}/{{guid}}", resource.path),
        axum::routing::patch(
            move |State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>, bytes: Bytes| async move {
                let body = Body::parse(&bytes, &["metadata"])?;
                writable_app(&cc, &user, &resource.model.app_of(&cc.db, &guid, &user.user).await?).await?;
                metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
                resource.show(&cc, &user.user, &guid, None).await.map(Json)
            },
        ),
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
