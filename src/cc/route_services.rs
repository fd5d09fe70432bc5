//! Route services, whichever API asks (`cf bind-route-service` /
//! `unbind-route-service`: v2's `/v2/service_instances/:guid/routes/:route`,
//! v3's `/v3/service_route_bindings`): binding a route to a service
//! instance of its space makes routers send the route's requests through
//! the instance's route service first — a user-provided instance's
//! `route_service_url`, or the url its broker gives when bound (the
//! service must require `route_forwarding`). The route's apps register it
//! anew with the url ([`super::runner::routes_changed`]).

use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult};
use super::model::ALL_SERVICE_INSTANCES;
use super::model::route::MappedRoute;
use super::model::route_binding::{ROUTE_BINDINGS, RouteBinding};
use super::model::service::PlanBroker;
use super::model::service_instance::ServiceInstance;
use super::osb::orphans;
use super::osb::requests::BindResource;
use super::routing::writable_route;
use super::services::{tell_route_apps, unbind_at_broker, writable_instance};
use super::{Cc, new_guid};
use serde_json::Value;

/// Binds the route to the instance; the binding's guid.
pub async fn bind(
    cc: &Cc,
    user: &CurrentUser,
    instance_guid: &str,
    route_guid: &str,
    parameters: Option<&Value>,
) -> ApiResult<String> {
    let instance = writable_instance(cc, user, &ALL_SERVICE_INSTANCES, instance_guid).await?;
    let route = writable_route(cc, user, route_guid).await?;
    if route.space_guid != instance.space_guid {
        return Err(ApiError::new("ServiceInstanceRouteBindingSpaceMismatch", &[]));
    }
    if let Some(existing) = RouteBinding::of_route(&cc.db, route_guid).await? {
        let same = existing.service_instance_guid == instance_guid;
        let name = if same { "ServiceInstanceAlreadyBoundToSameRoute" } else { "RouteAlreadyBoundToServiceInstance" };
        return Err(ApiError::new(name, &[]));
    }
    let guid = new_guid();
    let url = if instance.managed {
        url_from_broker(cc, user, &instance, &guid, route_guid, parameters).await?
    } else {
        instance
            .route_service_url
            .clone()
            .filter(|url| !url.is_empty())
            .ok_or_else(|| ApiError::new("ServiceDoesNotSupportRoutes", &[]))?
    };
    RouteBinding::insert(&cc.db, &guid, route_guid, instance_guid, &url).await?;
    tell_route_apps(cc, &[route_guid.to_string()]).await?;
    Ok(guid)
}

/// Binds at the broker (which must offer route forwarding) under `guid`;
/// the route service url it gives.
async fn url_from_broker(
    cc: &Cc,
    user: &CurrentUser,
    instance: &ServiceInstance,
    guid: &str,
    route: &str,
    parameters: Option<&Value>,
) -> ApiResult<String> {
    instance.not_busy()?;
    let plan = PlanBroker::find(&cc.db, instance.service_plan_guid.as_deref().unwrap_or_default()).await?;
    if !plan.requires.iter().any(|r| r == "route_forwarding") {
        return Err(ApiError::new("ServiceDoesNotSupportRoutes", &[]));
    }
    let url = MappedRoute::find(&cc.db, route).await?.uri();
    let target = plan.target(&instance.guid);
    match plan.broker(cc).bind(&target, guid, BindResource::Route(&url), parameters, &user.user.guid).await {
        Ok(body) => Ok(body.get("route_service_url").and_then(Value::as_str).unwrap_or_default().to_string()),
        Err(failure) => {
            if failure.orphan {
                orphans::record(&cc.db, &plan.broker_guid, &target.delete_path(Some(guid), false)).await?;
            }
            Err(failure.error)
        }
    }
}

/// Unbinds a route binding: at the broker first, when its instance is brokered.
pub async fn unbind(cc: &Cc, user: &CurrentUser, binding: &RouteBinding) -> ApiResult<()> {
    writable_route(cc, user, &binding.route_guid).await?;
    unbind_at_broker(cc, &binding.service_instance_guid, &binding.guid, &user.user.guid).await?;
    ROUTE_BINDINGS.delete(&cc.db, &binding.guid).await?;
    tell_route_apps(cc, std::slice::from_ref(&binding.route_guid)).await
}
