//! Service instances, their bindings to apps and their keys, whichever
//! API asks: a user-provided instance holds what the user gives; a
//! brokered one is provisioned, bound, unbound and deprovisioned at its
//! plan's broker ([`super::osb`]) — finished at once, or followed by the
//! CC while `last_operation` says how it goes. A provision or bind that
//! failed leaves nothing behind: no row, and at the broker what may have
//! been made is deleted (orphan mitigation). Instances started after a
//! bind find its credentials in VCAP_SERVICES.

use serde_json::{Value, json};

use super::app_changes::writable_app;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult};
use super::model::resource::Resource;
use super::model::route_binding::{ROUTE_BINDINGS, RouteBinding};
use super::model::service::PlanBroker;
use super::model::service_binding::{NewBinding, ServiceBinding};
use super::model::service_instance::{NewManagedInstance, ServiceInstance};
use super::model::service_key::ServiceKey;
use super::model::service_operation::{self, CREATE, DELETE, IN_PROGRESS};
use super::model::sql::Assignments;
use super::model::{ALL_SERVICE_INSTANCES, SERVICE_BINDINGS, SERVICE_KEYS, SERVICE_PLANS, SPACES};
use super::osb::operations::{self, PollTiming};
use super::osb::orphans;
use super::osb::requests::{BindResource, Outcome, Placement, Target};
use super::permissions::{is_space_developer, plan_usable_in_space, require};
use super::{Cc, new_guid, quotas, runner};

/// A plan an instance of `space` may have, and its broker.
pub async fn plan_for(cc: &Cc, user: &CurrentUser, plan: &str, space: &str) -> ApiResult<PlanBroker> {
    SERVICE_PLANS.find_for(&cc.db, plan, &user.user).await?;
    let usable = plan_usable_in_space(&cc.db, plan, space).await?;
    let plan = PlanBroker::find(&cc.db, plan).await?;
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
    let new = NewManagedInstance {
        guid: &guid,
        name: &name,
        space_guid: &space,
        service_plan_guid: &plan_guid,
        service_guid: &plan.service_guid,
        tags: json!(tags).to_string(),
    };
    ServiceInstance::insert_managed(&cc.db, new).await?;

    let organization = crate::cc::model::event::org_of_space(&cc.db, &space).await;
    let placement = Placement { organization: &organization, space: &space, instance_name: &name };
    let target = plan.target(&guid);
    let provisioned =
        plan.broker(cc).provision(&target, &placement, parameters.as_ref(), accepts_incomplete, &user.user.guid).await;
    match provisioned {
        Ok(outcome) => {
            operations::record(&cc.db, &guid, CREATE, &outcome, PollTiming::of(&cc.config)).await?;
            Ok((guid, matches!(outcome, Outcome::Done(_))))
        }
        Err(failure) => {
            ALL_SERVICE_INSTANCES.delete(&cc.db, &guid).await?;
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
    instance: &ServiceInstance,
    recursive: bool,
    accepts_incomplete: bool,
) -> ApiResult<Deleted> {
    let guid = &instance.guid;
    if !instance.managed {
        forget_instance(cc, guid, recursive).await?;
        return Ok(Deleted::Gone);
    }
    instance.not_busy()?;
    let plan = PlanBroker::find(&cc.db, instance.service_plan_guid.as_deref().unwrap_or_default()).await?;
    let target = plan.target(guid);
    if ServiceInstance::dependents(&cc.db, guid).await? > 0 {
        if !recursive {
            return Err(ApiError::new(
                "AssociationNotEmpty",
                &["service_bindings or service_keys", "service instance"],
            ));
        }
        unbind_all(cc, &plan, &target, &user.user.guid).await?;
    }
    service_operation::begin(&cc.db, guid, DELETE, None).await?;
    match plan.broker(cc).deprovision(&target, accepts_incomplete, &user.user.guid).await {
        Ok(outcome) => {
            operations::record(&cc.db, guid, DELETE, &outcome, PollTiming::of(&cc.config)).await?;
            Ok(if matches!(outcome, Outcome::Done(_)) { Deleted::Gone } else { Deleted::InProgress })
        }
        Err(failure) => {
            service_operation::fail(&cc.db, guid, DELETE, &failure.error.description).await?;
            Err(failure.error)
        }
    }
}

/// The instance (one of `instances`), if the user may change it: a space
/// developer of its space.
pub async fn writable_instance(
    cc: &Cc,
    user: &CurrentUser,
    instances: &Resource,
    guid: &str,
) -> ApiResult<ServiceInstance> {
    let instance = ServiceInstance::find_among(&cc.db, instances, guid, &user.user).await?;
    require(is_space_developer(&cc.db, &user.user, &instance.space_guid).await?)?;
    Ok(instance)
}

/// Deletes an instance without asking a broker — a user-provided one, or
/// one an admin purges — with bindings only if `recursive`.
pub async fn forget_instance(cc: &Cc, guid: &str, recursive: bool) -> ApiResult<()> {
    if !recursive && ServiceInstance::dependents(&cc.db, guid).await? > 0 {
        return Err(ApiError::new("AssociationNotEmpty", &["service_bindings", "service instance"]));
    }
    let routes: Vec<String> =
        RouteBinding::of_instance(&cc.db, guid).await?.into_iter().map(|b| b.route_guid).collect();
    // Its bindings go with it (ON DELETE CASCADE).
    ALL_SERVICE_INSTANCES.delete(&cc.db, guid).await?;
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
    for bindings in [&SERVICE_BINDINGS, &SERVICE_KEYS, &ROUTE_BINDINGS] {
        for guid in bindings.guids_where(&cc.db, "service_instance_guid", target.instance).await? {
            plan.broker(cc).unbind(target, &guid, user).await?;
            bindings.delete(&cc.db, &guid).await?;
        }
    }
    tell_route_apps(cc, &routes).await
}

/// What a binding (or service key) of an instance holds: the user-provided
/// instance's credentials, or those its broker made for `binding`. A
/// brokered instance must be bindable and not busy.
pub async fn credentials_for(
    cc: &Cc,
    instance: &ServiceInstance,
    binding: &str,
    app: Option<&str>,
    parameters: Option<&Value>,
    user: &str,
) -> ApiResult<(String, Option<String>)> {
    let Some(plan_guid) = &instance.service_plan_guid else {
        let credentials = instance.credentials.clone().unwrap_or_else(|| "{}".into());
        return Ok((credentials, instance.syslog_drain_url.clone()));
    };
    let plan = PlanBroker::find(&cc.db, plan_guid).await?;
    if !plan.bindable {
        return Err(ApiError::new("UnbindableService", &[]));
    }
    let (kind, state) = service_operation::type_and_state(instance.last_operation.as_deref());
    if state != service_operation::SUCCEEDED
        && !(kind == service_operation::UPDATE && state == service_operation::FAILED)
    {
        return Err(ApiError::new("AsyncServiceInstanceOperationInProgress", &[&instance.name]));
    }
    let target = plan.target(&instance.guid);
    let resource = app.map_or(BindResource::Key, BindResource::App);
    match plan.broker(cc).bind(&target, binding, resource, parameters, user).await {
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
pub async fn forget_at_broker(cc: &Cc, instance: &ServiceInstance, binding: &str, error: ApiError) -> ApiError {
    if let Some(plan_guid) = &instance.service_plan_guid
        && let Ok(plan) = PlanBroker::find(&cc.db, plan_guid).await
    {
        let path = plan.target(&instance.guid).delete_path(Some(binding), false);
        if let Err(e) = orphans::record(&cc.db, &plan.broker_guid, &path).await {
            tracing::warn!("recording an orphan binding: {}", e.description);
        }
    }
    error
}

/// Unbinds `binding` at the broker when its instance is brokered.
pub async fn unbind_at_broker(cc: &Cc, instance_guid: &str, binding: &str, user: &str) -> ApiResult<()> {
    let instance = ServiceInstance::find_optional(&cc.db, instance_guid).await?;
    if let Some(plan_guid) = instance.and_then(|i| i.service_plan_guid) {
        let plan = PlanBroker::find(&cc.db, &plan_guid).await?;
        plan.broker(cc).unbind(&plan.target(instance_guid), binding, user).await?;
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
    let instance = ServiceInstance::find_among(&cc.db, &ALL_SERVICE_INSTANCES, instance_guid, &user.user).await?;
    if app.space_guid != instance.space_guid {
        return Err(ApiError::new("ServiceBindingDifferentSpaces", &[&format!("{app_guid} {instance_guid}")]));
    }
    if ServiceBinding::exists(&cc.db, app_guid, instance_guid).await? {
        return Err(ApiError::new("ServiceBindingAppServiceTaken", &["The app is already bound to the service."]));
    }
    let guid = new_guid();
    let (credentials, syslog_drain_url) =
        credentials_for(cc, &instance, &guid, Some(app_guid), parameters.as_ref(), &user.user.guid).await?;
    let new =
        NewBinding { guid: &guid, app_guid, service_instance_guid: instance_guid, name, credentials, syslog_drain_url };
    if let Err(error) = ServiceBinding::insert(&cc.db, new).await {
        return Err(forget_at_broker(cc, &instance, &guid, error).await);
    }
    Ok(guid)
}

/// Unbinds an app's binding: at the broker first, when its instance is brokered.
pub async fn unbind(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<()> {
    let binding = ServiceBinding::find_for(&cc.db, guid, &user.user).await?;
    writable_app(cc, user, &binding.app_guid).await?;
    unbind_at_broker(cc, &binding.service_instance_guid, guid, &user.user.guid).await?;
    SERVICE_BINDINGS.delete(&cc.db, guid).await
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
    ServiceInstance::insert_user_provided(&cc.db, &guid, name, space, fields).await?;
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
    if instance.service_plan_guid.is_none() {
        let why = "Service keys are not supported for user-provided service instances.";
        return Err(ApiError::new("ServiceKeyNotSupported", &[why]));
    }
    if ServiceKey::name_taken(&cc.db, instance_guid, name).await? {
        return Err(ApiError::new("ServiceKeyNameTaken", &[name]));
    }
    let guid = new_guid();
    let (credentials, _) = credentials_for(cc, &instance, &guid, None, parameters.as_ref(), &user.user.guid).await?;
    if let Err(error) = ServiceKey::insert(&cc.db, &guid, name, instance_guid, credentials).await {
        return Err(forget_at_broker(cc, &instance, &guid, error).await);
    }
    Ok(guid)
}

/// Deletes a service key, at its broker first.
pub async fn delete_key(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<()> {
    let key = ServiceKey::find_for(&cc.db, guid, &user.user).await?;
    writable_instance(cc, user, &ALL_SERVICE_INSTANCES, &key.service_instance_guid).await?;
    unbind_at_broker(cc, &key.service_instance_guid, guid, &user.user.guid).await?;
    SERVICE_KEYS.delete(&cc.db, guid).await
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
            let outcome = match service_operation::of_instance(&cc.db, &instance).await {
                Ok(None) => Some(None),
                Ok(Some(operation)) => {
                    let (_, state) = service_operation::type_and_state(operation.as_deref());
                    match state.as_str() {
                        IN_PROGRESS => None,
                        service_operation::FAILED => {
                            Some(Some(ApiError::new("UnprocessableEntity", &["the service broker's operation failed"])))
                        }
                        _ => Some(None),
                    }
                }
                Err(e) => Some(Some(e)),
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
