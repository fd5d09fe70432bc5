//! Organizations: the top of CF's tenancy (org → spaces → apps).

use crate::cc::resource::{Kind::*, Resource, field};

pub const ORGANIZATIONS: Resource = Resource {
    table: "organizations",
    path: "/v2/organizations",
    fields: &[
        field("name", Text),
        field("billing_enabled", Bool),
        field("quota_definition_guid", Const("null")),
        field("status", Text),
        field("default_isolation_segment_guid", Const("null")),
    ],
    to_one: &[],
    to_many: &[
        "spaces",
        "domains",
        "private_domains",
        "users",
        "managers",
        "billing_managers",
        "auditors",
        "app_events",
        "space_quota_definitions",
    ],
    not_found: "OrganizationNotFound",
    filters: &["name", "status"],
    scope: None,
};
