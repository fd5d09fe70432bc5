//! Users, as the CC knows them (their logins are the UAA's).

use super::resource::{Kind::*, Resource, field, to_many};
use super::{ORGANIZATIONS, SPACES};
use crate::cc::permissions::Visibility;

pub static USERS: Resource = Resource {
    table: "users",
    path: "/v2/users",
    fields: &[
        field("admin", Bool),
        field("active", Bool),
        field("default_space_guid", Const("null")),
        field("username", Text),
    ],
    to_one: &[],
    to_many: &[
        to_many(
            "spaces",
            &SPACES,
            "guid IN (SELECT space_guid FROM space_roles WHERE user_guid = ? AND role = 'developers')",
        ),
        to_many(
            "organizations",
            &ORGANIZATIONS,
            "guid IN (SELECT organization_guid FROM organization_roles WHERE user_guid = ? AND role = 'users')",
        ),
        to_many(
            "managed_organizations",
            &ORGANIZATIONS,
            "guid IN (SELECT organization_guid FROM organization_roles WHERE user_guid = ? AND role = 'managers')",
        ),
        to_many(
            "billing_managed_organizations",
            &ORGANIZATIONS,
            "guid IN (SELECT organization_guid FROM organization_roles WHERE user_guid = ? AND role = 'billing_managers')",
        ),
        to_many(
            "audited_organizations",
            &ORGANIZATIONS,
            "guid IN (SELECT organization_guid FROM organization_roles WHERE user_guid = ? AND role = 'auditors')",
        ),
        to_many(
            "managed_spaces",
            &SPACES,
            "guid IN (SELECT space_guid FROM space_roles WHERE user_guid = ? AND role = 'managers')",
        ),
        to_many(
            "audited_spaces",
            &SPACES,
            "guid IN (SELECT space_guid FROM space_roles WHERE user_guid = ? AND role = 'auditors')",
        ),
    ],
    not_found: "UserNotFound",
    filters: &["username"],
    scope: None,
    visibility: Visibility::Colleagues,
};
