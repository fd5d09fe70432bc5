//! Quota definitions: what an org (or a space) may use in all.

use super::resource::{Kind::*, Resource, ToOne, field, to_many};
use super::{ORGANIZATIONS, SPACES};
use crate::cc::permissions::Visibility;

pub static QUOTA_DEFINITIONS: Resource = Resource {
    table: "quota_definitions",
    path: "/v2/quota_definitions",
    fields: &[
        field("name", Text),
        field("non_basic_services_allowed", Bool),
        field("total_services", Int),
        field("total_routes", Int),
        field("total_private_domains", Int),
        field("memory_limit", Int),
        field("trial_db_allowed", Bool),
        field("instance_memory_limit", Int),
        field("app_instance_limit", Int),
        field("app_task_limit", Int),
        field("total_service_keys", Int),
        field("total_reserved_route_ports", Int),
    ],
    to_one: &[],
    to_many: &[],
    not_found: "QuotaDefinitionNotFound",
    filters: &["name"],
    scope: None,
    visibility: Visibility::Everyone,
};

pub static SPACE_QUOTA_DEFINITIONS: Resource = Resource {
    table: "space_quota_definitions",
    path: "/v2/space_quota_definitions",
    fields: &[
        field("name", Text),
        field("non_basic_services_allowed", Bool),
        field("total_services", Int),
        field("total_routes", Int),
        field("memory_limit", Int),
        field("instance_memory_limit", Int),
        field("app_instance_limit", Int),
        field("app_task_limit", Int),
        field("total_service_keys", Int),
        field("total_reserved_route_ports", Int),
    ],
    to_one: &[ToOne { name: "organization", resource: &ORGANIZATIONS }],
    to_many: &[to_many("spaces", &SPACES, "space_quota_definition_guid = ?")],
    not_found: "SpaceQuotaDefinitionNotFound",
    filters: &["name", "organization_guid"],
    scope: None,
    visibility: Visibility::InOrg("organization_guid"),
};
