//! Spaces: where apps, routes and services live, inside an organization.

use crate::cc::resource::{Kind::*, Resource, ToOne, field};

pub const SPACES: Resource = Resource {
    table: "spaces",
    path: "/v2/spaces",
    fields: &[
        field("name", Text),
        field("allow_ssh", Bool),
        field("space_quota_definition_guid", Const("null")),
        field("isolation_segment_guid", Const("null")),
    ],
    to_one: &[ToOne { name: "organization", path: "/v2/organizations" }],
    to_many: &[
        "developers",
        "managers",
        "auditors",
        "apps",
        "routes",
        "domains",
        "service_instances",
        "app_events",
        "events",
        "security_groups",
        "staging_security_groups",
    ],
    not_found: "SpaceNotFound",
    filters: &["name", "organization_guid"],
    scope: None,
};
