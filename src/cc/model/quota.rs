//! Quota definitions: what an org (or a space) may use in all.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::resource::{Kind::*, Record, Resource, ToOne, bool_column, field, text_column, to_many};
use super::{ORGANIZATIONS, SPACES};
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};
use crate::lifecycle::desired::EVERY_PROCESS;

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

/// A space quota: its name and the org whose managers define it (its
/// limits are read as [`QuotaLimits`] where they are enforced).
#[derive(Debug, Clone)]
pub struct SpaceQuota {
    pub guid: String,
    pub name: String,
    pub organization_guid: String,
}

impl Record for SpaceQuota {
    const RESOURCE: &'static Resource = &SPACE_QUOTA_DEFINITIONS;

    fn from_row(row: &AnyRow) -> SpaceQuota {
        let text = |column: &str| text_column(row, column).unwrap_or_default();
        SpaceQuota { guid: text("guid"), name: text("name"), organization_guid: text("organization_guid") }
    }
}

/// Stores a quota named `name` — an org quota, or with `org` a space
/// quota of that org — without limits yet; its guid, or `taken` (CF's
/// error name) when the name is.
pub async fn insert(db: &AnyPool, name: &str, org: Option<&str>, taken: &str) -> ApiResult<String> {
    let guid = new_guid();
    let inserted = match org {
        Some(org) => sqlx::query(
            "INSERT INTO space_quota_definitions (guid, name, organization_guid, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&guid)
        .bind(name)
        .bind(org)
        .bind(now())
        .execute(db)
        .await,
        None => {
            sqlx::query("INSERT INTO quota_definitions (guid, name, created_at) VALUES ($1, $2, $3)")
                .bind(&guid)
                .bind(name)
                .bind(now())
                .execute(db)
                .await
        }
    };
    inserted.map_err(|e| taken_or(e, taken, name))?;
    Ok(guid)
}

/// How many orgs have this org quota.
pub async fn orgs_using(db: &AnyPool, quota: &str) -> ApiResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE quota_definition_guid = $1")
        .bind(quota)
        .fetch_one(db)
        .await?)
}

/// Deletes an org quota (no org has it) or a space quota (its spaces
/// have none after).
pub async fn delete(db: &AnyPool, quotas: &Resource, quota: &str) -> ApiResult<()> {
    if std::ptr::eq(quotas, &SPACE_QUOTA_DEFINITIONS) {
        sqlx::query("UPDATE spaces SET space_quota_definition_guid = NULL WHERE space_quota_definition_guid = $1")
            .bind(quota)
            .execute(db)
            .await?;
    }
    quotas.delete(db, quota).await
}

/// Gives the org this quota; false when there is no such org.
pub async fn assign_to_org(db: &AnyPool, quota: &str, org: &str) -> ApiResult<bool> {
    let updated = sqlx::query("UPDATE organizations SET quota_definition_guid = $1 WHERE guid = $2")
        .bind(quota)
        .bind(org)
        .execute(db)
        .await?;
    Ok(updated.rows_affected() > 0)
}

/// Gives the space this space quota (None: none).
pub async fn assign_to_space(db: &AnyPool, space: &str, quota: Option<&str>) -> ApiResult<()> {
    sqlx::query("UPDATE spaces SET space_quota_definition_guid = $1 WHERE guid = $2")
        .bind(quota)
        .bind(space)
        .execute(db)
        .await?;
    Ok(())
}

/// Takes this space quota off the space, if the space has it.
pub async fn remove_from_space(db: &AnyPool, space: &str, quota: &str) -> ApiResult<()> {
    sqlx::query(
        "UPDATE spaces SET space_quota_definition_guid = NULL WHERE guid = $1 AND space_quota_definition_guid = $2",
    )
    .bind(space)
    .bind(quota)
    .execute(db)
    .await?;
    Ok(())
}

/// The quota new orgs get.
pub const DEFAULT_QUOTA: &str = "default";

/// The guid of the quota new orgs get.
pub async fn default_quota(db: &AnyPool) -> ApiResult<String> {
    let guid: Option<String> = sqlx::query_scalar("SELECT guid FROM quota_definitions WHERE name = $1")
        .bind(DEFAULT_QUOTA)
        .fetch_optional(db)
        .await?;
    guid.ok_or_else(|| ApiError::new("QuotaDefinitionNotFound", &[DEFAULT_QUOTA]))
}

/// Whose quota applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaOf {
    Org,
    Space,
}

/// One quota's limits, -1 where unlimited.
pub struct QuotaLimits {
    pub memory_limit: i64,
    pub instance_memory_limit: i64,
    pub app_instance_limit: i64,
    pub app_task_limit: i64,
    pub total_routes: i64,
    pub total_services: i64,
    pub non_basic_services_allowed: bool,
}

/// A quota that applies to a space — its org's, or its own — and what it
/// covers: the org's spaces, or the space.
pub struct AppliedQuota {
    pub of: QuotaOf,
    pub limits: QuotaLimits,
    /// The org's or the space's guid.
    owner: String,
}

impl AppliedQuota {
    /// The org's quota and (if it has one) the space's, in that order.
    pub async fn of_space(db: &AnyPool, space: &str) -> ApiResult<Vec<AppliedQuota>> {
        let row = sqlx::query(
            "SELECT s.organization_guid, s.space_quota_definition_guid, o.quota_definition_guid FROM spaces s \
             JOIN organizations o ON o.guid = s.organization_guid WHERE s.guid = $1",
        )
        .bind(space)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| ApiError::new("SpaceNotFound", &[space]))?;
        let org: String = row.try_get(0).unwrap_or_default();
        let sources = [
            (row.try_get::<Option<String>, _>(2).ok().flatten(), QuotaOf::Org, org),
            (row.try_get::<Option<String>, _>(1).ok().flatten(), QuotaOf::Space, space.to_string()),
        ];
        let mut found = Vec::new();
        for (guid, of, owner) in sources {
            let Some(guid) = guid else { continue };
            let table = if of == QuotaOf::Org { "quota_definitions" } else { "space_quota_definitions" };
            let sql = format!(
                "SELECT memory_limit, instance_memory_limit, app_instance_limit, total_routes, total_services, \
                 non_basic_services_allowed, app_task_limit FROM {table} WHERE guid = $1"
            );
            if let Some(q) = sqlx::query(&sql).bind(&guid).fetch_optional(db).await? {
                let get = |i: usize| q.try_get::<i64, _>(i).unwrap_or(-1);
                let limits = QuotaLimits {
                    memory_limit: get(0),
                    instance_memory_limit: get(1),
                    app_instance_limit: get(2),
                    app_task_limit: get(6),
                    total_routes: get(3),
                    total_services: get(4),
                    non_basic_services_allowed: bool_column(&q, "non_basic_services_allowed").unwrap_or(true),
                };
                found.push(AppliedQuota { of, limits, owner });
            }
        }
        Ok(found)
    }

    /// The SQL condition (on `space_guid`, `$1` the owner) of what it covers.
    pub fn scope(&self) -> &'static str {
        match self.of {
            QuotaOf::Org => "space_guid IN (SELECT guid FROM spaces WHERE organization_guid = $1)",
            QuotaOf::Space => "space_guid = $1",
        }
    }

    /// The org's or the space's guid (`$1` of [`Self::scope`]).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Memory (MB) and instances of the STARTED processes it covers, but
    /// the process `except`.
    pub async fn started_usage(&self, db: &AnyPool, except: Option<&str>) -> ApiResult<(i64, i64)> {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(memory * instances), 0) AS BIGINT), CAST(COALESCE(SUM(instances), 0) AS BIGINT) \
             FROM {EVERY_PROCESS} WHERE state = 'STARTED' AND guid <> $2 AND {}",
            self.scope()
        );
        let usage = sqlx::query(&sql).bind(&self.owner).bind(except.unwrap_or("")).fetch_one(db).await?;
        Ok((usage.try_get::<i64, _>(0).unwrap_or(0), usage.try_get::<i64, _>(1).unwrap_or(0)))
    }

    /// How many routes it covers.
    pub async fn routes(&self, db: &AnyPool) -> ApiResult<i64> {
        let sql = format!("SELECT COUNT(*) FROM routes WHERE {}", self.scope());
        Ok(sqlx::query_scalar(&sql).bind(&self.owner).fetch_one(db).await?)
    }

    /// How many brokered service instances it covers.
    pub async fn managed_service_instances(&self, db: &AnyPool) -> ApiResult<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM service_instances WHERE type = 'managed_service_instance' AND {}",
            self.scope()
        );
        Ok(sqlx::query_scalar(&sql).bind(&self.owner).fetch_one(db).await?)
    }
}

/// (quota guid, org guid) of every org, or (space quota guid, space guid)
/// of every space with a quota of its own (`of`).
pub async fn applied_to(db: &AnyPool, of: QuotaOf) -> ApiResult<Vec<(String, String)>> {
    let sql = match of {
        QuotaOf::Org => "SELECT quota_definition_guid, guid FROM organizations WHERE quota_definition_guid IS NOT NULL",
        QuotaOf::Space => {
            "SELECT space_quota_definition_guid, guid FROM spaces WHERE space_quota_definition_guid IS NOT NULL"
        }
    };
    let rows = sqlx::query(sql).fetch_all(db).await?;
    rows.iter().map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?))).collect()
}
