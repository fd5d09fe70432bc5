//! `/v2/service_instances/:guid/routes/:route` and its user-provided twin
//! (`cf bind-route-service`, `cf unbind-route-service` of the cf CLI v6
//! and v7): a route bound to a route service, which routers then send its
//! requests through first. The work is [`crate::cc::route_services`]'.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::collection::created;
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::ALL_SERVICE_INSTANCES;
use crate::cc::model::route_binding::RouteBinding;
use crate::cc::route_services;

/// `PUT …/:guid/routes/:route` `{"parameters": {…}}`: 201 with the instance.
pub async fn bind(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((instance, route)): Path<(String, String)>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let parameters = match serde_json::from_slice::<Value>(&bytes) {
        Ok(body) => body.get("parameters").cloned().filter(|p| !p.is_null()),
        Err(_) if bytes.iter().all(u8::is_ascii_whitespace) => None,
        Err(e) => return Err(ApiError::new("MessageParseError", &[&e.to_string()])),
    };
    if parameters.as_ref().is_some_and(|p| !p.is_object()) {
        return Err(ApiError::new("InvalidRequest", &[]));
    }
    route_services::bind(&cc, &user, &instance, &route, parameters.as_ref()).await?;
    created(&ALL_SERVICE_INSTANCES, &cc, &instance).await
}

/// `DELETE …/:guid/routes/:route`: 204.
pub async fn unbind(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((instance, route)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    ALL_SERVICE_INSTANCES.find_for(&cc.db, &instance, &user.user).await?;
    let binding = RouteBinding::of_route(&cc.db, &route)
        .await?
        .filter(|binding| binding.service_instance_guid == instance)
        .ok_or_else(|| ApiError::new("InvalidRelation", &["The route is not bound to this service instance"]))?;
    route_services::unbind(&cc, &user, &binding).await?;
    Ok(StatusCode::NO_CONTENT)
}
