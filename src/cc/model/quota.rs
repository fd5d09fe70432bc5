//! Quota definitions: what an org (or a space) may use in all.

use sqlx::AnyPool;

use super::resource::{Kind::*, Resource, ToOne, field, to_many};
use super::{ORGANIZATIONS, SPACES};
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

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
