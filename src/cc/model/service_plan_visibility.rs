//! Which orgs may use a plan that is not public.

use sqlx::AnyPool;

use super::resource::{Resource, ToOne, text_column};
use super::{ORGANIZATIONS, SERVICE_PLANS};
use crate::cc::error::ApiResult;
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
