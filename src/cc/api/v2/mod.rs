//! The v2 API's handlers: one file per resource. Reading any declared
//! resource (list, one member, each served to-many relation) comes from
//! its declaration ([`collection`]); the files here add what changes
//! resources, and v2's own documents (summaries, stats, logs, jobs).

mod app_actions;
mod apps;
mod bits;
mod body;
mod buildpacks;
mod collection;
mod domains;
mod feature_flags;
mod instances;
pub(super) mod jobs;
mod logs;
mod organizations;
mod quotas;
mod roles;
mod route_bindings;
mod routes;
mod security_groups;
mod service_access;
mod service_brokers;
mod service_instances;
mod service_keys;
mod services;
mod spaces;
mod summary;
mod users;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::{get, post, put};

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::model::{
    ALL_SERVICE_INSTANCES, APPS, BUILDPACKS, EVENTS, ORGANIZATIONS, PRIVATE_DOMAINS, QUOTA_DEFINITIONS, ROUTE_MAPPINGS,
    ROUTES, SECURITY_GROUPS, SERVICE_BINDINGS, SERVICE_BROKERS, SERVICE_INSTANCES, SERVICE_KEYS,
    SERVICE_PLAN_VISIBILITIES, SERVICE_PLANS, SERVICES, SHARED_DOMAINS, SPACE_QUOTA_DEFINITIONS, SPACES, STACKS,
    USER_PROVIDED_SERVICE_INSTANCES, USERS,
};

/// Adds every `/v2` route; uploads may be `upload_limit` bytes.
pub fn routes(router: Router<Cc>, upload_limit: usize) -> Router<Cc> {
    let mut router = router
        .route("/v2/config/feature_flags", get(feature_flags::list))
        .route("/v2/config/{kind}", get(security_groups::defaults))
        .route("/v2/config/{kind}/{guid}", put(security_groups::add_default).delete(security_groups::remove_default))
        .route("/v2/user_provided_service_instances", post(services::create_instance))
        .route(
            "/v2/user_provided_service_instances/{guid}",
            put(services::update_instance).delete(services::delete_instance),
        )
        .route("/v2/service_instances", post(service_instances::create))
        // cf delete-service deletes user-provided instances here too.
        .route("/v2/service_instances/{guid}", put(service_instances::update).delete(service_instances::delete))
        .route("/v2/service_instances/{guid}/routes/{route}", put(route_bindings::bind).delete(route_bindings::unbind))
        .route(
            "/v2/user_provided_service_instances/{guid}/routes/{route}",
            put(route_bindings::bind).delete(route_bindings::unbind),
        )
        .route("/v2/service_keys", post(service_keys::create))
        .route("/v2/service_keys/{guid}", axum::routing::delete(service_keys::delete))
        .route("/v2/service_bindings", post(services::create_binding))
        .route("/v2/service_bindings/{guid}", axum::routing::delete(services::delete_binding))
        .route("/v2/service_brokers", post(service_brokers::create))
        .route("/v2/service_brokers/{guid}", put(service_brokers::update).delete(service_brokers::delete))
        .route("/v2/service_plans/{guid}", put(service_access::update_plan))
        .route("/v2/service_plan_visibilities", post(service_access::create))
        .route("/v2/service_plan_visibilities/{guid}", axum::routing::delete(service_access::delete))
        .route("/v2/security_groups", post(security_groups::create))
        .route("/v2/security_groups/{guid}", put(security_groups::update).delete(security_groups::delete))
        .route(
            "/v2/security_groups/{guid}/{kind}/{space}",
            put(security_groups::bind_space).delete(security_groups::unbind_space),
        )
        .route("/v2/config/feature_flags/{name}", get(feature_flags::get))
        .route(
            "/v2/config/environment_variable_groups/{group}",
            get(feature_flags::environment_variable_group).put(feature_flags::set_environment_variable_group),
        )
        .route("/v2/apps", post(apps::create))
        .route("/v2/apps/{guid}", put(apps::update).delete(apps::delete))
        .route("/v2/apps/{app}/routes/{route}", put(apps::map_route).delete(apps::unmap_route))
        .route("/v2/apps/{guid}/bits", put(bits::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/v2/apps/{guid}/instances", get(instances::instances))
        .route("/v2/apps/{guid}/stats", get(instances::stats))
        .route("/v2/apps/{guid}/crashes", get(instances::crashes))
        .route("/v2/apps/{guid}/instances/{index}", axum::routing::delete(instances::restart))
        .route("/v2/apps/{guid}/instances/{index}/files", get(instances::files))
        .route("/v2/apps/{guid}/instances/{index}/files/{*path}", get(instances::files))
        .route("/v2/apps/{guid}/summary", get(summary::app))
        .route("/v2/apps/{guid}/env", get(app_actions::env))
        .route("/v2/apps/{guid}/restage", post(app_actions::restage))
        .route("/v2/apps/{guid}/download", get(app_actions::download))
        .route("/v2/apps/{guid}/droplet/download", get(app_actions::droplet_download))
        .route("/v2/spaces/{guid}/summary", get(summary::space))
        .route("/v2/apps/{guid}/logs", get(logs::recent))
        .route("/v2/apps/{guid}/logs/stream", get(logs::stream))
        .route("/v2/resource_match", put(bits::resource_match))
        .route("/v2/jobs/{guid}", get(jobs::get))
        .route("/v2/routes", post(routes::create))
        .route("/v2/routes/{guid}", axum::routing::delete(routes::delete))
        .route("/v2/routes/{route}/apps/{app}", put(routes::map_app).delete(routes::unmap_app))
        .route("/v2/routes/reserved/domain/{domain}", get(routes::reserved))
        .route("/v2/route_mappings", post(routes::create_mapping))
        .route("/v2/organizations", post(organizations::create))
        .route("/v2/organizations/{guid}", put(organizations::update).delete(organizations::delete))
        .route("/v2/organizations/{guid}/{role}/{user}", put(roles::add_org_role).delete(roles::remove_org_role))
        .route("/v2/spaces", post(spaces::create))
        .route("/v2/spaces/{guid}", put(spaces::update).delete(spaces::delete))
        .route("/v2/spaces/{guid}/{role}/{user}", put(roles::add_space_role).delete(roles::remove_space_role))
        .route("/v2/users", post(users::create))
        .route("/v2/users/{guid}", axum::routing::delete(users::delete))
        .route("/v2/users/{user}/{relation}/{target}", put(roles::add_from_user).delete(roles::remove_from_user))
        .route("/v2/shared_domains", post(domains::create_shared))
        .route("/v2/shared_domains/{guid}", axum::routing::delete(domains::delete_shared))
        .route("/v2/private_domains", post(domains::create_private))
        .route("/v2/private_domains/{guid}", axum::routing::delete(domains::delete_private))
        .route("/v2/quota_definitions", post(quotas::create_org_quota))
        .route("/v2/quota_definitions/{guid}", put(quotas::update_org_quota).delete(quotas::delete_org_quota))
        .route("/v2/space_quota_definitions", post(quotas::create_space_quota))
        .route("/v2/space_quota_definitions/{guid}", put(quotas::update_space_quota).delete(quotas::delete_space_quota))
        .route(
            "/v2/space_quota_definitions/{quota}/spaces/{space}",
            put(quotas::add_space).delete(quotas::remove_space),
        )
        .route("/v2/buildpacks", post(buildpacks::create))
        .route("/v2/buildpacks/{guid}", put(buildpacks::update).delete(buildpacks::delete))
        .route("/v2/buildpacks/{guid}/bits", put(buildpacks::upload).layer(DefaultBodyLimit::max(upload_limit)));
    for resource in [
        &APPS,
        &ROUTES,
        &ROUTE_MAPPINGS,
        &SHARED_DOMAINS,
        &PRIVATE_DOMAINS,
        &ORGANIZATIONS,
        &SPACES,
        &STACKS,
        &BUILDPACKS,
        &USERS,
        &EVENTS,
        &QUOTA_DEFINITIONS,
        &SPACE_QUOTA_DEFINITIONS,
        &SECURITY_GROUPS,
        &USER_PROVIDED_SERVICE_INSTANCES,
        &SERVICE_BINDINGS,
        &SERVICE_KEYS,
        &SERVICE_BROKERS,
        &SERVICES,
        &SERVICE_PLANS,
        &SERVICE_PLAN_VISIBILITIES,
    ] {
        router = collection::routes(router, resource);
    }
    router = collection::routes_with_members(router, &SERVICE_INSTANCES, &ALL_SERVICE_INSTANCES);
    for role in crate::cc::membership::ORG_ROLES {
        let by_name = move |State(cc): State<Cc>, user: CurrentUser, Path(org): Path<String>, body: Bytes| {
            roles::add_org_role_by_name(cc, user, org, role, body)
        };
        router = router.route(&format!("/v2/organizations/{{guid}}/{role}"), put(by_name));
    }
    for role in crate::cc::membership::SPACE_ROLES {
        let by_name = move |State(cc): State<Cc>, user: CurrentUser, Path(space): Path<String>, body: Bytes| {
            roles::add_space_role_by_name(cc, user, space, role, body)
        };
        router = router.route(&format!("/v2/spaces/{{guid}}/{role}"), put(by_name));
    }
    router
}
