//! Quota enforcement, as CF checks it when an app is created, scaled,
//! resized or started, when a route is created and when a brokered service
//! instance is created or changes plan: the org's quota
//! definition and, when the space has one, the space's. Usage counts the
//! processes of the apps that are STARTED; -1 means unlimited.

use sqlx::AnyPool;

use super::error::{ApiError, ApiResult};
use super::model::quota::{AppliedQuota, QuotaOf};
use super::model::task::Task;

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

/// The error names of a quota's limits.
fn errors(quota: &AppliedQuota) -> &'static Errors {
    if quota.of == QuotaOf::Org { &ORG } else { &SPACE }
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
    for quota in AppliedQuota::of_space(db, space).await? {
        let (limits, errors) = (&quota.limits, errors(&quota));
        if bound(limits.instance_memory_limit).is_some_and(|max| memory > max) {
            return Err(ApiError::new(errors.instance_memory, &[]));
        }
        if !started {
            continue;
        }
        let (used_memory, used_instances) = quota.started_usage(db, process).await?;
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
    for applied in AppliedQuota::of_space(db, space).await? {
        let limits = &applied.limits;
        let quota = if applied.of == QuotaOf::Org { "organization" } else { "space" };
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
        let (instances_memory, _) = applied.started_usage(db, None).await?;
        let (_, tasks_memory) = Task::running_in(db, applied.scope(), applied.owner()).await?;
        if instances_memory + tasks_memory + memory > max {
            return Err(too_much(&format!("{quota} memory quota")));
        }
    }
    Ok(())
}

/// Checks that `space` (and its org) may have one more route.
pub async fn check_route(db: &AnyPool, space: &str) -> ApiResult<()> {
    for quota in AppliedQuota::of_space(db, space).await? {
        let Some(max) = bound(quota.limits.total_routes) else { continue };
        if quota.routes(db).await? + 1 > max {
            return Err(ApiError::new(errors(&quota).routes, &[]));
        }
    }
    Ok(())
}

/// Checks that `space` (and its org) may have one more brokered service
/// instance (`new`), and one of a paid plan if `paid`.
pub async fn check_service_instance(db: &AnyPool, space: &str, new: bool, paid: bool) -> ApiResult<()> {
    for quota in AppliedQuota::of_space(db, space).await? {
        if paid && !quota.limits.non_basic_services_allowed {
            return Err(ApiError::new(errors(&quota).paid_plans, &[]));
        }
        let Some(max) = bound(quota.limits.total_services).filter(|_| new) else { continue };
        if quota.managed_service_instances(db).await? + 1 > max {
            return Err(ApiError::new(errors(&quota).services, &[]));
        }
    }
    Ok(())
}
