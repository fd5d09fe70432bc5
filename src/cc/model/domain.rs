//! Domains routes are made under: shared ones (every org's) and private
//! ones (an org's own), one table.

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::ORGANIZATIONS;
use super::resource::{Kind::*, Record, Resource, ToOne, field, link, text_column};
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::now;
use crate::cc::permissions::Visibility;

/// Any domain, shared or private (for lookups by guid).
pub static DOMAINS: Resource = Resource {
    table: "domains",
    path: "/v2/domains",
    fields: &[field("name", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "DomainNotFound",
    filters: &["name"],
    scope: None,
    visibility: Visibility::Everyone,
};

pub static SHARED_DOMAINS: Resource = Resource {
    table: "domains",
    path: "/v2/shared_domains",
    fields: &[
        field("name", Text),
        field("internal", Const("false")),
        field("router_group_guid", Const("null")),
        field("router_group_type", Const("null")),
    ],
    to_one: &[],
    to_many: &[],
    not_found: "DomainNotFound",
    filters: &["name"],
    scope: Some("owning_organization_guid IS NULL"),
    visibility: Visibility::Everyone,
};

pub static PRIVATE_DOMAINS: Resource = Resource {
    table: "domains",
    path: "/v2/private_domains",
    fields: &[field("name", Text)],
    to_one: &[ToOne { name: "owning_organization", resource: &ORGANIZATIONS }],
    to_many: &[link("shared_organizations")],
    not_found: "DomainNotFound",
    filters: &["name"],
    scope: Some("owning_organization_guid IS NOT NULL"),
    visibility: Visibility::InOrg("owning_organization_guid"),
};

/// A domain as stored.
#[derive(Debug, Clone)]
pub struct Domain {
    pub guid: String,
    pub name: String,
    /// The org a private domain is of; None for a shared one.
    pub owning_organization_guid: Option<String>,
}

impl Record for Domain {
    const RESOURCE: &'static Resource = &DOMAINS;

    fn from_row(row: &AnyRow) -> Domain {
        Domain {
            guid: text_column(row, "guid").unwrap_or_default(),
            name: text_column(row, "name").unwrap_or_default(),
            owning_organization_guid: text_column(row, "owning_organization_guid"),
        }
    }
}

/// The domains apps of a space may use: the shared ones, then its org's
/// private ones, oldest first.
pub async fn usable_in_space(db: &AnyPool, space: &str) -> ApiResult<Vec<Domain>> {
    let rows = sqlx::query(
        "SELECT guid, name, owning_organization_guid FROM domains WHERE owning_organization_guid IS NULL \
         OR owning_organization_guid = (SELECT organization_guid FROM spaces WHERE guid = $1) ORDER BY id",
    )
    .bind(space)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().map(Domain::from_row).collect())
}

/// The domains an org's routes may be made under: the shared ones, then
/// its private ones, each oldest first.
pub async fn usable_in_org(db: &AnyPool, org: &str) -> ApiResult<Vec<Domain>> {
    let rows = sqlx::query(
        "SELECT guid, name, owning_organization_guid FROM domains WHERE owning_organization_guid IS NULL \
         OR owning_organization_guid = $1 ORDER BY owning_organization_guid IS NOT NULL, id",
    )
    .bind(org)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().map(Domain::from_row).collect())
}

/// Stores a domain, private to `owner` or shared (None); DomainNameTaken
/// if there is one of that name.
pub async fn insert(db: &AnyPool, guid: &str, name: &str, owner: Option<&str>) -> ApiResult<()> {
    sqlx::query("INSERT INTO domains (guid, name, owning_organization_guid, created_at) VALUES ($1, $2, $3, $4)")
        .bind(guid)
        .bind(name)
        .bind(owner)
        .bind(now())
        .execute(db)
        .await
        .map_err(|e| taken_or(e, "DomainNameTaken", name))?;
    Ok(())
}

/// How many routes are made under the domain.
pub async fn route_count(db: &AnyPool, guid: &str) -> ApiResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM routes WHERE domain_guid = $1").bind(guid).fetch_one(db).await?)
}
