//! Organizations: the top of CF's tenancy, with their quota and members.

use super::resource::{Kind::*, Resource, ToOne, field, link, none_yet, to_many};
use super::{PRIVATE_DOMAINS, QUOTA_DEFINITIONS, SPACE_QUOTA_DEFINITIONS, SPACES, USERS};
use crate::cc::permissions::Visibility;

pub static ORGANIZATIONS: Resource = Resource {
    table: "organizations",
    path: "/v2/organizations",
    fields: &[
        field("name", Text),
        field("billing_enabled", Bool),
        field("status", Text),
        field("default_isolation_segment_guid", Const("null")),
    ],
    to_one: &[ToOne { name: "quota_definition", resource: &QUOTA_DEFINITIONS }],
    to_many: &[
        to_many("spaces", &SPACES, "organization_guid = ?"),
        link("domains"),
        to_many("private_domains", &PRIVATE_DOMAINS, "owning_organization_guid = ?"),
        to_many(
            "users",
            &USERS,
            "guid IN (SELECT user_guid FROM organization_roles WHERE organization_guid = ? AND role = 'users')",
        ),
        to_many(
            "managers",
            &USERS,
            "guid IN (SELECT user_guid FROM organization_roles WHERE organization_guid = ? AND role = 'managers')",
        ),
        to_many(
            "billing_managers",
            &USERS,
            "guid IN (SELECT user_guid FROM organization_roles WHERE organization_guid = ? AND role = 'billing_managers')",
        ),
        to_many(
            "auditors",
            &USERS,
            "guid IN (SELECT user_guid FROM organization_roles WHERE organization_guid = ? AND role = 'auditors')",
        ),
        none_yet("app_events"),
        to_many("space_quota_definitions", &SPACE_QUOTA_DEFINITIONS, "organization_guid = ?"),
    ],
    not_found: "OrganizationNotFound",
    filters: &["name", "status"],
    scope: None,
    visibility: Visibility::InOrg("guid"),
};
