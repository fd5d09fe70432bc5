//! Apps: what a user pushed and how it should run (instances, memory,
//! disk, command, health check, state), and its package and droplet.

use super::resource::{Kind, Kind::*, Resource, ToOne, field, to_many};
use super::{EVENTS, ROUTE_MAPPINGS, ROUTES, SERVICE_BINDINGS, SPACES, STACKS};
use crate::cc::permissions::Visibility;

pub static APPS: Resource = Resource {
    table: "apps",
    path: "/v2/apps",
    fields: &[
        field("name", Text),
        field("production", Bool),
        field("buildpack", Text),
        field("detected_buildpack", Text),
        field("detected_buildpack_guid", Text),
        field("environment_json", Kind::Json),
        field("memory", Int),
        field("instances", Int),
        field("disk_quota", Int),
        field("state", Text),
        field("version", Text),
        field("command", Text),
        field("console", Const("false")),
        field("debug", Const("null")),
        field("staging_task_id", Text),
        field("package_state", Text),
        field("health_check_http_endpoint", Text),
        field("health_check_type", Text),
        field("health_check_timeout", Int),
        field("staging_failed_reason", Text),
        field("staging_failed_description", Text),
        field("diego", Const("false")),
        field("docker_image", Text),
        field("docker_credentials", Const(r#"{"username":null,"password":null}"#)),
        field("package_updated_at", Text),
        field("detected_start_command", Text),
        field("enable_ssh", Bool),
        field("ports", Const("null")),
    ],
    to_one: &[ToOne { name: "space", resource: &SPACES }, ToOne { name: "stack", resource: &STACKS }],
    to_many: &[
        to_many("routes", &ROUTES, "guid IN (SELECT route_guid FROM route_mappings WHERE app_guid = ?)"),
        to_many("events", &EVENTS, "actee = ?"),
        to_many("service_bindings", &SERVICE_BINDINGS, "app_guid = ?"),
        to_many("route_mappings", &ROUTE_MAPPINGS, "app_guid = ?"),
    ],
    not_found: "AppNotFound",
    filters: &["name", "space_guid", "stack_guid", "state", "package_state", "instances", "memory", "created_at"],
    scope: None,
    visibility: Visibility::InSpace("space_guid"),
};
