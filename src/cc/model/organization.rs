//! Organizations: the top of CF's tenancy, with their quota and members.

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::resource::{Kind::*, Record, Resource, ToOne, field, link, none_yet, text_column, to_many};
use super::{PRIVATE_DOMAINS, QUOTA_DEFINITIONS, SPACE_QUOTA_DEFINITIONS, SPACES, USERS, metadata};
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::now;
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

/// An org as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub guid: String,
    pub name: String,
    /// `active` or `suspended`.
    pub status: String,
    pub quota_definition_guid: String,
}

impl Record for Organization {
    const RESOURCE: &'static Resource = &ORGANIZATIONS;

    fn from_row(row: &AnyRow) -> Organization {
        let text = |column: &str| text_column(row, column).unwrap_or_default();
        Organization {
            guid: text("guid"),
            name: text("name"),
            status: text("status"),
            quota_definition_guid: text("quota_definition_guid"),
        }
    }
}

impl Organization {
    /// Stores an org on `quota`; a name taken is OrganizationNameTaken.
    pub async fn insert(db: &AnyPool, guid: &str, name: &str, status: &str, quota: &str) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO organizations (guid, name, status, quota_definition_guid, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(guid)
        .bind(name)
        .bind(status)
        .bind(quota)
        .bind(now())
        .execute(db)
        .await
        .map_err(|e| taken_or(e, "OrganizationNameTaken", name))?;
        Ok(())
    }

    /// Deletes an org with its private domains, roles and metadata (its
    /// spaces are the caller's to delete first).
    pub async fn delete(db: &AnyPool, guid: &str) -> ApiResult<()> {
        for statement in [
            "DELETE FROM domains WHERE owning_organization_guid = $1",
            "DELETE FROM organization_roles WHERE organization_guid = $1",
            "DELETE FROM organizations WHERE guid = $1",
        ] {
            sqlx::query(statement).bind(guid).execute(db).await?;
        }
        metadata::forget(db, guid).await
    }
}
