//! Quota enforcement, as CF checks it when an app is created, scaled,
//! resized or started, when a route is created and when a brokered service
//! instance is created or changes plan: the org's quota
//! definition and, when the space has one, the space's. Usage counts the
//! processes of the apps that are STARTED; -1 means unlimited.

use sqlx::{AnyPool, Row};

use super::error::{ApiError, ApiResult};
use super::model::task::Task;
use crate::lifecycle::desired::EVERY_PROCESS;

pub const DEFAULT_QUOTA: &str = "default";

/// The guid of the quota new orgs get.
pub async fn default_quota(db: &AnyPool) -> ApiResult<String> {
    let guid: Option<String> = sqlx::query_scalar("SELECT guid FROM quota_definitions WHERE name = $1")
        .bind(DEFAULT_QUOTA)
        .fetch_optional(db)
        .await?;
    guid.ok_or_else(|| ApiError::new("QuotaDefinitionNotFound", &[DEFAULT_QUOTA]))
}

/// One quota's limits that apps and routes are checked against.
struct QuotaLimits {
    memory_limit: i64,
    instance_memory_limit: i64,
    app_instance_limit: i64,
    app_task_limit: i64,
    total_routes: i64,
    total_services: i64,
    non_basic_services_allowed: bool,
}

/// Error names when a limit is broken, org's or space's.
struct Errors {
    memory: &'static str,
    instance_memory: &'static str,
    instances: &'static str,
    routes: &'static str,
    services: &'static str,
    paid_plans: &'static str,
}

const ORG: Errors = Errors {
    memory: "AppMemoryQuotaExceeded",
    instance_memory: "QuotaInstanceMemoryLimitExceeded",
    instances: "QuotaInstanceLimitExceeded",
    routes: "OrgQuotaTotalRoutesExceeded",
    services: "ServiceInstanceQuotaExceeded",
    paid_plans: "ServiceInstanceServicePlanNotAllowed",
};
const SPACE: Errors = Errors {
    memory: "SpaceQuotaMemoryLimitExceeded",
    instance_memory: "SpaceQuotaInstanceMemoryLimitExceeded",
    instances: "SpaceQuotaInstanceLimitExceeded",
    routes: "SpaceQuotaTotalRoutesExceeded",
    services: "ServiceInstanceSpaceQuotaExceeded",
    paid_plans: "ServiceInstanceServicePlanNotAllowedBySpaceQuota",
};

/// The org's and (if any) the space's quota, each with the SQL condition
/// selecting the apps and routes it covers and its error names.
async fn quotas_of(db: &AnyPool, space: &str) -> ApiResult<Vec<(QuotaLimits, &'static str, String, &'static Errors)>> {
    let row = sqlx::query(
        "SELECT s.organization_guid, s.space_quota_definition_guid, o.quota_definition_guid FROM spaces s \
         JOIN organizations o ON o.guid = s.organization_guid WHERE s.guid = $1",
    )
    .bind(space)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| ApiError::new("SpaceNotFound", &[space]))?;
    let org: String = row.try_get(0).unwrap_or_default();
    let mut found = Vec::new();
    let sources = [
        (
            row.try_get::<Option<String>, _>(2).ok().flatten(),
            "quota_definitions",
            org,
            "space_guid IN (SELECT guid FROM spaces WHERE organization_guid = ?)",
            &ORG,
        ),
        (
            row.try_get::<Option<String>, _>(1).ok().flatten(),
            "space_quota_definitions",
            space.to_string(),
            "space_guid = ?",
            &SPACE,
        ),
    ];
    for (guid, table, owner, scope, errors) in sources {
        let Some(guid) = guid else { continue };
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
                non_basic_services_allowed: crate::cc::model::resource::bool_column(&q, "non_basic_services_allowed")
                    .unwrap_or(true),
            };
            found.push((limits, scope, owner, errors));
        }
    }
    Ok(found)
}

fn bound(limit: i64) -> Option<i64> {
    (limit >= 0).then_some(limit)
}

/// Checks a process (an app's web process, or another) of `space` that
/// would have `memory` MB × `instances`, and count toward usage if
/// `started`. `process` (when it exists: its guid) is left out of the
/// current usage, since these numbers replace its own.
pub async fn check_app(
    db: &AnyPool,
    space: &str,
    process: Option<&str>,
    memory: i64,
    instances: i64,
    started: bool,
) -> ApiResult<()> {
    for (limits, scope, owner, errors) in quotas_of(db, space).await? {
        if bound(limits.instance_memory_limit).is_some_and(|max| memory > max) {
            return Err(ApiError::new(errors.instance_memory, &[]));
        }
        if !started {
            continue;
        }
        let scope = scope.replace('?', "$1");
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(memory * instances), 0) AS BIGINT), CAST(COALESCE(SUM(instances), 0) AS BIGINT) \
             FROM {EVERY_PROCESS} WHERE state = 'STARTED' AND guid <> $2 AND {scope}"
        );
        let usage = sqlx::query(&sql).bind(&owner).bind(process.unwrap_or("")).fetch_one(db).await?;
        let (used_memory, used_instances) =
            (usage.try_get::<i64, _>(0).unwrap_or(0), usage.try_get::<i64, _>(1).unwrap_or(0));
        if let Some(max) = bound(limits.memory_limit)
            && used_memory + memory * instances > max
        {
            let detail = format!(
                "app requested {} MB more than the {max} MB available ({used_memory} MB in use)",
                used_memory + memory * instances - max
            );
            return Err(ApiError::new(errors.memory, &[&detail]));
        }
        if bound(limits.app_instance_limit).is_some_and(|max| used_instances + instances > max) {
            return Err(ApiError::new(errors.instances, &[]));
        }
    }
    Ok(())
}

/// Checks that one more task of `memory` MB may run for `app` of `space`:
/// the quotas' per-app task limit, instance memory limit and memory limit
/// (which the started apps' instances and the tasks not ended share).
pub async fn check_task(db: &AnyPool, space: &str, app: &str, memory: i64) -> ApiResult<()> {
    let too_much = |what: &str| ApiError::new("UnprocessableEntity", &[&format!("memory_in_mb exceeds {what}")]);
    for (limits, scope, owner, errors) in quotas_of(db, space).await? {
        let quota = if std::ptr::eq(errors, &ORG) { "organization" } else { "space" };
        if bound(limits.instance_memory_limit).is_some_and(|max| memory > max) {
            return Err(too_much(&format!("{quota} instance memory quota")));
        }
        if let Some(max) = bound(limits.app_task_limit) {
            let (tasks, _) = Task::running_of_app(db, app).await?;
            if tasks + 1 > max {
                let detail = format!("The app has {tasks} tasks running, the {quota} quota's limit is {max} per app");
                return Err(ApiError::new("UnprocessableEntity", &[&detail]));
            }
        }
        let Some(max) = bound(limits.memory_limit) else { continue };
        let scope = scope.replace('?', "$1");
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(memory * instances), 0) AS BIGINT) FROM {EVERY_PROCESS} \
             WHERE state = 'STARTED' AND {scope}"
        );
        let instances_memory: i64 = sqlx::query_scalar(&sql).bind(&owner).fetch_one(db).await?;
        let (_, tasks_memory) = Task::running_in(db, &scope, &owner).await?;
        if instances_memory + tasks_memory + memory > max {
            return Err(too_much(&format!("{quota} memory quota")));
        }
    }
    Ok(())
}

/// Checks that `space` (and its org) may have one more route.
pub async fn check_route(db: &AnyPool, space: &str) -> ApiResult<()> {
    for (limits, scope, owner, errors) in quotas_of(db, space).await? {
        let Some(max) = bound(limits.total_routes) else { continue };
        let sql = format!("SELECT COUNT(*) FROM routes WHERE {}", scope.replace('?', "$1"));
        let routes: i64 = sqlx::query_scalar(&sql).bind(&owner).fetch_one(db).await?;
        if routes + 1 > max {
            return Err(ApiError::new(errors.routes, &[]));
        }
    }
    Ok(())
}

/// Checks that `space` (and its org) may have one more brokered service
/// instance (`new`), and one of a paid plan if `paid`.
pub async fn check_service_instance(db: &AnyPool, space: &str, new: bool, paid: bool) -> ApiResult<()> {
    for (limits, scope, owner, errors) in quotas_of(db, space).await? {
        if paid && !limits.non_basic_services_allowed {
            return Err(ApiError::new(errors.paid_plans, &[]));
        }
        let Some(max) = bound(limits.total_services).filter(|_| new) else { continue };
        let sql = format!(
            "SELECT COUNT(*) FROM service_instances WHERE type = 'managed_service_instance' AND {}",
            scope.replace('?', "$1")
        );
        let instances: i64 = sqlx::query_scalar(&sql).bind(&owner).fetch_one(db).await?;
        if instances + 1 > max {
            return Err(ApiError::new(errors.services, &[]));
        }
    }
    Ok(())
}
