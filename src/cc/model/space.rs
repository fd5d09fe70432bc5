//! Spaces: where apps, routes and service instances live, within an org.

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::resource::{Kind::*, Record, Resource, ToOne, field, link, none_yet, text_column, to_many};
use super::{
    ALL_SERVICE_INSTANCES, APPS, EVENTS, ORGANIZATIONS, ROUTES, SECURITY_GROUPS, SERVICES, SPACE_QUOTA_DEFINITIONS,
    USERS, metadata,
};
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::now;
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

impl Record for Space {
    const RESOURCE: &'static Resource = &SPACES;

    fn from_row(row: &AnyRow) -> Space {
        let text = |column: &str| text_column(row, column).unwrap_or_default();
        Space { guid: text("guid"), name: text("name"), organization_guid: text("organization_guid") }
    }
}

impl Space {
    /// Stores a space of `org`; a name the org has is SpaceNameTaken.
    pub async fn insert(db: &AnyPool, guid: &str, name: &str, org: &str) -> ApiResult<()> {
        sqlx::query("INSERT INTO spaces (guid, name, organization_guid, created_at) VALUES ($1, $2, $3, $4)")
            .bind(guid)
            .bind(name)
            .bind(org)
            .bind(now())
            .execute(db)
            .await
            .map_err(|e| taken_or(e, "SpaceNameTaken", name))?;
        Ok(())
    }

    /// The guids of an org's spaces.
    pub async fn guids_in_org(db: &AnyPool, org: &str) -> ApiResult<Vec<String>> {
        SPACES.guids_where(db, "organization_guid", org).await
    }

    /// The guids of a space's apps.
    pub async fn app_guids(db: &AnyPool, space: &str) -> ApiResult<Vec<String>> {
        APPS.guids_where(db, "space_guid", space).await
    }

    /// Deletes a space with its routes, their mappings, its roles and its
    /// metadata (its apps and route shares are the caller's to delete first).
    pub async fn delete(db: &AnyPool, guid: &str) -> ApiResult<()> {
        for statement in [
            "DELETE FROM route_mappings WHERE route_guid IN (SELECT guid FROM routes WHERE space_guid = $1)",
            "DELETE FROM routes WHERE space_guid = $1",
            "DELETE FROM space_roles WHERE space_guid = $1",
            "DELETE FROM spaces WHERE guid = $1",
        ] {
            sqlx::query(statement).bind(guid).execute(db).await?;
        }
        metadata::forget(db, guid).await
    }
}
