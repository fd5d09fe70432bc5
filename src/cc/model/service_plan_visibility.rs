//! Which orgs may use a plan that is not public.

use sqlx::AnyPool;

use super::resource::{Resource, ToOne, bool_column, text_column};
use super::{ORGANIZATIONS, SERVICE_PLANS};
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::now;
use crate::cc::permissions::Visibility;

pub static SERVICE_PLAN_VISIBILITIES: Resource = Resource {
    table: "service_plan_visibilities",
    path: "/v2/service_plan_visibilities",
    fields: &[],
    to_one: &[
        ToOne { name: "service_plan", resource: &SERVICE_PLANS },
        ToOne { name: "organization", resource: &ORGANIZATIONS },
    ],
    to_many: &[],
    not_found: "ServicePlanVisibilityNotFound",
    filters: &["service_plan_guid", "organization_guid"],
    scope: None,
    visibility: Visibility::InOrg("organization_guid"),
};

/// The orgs a plan is visible to (guid, name), by name.
pub async fn orgs_of_plan(db: &AnyPool, plan: &str) -> ApiResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT o.guid, o.name FROM service_plan_visibilities v JOIN organizations o ON o.guid = v.organization_guid \
         WHERE v.service_plan_guid = $1 ORDER BY o.name",
    )
    .bind(plan)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|o| (text_column(o, "guid").unwrap_or_default(), text_column(o, "name").unwrap_or_default()))
        .collect())
}

/// Makes a plan visible to an org under `guid`;
/// ServicePlanVisibilityAlreadyExists if it is.
pub async fn insert(db: &AnyPool, guid: &str, plan: &str, org: &str) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO service_plan_visibilities (guid, service_plan_guid, organization_guid, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(guid)
    .bind(plan)
    .bind(org)
    .bind(now())
    .execute(db)
    .await
    .map_err(|e| taken_or(e, "ServicePlanVisibilityAlreadyExists", plan))?;
    Ok(())
}

/// Hides a plan from an org, or from every org (None).
pub async fn delete(db: &AnyPool, plan: &str, org: Option<&str>) -> ApiResult<()> {
    let query = match org {
        Some(org) => {
            sqlx::query("DELETE FROM service_plan_visibilities WHERE service_plan_guid = $1 AND organization_guid = $2")
                .bind(plan)
                .bind(org)
        }
        None => sqlx::query("DELETE FROM service_plan_visibilities WHERE service_plan_guid = $1").bind(plan),
    };
    query.execute(db).await?;
    Ok(())
}

/// Whether the plan is public (ServicePlanNotFound if there is none).
pub async fn is_public(db: &AnyPool, plan: &str) -> ApiResult<bool> {
    Ok(bool_column(&SERVICE_PLANS.find(db, plan).await?, "public").unwrap_or(false))
}

/// Makes a plan public, or not.
pub async fn set_public(db: &AnyPool, plan: &str, public: bool) -> ApiResult<()> {
    sqlx::query("UPDATE service_plans SET public = $1, updated_at = $2 WHERE guid = $3")
        .bind(public)
        .bind(now())
        .bind(plan)
        .execute(db)
        .await?;
    Ok(())
}

/// Makes every plan of the broker at `url` public.
pub async fn publish_broker_plans(db: &AnyPool, url: &str) -> ApiResult<()> {
    sqlx::query(
        "UPDATE service_plans SET public = TRUE WHERE service_guid IN (SELECT s.guid FROM services s \
         JOIN service_brokers b ON b.guid = s.service_broker_guid WHERE b.broker_url = $1)",
    )
    .bind(url)
    .execute(db)
    .await?;
    Ok(())
}
