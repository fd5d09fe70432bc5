//! Spaces: where apps, routes and service instances live, within an org.

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::resource::{Kind::*, Resource, ToOne, field, link, none_yet, text_column, to_many};
use super::{
    ALL_SERVICE_INSTANCES, APPS, EVENTS, ORGANIZATIONS, ROUTES, SECURITY_GROUPS, SERVICES, SPACE_QUOTA_DEFINITIONS,
    USERS,
};
use crate::cc::error::ApiResult;
use crate::cc::permissions::Visibility;

pub static SPACES: Resource = Resource {
    table: "spaces",
    path: "/v2/spaces",
    fields: &[field("name", Text), field("allow_ssh", Bool), field("isolation_segment_guid", Const("null"))],
    to_one: &[
        ToOne { name: "organization", resource: &ORGANIZATIONS },
        ToOne { name: "space_quota_definition", resource: &SPACE_QUOTA_DEFINITIONS },
    ],
    to_many: &[
        to_many(
            "developers",
            &USERS,
            "guid IN (SELECT user_guid FROM space_roles WHERE space_guid = ? AND role = 'developers')",
        ),
        to_many(
            "managers",
            &USERS,
            "guid IN (SELECT user_guid FROM space_roles WHERE space_guid = ? AND role = 'managers')",
        ),
        to_many(
            "auditors",
            &USERS,
            "guid IN (SELECT user_guid FROM space_roles WHERE space_guid = ? AND role = 'auditors')",
        ),
        to_many("apps", &APPS, "space_guid = ?"),
        to_many("routes", &ROUTES, "space_guid = ?"),
        link("domains"),
        to_many("service_instances", &ALL_SERVICE_INSTANCES, "space_guid = ?"),
        // What `cf marketplace` lists: services of platform-wide brokers and
        // of brokers scoped to this space.
        to_many(
            "services",
            &SERVICES,
            "service_broker_guid IN (SELECT guid FROM service_brokers WHERE space_guid IS NULL OR space_guid = ?)",
        ),
        none_yet("app_events"),
        to_many("events", &EVENTS, "space_guid = ?"),
        to_many(
            "security_groups",
            &SECURITY_GROUPS,
            "guid IN (SELECT security_group_guid FROM security_group_spaces WHERE space_guid = ?)",
        ),
        to_many(
            "staging_security_groups",
            &SECURITY_GROUPS,
            "guid IN (SELECT security_group_guid FROM staging_security_group_spaces WHERE space_guid = ?)",
        ),
    ],
    not_found: "SpaceNotFound",
    filters: &["name", "organization_guid"],
    scope: None,
    visibility: Visibility::InSpace("guid"),
};

/// A space as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub guid: String,
    pub name: String,
    pub organization_guid: String,
}

impl Space {
    /// The space by guid, or SpaceNotFound.
    pub async fn find(db: &AnyPool, guid: &str) -> ApiResult<Space> {
        Ok(Space::from_row(&SPACES.find(db, guid).await?))
    }

    pub fn from_row(row: &AnyRow) -> Space {
        let text = |column: &str| text_column(row, column).unwrap_or_default();
        Space { guid: text("guid"), name: text("name"), organization_guid: text("organization_guid") }
    }
}
