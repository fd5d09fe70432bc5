//! Service instances, their bindings to apps and their keys, whichever
//! API asks: a user-provided instance holds what the user gives; a
//! brokered one is provisioned, bound, unbound and deprovisioned at its
//! plan's broker ([`super::osb`]) — finished at once, or followed by the
//! CC while `last_operation` says how it goes. A provision or bind that
//! failed leaves nothing behind: no row, and at the broker what may have
//! been made is deleted (orphan mitigation). Instances started after a
//! bind find its credentials in VCAP_SERVICES.

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::app_changes::writable_app;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, taken_or};
use super::model::resource::{Resource, text_column};
use super::model::route_binding::RouteBinding;
use super::model::sql::Assignments;
use super::model::{ALL_SERVICE_INSTANCES, SERVICE_BINDINGS, SERVICE_KEYS, SERVICE_PLANS, SPACES};
use super::osb::operations::{self, CREATE, DELETE, IN_PROGRESS, PollTiming};
use super::osb::requests::{BindResource, Outcome, Placement, Target};
use super::osb::{PlanBroker, orphans};
use super::permissions::{is_space_developer, plan_usable_in_space, require};
use super::{Cc, new_guid, now, quotas, runner};

/// A plan an instance of `space` may have, and its broker.
pub async fn plan_for(cc: &Cc, user: &CurrentUser, plan: &str, space: &str) -> ApiResult<PlanBroker> {
    SERVICE_PLANS.find_for(&cc.db, plan, &user.user).await?;
    let usable = plan_usable_in_space(&cc.db, plan, space).await?;
    let plan = PlanBroker::load(cc, plan).await?;
    match (usable, &plan.broker_space) {
        (true, _) => {}
        (false, Some(_)) => return Err(ApiError::new("ServiceInstanceSpaceNotAuthorized", &[])),
        (false, None) => return Err(ApiError::new("ServiceInstanceOrganizationNotAuthorized", &[])),
    }
    if !plan.active {
        return Err(ApiError::new("ServicePlanInvalid", &["the plan is no longer offered by its broker"]));
    }
    Ok(plan)
}

/// Name and tags as CF checks them.
pub fn check_name_and_tags(name: Option<&str>, tags: Option<&[String]>) -> ApiResult<()> {
    match name {
        Some(name) if name.trim().is_empty() => return Err(ApiError::new("ServiceInstanceNameEmpty", &[])),
        Some(name) if name.len() > 255 => return Err(ApiError::new("ServiceInstanceNameTooLong", &[])),
        _ => {}
    }
    if tags.is_some_and(|tags| tags.iter().map(String::len).sum::<usize>() > 2048) {
        return Err(ApiError::new("ServiceInstanceTagsTooLong", &[name.unwrap_or_default()]));
    }
    Ok(())
}

/// A user-provided instance's route service url: https, as CF wants it,
/// or http to this host's loopback (a route service run beside `wf up`);
/// empty clears it.
pub fn check_route_service_url(url: &str) -> ApiResult<()> {
    if url.is_empty() {
        return Ok(());
    }
    let invalid = |why: &str| ApiError::new("ServiceInstanceRouteServiceURLInvalid", &[why]);
    let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid("Scheme must be https")),
    }
}

pub fn is_managed(instance: &AnyRow) -> bool {
    text_column(instance, "type").as_deref() == Some("managed_service_instance")
}

/// AsyncServiceInstanceOperationInProgress while the broker works on it.
pub fn not_busy(instance: &AnyRow) -> ApiResult<()> {
    let (_, state) = operations::type_and_state(text_column(instance, "last_operation").as_deref());
    if state == IN_PROGRESS {
        return Err(ApiError::new(
            "AsyncServiceInstanceOperationInProgress",
            &[&text_column(instance, "name").unwrap_or_default()],
        ));
    }
    Ok(())
}

/// A brokered instance to make.
pub struct NewInstance {
    pub name: String,
    pub space: String,
    pub plan: String,
    pub parameters: Option<Value>,
    pub tags: Vec<String>,
}

/// Provisions a brokered instance at its plan's broker: its guid, and
/// whether the broker finished (else the CC follows the operation:
/// [`super::osb::poller`]). A provision that failed leaves nothing behind.
pub async fn provision(
    cc: &Cc,
    user: &CurrentUser,
    new: NewInstance,
    accepts_incomplete: bool,
) -> ApiResult<(String, bool)> {
    let NewInstance { name, space, plan: plan_guid, parameters, tags } = new;
    check_name_and_tags(Some(&name), Some(&tags))?;
    SPACES.find_for(&cc.db, &space, &user.user).await?;
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    let plan = plan_for(cc, user, &plan_guid, &space).await?;
    quotas::check_service_instance(&cc.db, &space, true, !plan.free).await?;

    // The row comes first: it holds the name while the broker works.
    let guid = new_guid();
    sqlx::query(
        "INSERT INTO service_instances (guid, name, space_guid, type, service_plan_guid, service_guid, tags, \
         last_operation, created_at) VALUES ($1, $2, $3, 'managed_service_instance', $4, $5, $6, $7, $8)",
    )
    .bind(&guid)
    .bind(&name)
    .bind(&space)
    .bind(&plan_guid)
    .bind(&plan.service_guid)
    .bind(json!(tags).to_string())
    .bind(operations::last_operation(CREATE, IN_PROGRESS, ""))
    .bind(now())
    .execute(&cc.db)
    .await
    .map_err(|e| taken_or(e, "ServiceInstanceNameTaken", &name))?;

    let organization = crate::cc::model::event::org_of_space(&cc.db, &space).await;
    let placement = Placement { organization: &organization, space: &space, instance_name: &name };
    let target = plan.target(&guid);
    let provisioned =
        plan.broker().provision(&target, &placement, parameters.as_ref(), accepts_incomplete, &user.user.guid).await;
    match provisioned {
        Ok(outcome) => {
            operations::record(&cc.db, &guid, CREATE, &outcome, PollTiming::of(&cc.config)).await?;
            Ok((guid, matches!(outcome, Outcome::Done(_))))
        }
        Err(failure) => {
            sqlx::query("DELETE FROM service_instances WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
            if failure.orphan {
                orphans::record(&cc.db, &plan.broker_guid, &target.delete_path(None, true)).await?;
            }
            Err(failure.error)
        }
    }
}

/// How a delete of an instance went.
pub enum Deleted {
    Gone,
    /// Its broker goes on deprovisioning it (the CC follows).
    InProgress,
}

/// Deletes an instance (the user may change it): a user-provided one at
/// once, a brokered one deprovisioned at its broker; with bindings or keys
/// only if `recursive` (they are unbound first).
pub async fn deprovision(
    cc: &Cc,
    user: &CurrentUser,
    instance: &AnyRow,
    recursive: bool,
    accepts_incomplete: bool,
) -> ApiResult<Deleted> {
    let guid = text_column(instance, "guid").unwrap_or_default();
    if !is_managed(instance) {
        forget_instance(cc, &guid, recursive).await?;
        return Ok(Deleted::Gone);
    }
    not_busy(instance)?;
    let plan = PlanBroker::load(cc, &text_column(instance, "service_plan_guid").unwrap_or_default()).await?;
    let target = plan.target(&guid);
    let children: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM service_bindings WHERE service_instance_guid = $1) + \
         (SELECT COUNT(*) FROM service_keys WHERE service_instance_guid = $1) + \
         (SELECT COUNT(*) FROM route_bindings WHERE service_instance_guid = $1)",
    )
    .bind(&guid)
    .fetch_one(&cc.db)
    .await?;
    if children > 0 {
        if !recursive {
            return Err(ApiError::new(
                "AssociationNotEmpty",
                &["service_bindings or service_keys", "service instance"],
            ));
        }
        unbind_all(cc, &plan, &target, &user.user.guid).await?;
    }
    sqlx::query("UPDATE service_instances SET last_operation = $1 WHERE guid = $2")
        .bind(operations::last_operation(DELETE, IN_PROGRESS, ""))
        .bind(&guid)
        .execute(&cc.db)
        .await?;
    match plan.broker().deprovision(&target, accepts_incomplete, &user.user.guid).await {
        Ok(outcome) => {
            operations::record(&cc.db, &guid, DELETE, &outcome, PollTiming::of(&cc.config)).await?;
            Ok(if matches!(outcome, Outcome::Done(_)) { Deleted::Gone } else { Deleted::InProgress })
        }
        Err(failure) => {
            operations::fail(&cc.db, &guid, DELETE, &failure.error.description).await?;
            Err(failure.error)
        }
    }
}

/// The instance (one of `instances`), if the user may change it: a space
/// developer of its space.
pub async fn writable_instance(cc: &Cc, user: &CurrentUser, instances: &Resource, guid: &str) -> ApiResult<AnyRow> {
    let instance = instances.find_for(&cc.db, guid, &user.user).await?;
    let space = text_column(&instance, "space_guid").unwrap_or_default();
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    Ok(instance)
}

/// Deletes an instance without asking a broker — a user-provided one, or
/// one an admin purges — with bindings only if `recursive`.
pub async fn forget_instance(cc: &Cc, guid: &str, recursive: bool) -> ApiResult<()> {
    let bindings: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM service_bindings WHERE service_instance_guid = $1) + \
         (SELECT COUNT(*) FROM route_bindings WHERE service_instance_guid = $1)",
    )
    .bind(guid)
    .fetch_one(&cc.db)
    .await?;
    if bindings > 0 && !recursive {
        return Err(ApiError::new("AssociationNotEmpty", &["service_bindings", "service instance"]));
    }
    let routes: Vec<String> =
        RouteBinding::of_instance(&cc.db, guid).await?.into_iter().map(|b| b.route_guid).collect();
    // Its bindings go with it (ON DELETE CASCADE).
    sqlx::query("DELETE FROM service_instances WHERE guid = $1").bind(guid).execute(&cc.db).await?;
    tell_route_apps(cc, &routes).await
}

/// The apps mapped to these routes register them anew (a route service
/// was bound or unbound).
pub async fn tell_route_apps(cc: &Cc, routes: &[String]) -> ApiResult<()> {
    for route in routes {
        for app in RouteBinding::apps_of_route(&cc.db, route).await? {
            runner::routes_changed(cc, &app).await?;
        }
    }
    Ok(())
}

/// Unbinds every binding and key of a brokered instance at its broker,
/// deleting each as the broker lets go of it.
pub async fn unbind_all(cc: &Cc, plan: &PlanBroker, target: &Target<'_>, user: &str) -> ApiResult<()> {
    let routes: Vec<String> =
        RouteBinding::of_instance(&cc.db, target.instance).await?.into_iter().map(|b| b.route_guid).collect();
    for table in ["service_bindings", "service_keys", "route_bindings"] {
        let guids: Vec<String> =
            sqlx::query_scalar(&format!("SELECT guid FROM {table} WHERE service_instance_guid = $1"))
                .bind(target.instance)
                .fetch_all(&cc.db)
                .await?;
        for guid in guids {
            plan.broker().unbind(target, &guid, user).await?;
            sqlx::query(&format!("DELETE FROM {table} WHERE guid = $1")).bind(&guid).execute(&cc.db).await?;
        }
    }
    tell_route_apps(cc, &routes).await
}

/// What a binding (or service key) of an instance holds: the user-provided
/// instance's credentials, or those its broker made for `binding`. A
/// brokered instance must be bindable and not busy.
pub async fn credentials_for(
    cc: &Cc,
    instance: &AnyRow,
    binding: &str,
    app: Option<&str>,
    parameters: Option<&Value>,
    user: &str,
) -> ApiResult<(String, Option<String>)> {
    let text = |column: &str| text_column(instance, column);
    let Some(plan_guid) = text("service_plan_guid") else {
        return Ok((text("credentials").unwrap_or_else(|| "{}".into()), text("syslog_drain_url")));
    };
    let plan = PlanBroker::load(cc, &plan_guid).await?;
    if !plan.bindable {
        return Err(ApiError::new("UnbindableService", &[]));
    }
    let (kind, state) = operations::type_and_state(text("last_operation").as_deref());
    if state != operations::SUCCEEDED && !(kind == operations::UPDATE && state == operations::FAILED) {
        return Err(ApiError::new("AsyncServiceInstanceOperationInProgress", &[&text("name").unwrap_or_default()]));
    }
    let instance_guid = text("guid").unwrap_or_default();
    let target = plan.target(&instance_guid);
    let resource = app.map_or(BindResource::Key, BindResource::App);
    match plan.broker().bind(&target, binding, resource, parameters, user).await {
        Ok(body) => {
            let credentials = body.get("credentials").cloned().unwrap_or(json!({}));
            let drain = body.get("syslog_drain_url").and_then(Value::as_str).map(str::to_string);
            Ok((credentials.to_string(), drain))
        }
        Err(failure) => {
            if failure.orphan {
                orphans::record(&cc.db, &plan.broker_guid, &target.delete_path(Some(binding), false)).await?;
            }
            Err(failure.error)
        }
    }
}

/// A binding's row could not be stored after the broker made it: unbind
/// it there (orphan mitigation), then report `error`.
pub async fn forget_at_broker(cc: &Cc, instance: &AnyRow, binding: &str, error: ApiError) -> ApiError {
    let plan_guid: Option<String> = instance.try_get("service_plan_guid").ok().flatten();
    if let Some(plan_guid) = plan_guid
        && let Ok(plan) = PlanBroker::load(cc, &plan_guid).await
    {
        let instance_guid: String = instance.try_get("guid").unwrap_or_default();
        let path = plan.target(&instance_guid).delete_path(Some(binding), false);
        if let Err(e) = orphans::record(&cc.db, &plan.broker_guid, &path).await {
            tracing::warn!("recording an orphan binding: {}", e.description);
        }
    }
    error
}

/// Unbinds `binding` at the broker when its instance is brokered.
pub async fn unbind_at_broker(cc: &Cc, instance_guid: &str, binding: &str, user: &str) -> ApiResult<()> {
    let plan_guid: Option<String> =
        sqlx::query_scalar("SELECT service_plan_guid FROM service_instances WHERE guid = $1")
            .bind(instance_guid)
            .fetch_optional(&cc.db)
            .await?
            .flatten();
    if let Some(plan_guid) = plan_guid {
        let plan = PlanBroker::load(cc, &plan_guid).await?;
        plan.broker().unbind(&plan.target(instance_guid), binding, user).await?;
    }
    Ok(())
}

/// Binds the app to the instance (`name` optional), with credentials the
/// instance holds or its broker makes; the binding's guid.
pub async fn bind(
    cc: &Cc,
    user: &CurrentUser,
    app_guid: &str,
    instance_guid: &str,
    name: Option<String>,
    parameters: Option<Value>,
) -> ApiResult<String> {
    let app = writable_app(cc, user, app_guid).await?;
    let instance = ALL_SERVICE_INSTANCES.find_for(&cc.db, instance_guid, &user.user).await?;
    if text_column(&app, "space_guid") != text_column(&instance, "space_guid") {
        return Err(ApiError::new("ServiceBindingDifferentSpaces", &[&format!("{app_guid} {instance_guid}")]));
    }
    let taken = || ApiError::new("ServiceBindingAppServiceTaken", &["The app is already bound to the service."]);
    let bound: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM service_bindings WHERE app_guid = $1 AND service_instance_guid = $2")
            .bind(app_guid)
            .bind(instance_guid)
            .fetch_one(&cc.db)
            .await?;
    if bound > 0 {
        return Err(taken());
    }
    let guid = new_guid();
    let (credentials, drain) =
        credentials_for(cc, &instance, &guid, Some(app_guid), parameters.as_ref(), &user.user.guid).await?;
    let stored = sqlx::query(
        "INSERT INTO service_bindings (guid, app_guid, service_instance_guid, name, credentials, syslog_drain_url, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&guid)
    .bind(app_guid)
    .bind(instance_guid)
    .bind(name)
    .bind(credentials)
    .bind(drain)
    .bind(now())
    .execute(&cc.db)
    .await;
    if let Err(e) = stored {
        let error = taken_or(e, "ServiceBindingAppServiceTaken", "The app is already bound to the service.");
        return Err(forget_at_broker(cc, &instance, &guid, error).await);
    }
    Ok(guid)
}

/// Unbinds an app's binding: at the broker first, when its instance is brokered.
pub async fn unbind(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<()> {
    let binding = SERVICE_BINDINGS.find_for(&cc.db, guid, &user.user).await?;
    let app: String = binding.try_get("app_guid").unwrap_or_default();
    writable_app(cc, user, &app).await?;
    let instance: String = binding.try_get("service_instance_guid").unwrap_or_default();
    unbind_at_broker(cc, &instance, guid, &user.user.guid).await?;
    sqlx::query("DELETE FROM service_bindings WHERE guid = $1").bind(guid).execute(&cc.db).await?;
    Ok(())
}

/// Stores a user-provided instance called `name` in `space`, with `fields`
/// (credentials, tags, drain and route service URLs); its guid.
pub async fn create_user_provided(
    cc: &Cc,
    user: &CurrentUser,
    name: &str,
    space: &str,
    fields: Assignments,
) -> ApiResult<String> {
    SPACES.find_for(&cc.db, space, &user.user).await?;
    require(is_space_developer(&cc.db, &user.user, space).await?)?;
    let guid = new_guid();
    sqlx::query("INSERT INTO service_instances (guid, name, space_guid, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&guid)
        .bind(name)
        .bind(space)
        .bind(now())
        .execute(&cc.db)
        .await
        .map_err(|e| taken_or(e, "ServiceInstanceNameTaken", name))?;
    fields.execute(&cc.db, "service_instances", &guid).await?;
    Ok(guid)
}

/// Makes a service key called `name` of a brokered instance (its broker
/// makes the credentials); its guid.
pub async fn create_key(
    cc: &Cc,
    user: &CurrentUser,
    instance_guid: &str,
    name: &str,
    parameters: Option<Value>,
) -> ApiResult<String> {
    let instance = writable_instance(cc, user, &ALL_SERVICE_INSTANCES, instance_guid).await?;
    if text_column(&instance, "service_plan_guid").is_none() {
        let why = "Service keys are not supported for user-provided service instances.";
        return Err(ApiError::new("ServiceKeyNotSupported", &[why]));
    }
    let taken: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM service_keys WHERE service_instance_guid = $1 AND name = $2")
            .bind(instance_guid)
            .bind(name)
            .fetch_one(&cc.db)
            .await?;
    if taken > 0 {
        return Err(ApiError::new("ServiceKeyNameTaken", &[name]));
    }
    let guid = new_guid();
    let (credentials, _) = credentials_for(cc, &instance, &guid, None, parameters.as_ref(), &user.user.guid).await?;
    let stored = sqlx::query(
        "INSERT INTO service_keys (guid, name, service_instance_guid, credentials, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&guid)
    .bind(name)
    .bind(instance_guid)
    .bind(credentials)
    .bind(now())
    .execute(&cc.db)
    .await;
    if let Err(e) = stored {
        return Err(forget_at_broker(cc, &instance, &guid, taken_or(e, "ServiceKeyNameTaken", name)).await);
    }
    Ok(guid)
}

/// Deletes a service key, at its broker first.
pub async fn delete_key(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<()> {
    let key = SERVICE_KEYS.find_for(&cc.db, guid, &user.user).await?;
    let instance_guid: String = key.try_get("service_instance_guid").unwrap_or_default();
    writable_instance(cc, user, &ALL_SERVICE_INSTANCES, &instance_guid).await?;
    unbind_at_broker(cc, &instance_guid, guid, &user.user.guid).await?;
    sqlx::query("DELETE FROM service_keys WHERE guid = $1").bind(guid).execute(&cc.db).await?;
    Ok(())
}

/// How often a job follows its instance's broker operation.
const FOLLOW_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// Finishes `job` once the broker operation on `instance` has ended (the
/// CC's poller records it: [`super::osb::poller`]): failed if it failed,
/// finished if it succeeded or the instance is gone (a delete).
pub fn follow_in_job(cc: Cc, job: String, instance: String) {
    tokio::spawn(async move {
        let deadline =
            tokio::time::Instant::now() + std::time::Duration::from_secs(60 * cc.config.broker_max_poll_minutes.max(1));
        loop {
            let row: Result<Option<Option<String>>, sqlx::Error> =
                sqlx::query_scalar("SELECT last_operation FROM service_instances WHERE guid = $1")
                    .bind(&instance)
                    .fetch_optional(&cc.db)
                    .await;
            let outcome = match row {
                Ok(None) => Some(None),
                Ok(Some(operation)) => {
                    let (_, state) = operations::type_and_state(operation.as_deref());
                    match state.as_str() {
                        operations::IN_PROGRESS => None,
                        operations::FAILED => {
                            Some(Some(ApiError::new("UnprocessableEntity", &["the service broker's operation failed"])))
                        }
                        _ => Some(None),
                    }
                }
                Err(e) => Some(Some(ApiError::from(e))),
            };
            if let Some(error) = outcome {
                return super::model::job::Job::finish(&cc.db, &job, error).await;
            }
            if tokio::time::Instant::now() > deadline {
                let error =
                    ApiError::new("UnprocessableEntity", &["the service broker's operation did not end in time"]);
                return super::model::job::Job::finish(&cc.db, &job, Some(error)).await;
            }
            tokio::time::sleep(FOLLOW_INTERVAL).await;
        }
    });
}
