//! `/v3/service_route_bindings` (the cf CLI v8's `bind-route-service` and
//! `unbind-route-service`): a route bound to a route service. With a
//! user-provided instance it is made (201) or gone (204) at once; with a
//! brokered one the work is a job (202 with `Location`). The work is
//! [`crate::cc::route_services`]'.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::apps::finished_job;
use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::Record;
use crate::cc::model::metadata;
use crate::cc::model::route_binding::RouteBinding;
use crate::cc::model::service_instance::ServiceInstance;
use crate::cc::route_services;
use crate::cc::v3::SERVICE_ROUTE_BINDINGS;

/// Whether the instance is brokered (its work answers with a job).
async fn brokered(cc: &Cc, instance: &str) -> ApiResult<bool> {
    Ok(ServiceInstance::find(&cc.db, instance).await?.managed)
}

/// `POST /v3/service_route_bindings` `{"relationships": {"route", "service_instance"}, "parameters"}`.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, &["relationships", "parameters", "metadata"])?;
    let route = body
        .string("relationships/route/data/guid", "Route guid")?
        .ok_or_else(|| invalid("Relationships route can't be blank"))?;
    let instance = body
        .string("relationships/service_instance/data/guid", "Service instance guid")?
        .ok_or_else(|| invalid("Relationships service_instance can't be blank"))?;
    let parameters = body.at("parameters");
    if parameters.is_some_and(|p| !p.is_object()) {
        return Err(invalid("Parameters must be an object"));
    }
    let guid = route_services::bind(&cc, &user, &instance, &route, parameters).await?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    if brokered(&cc, &instance).await? {
        return finished_job(&cc, "service_route_bindings.create").await;
    }
    let shown = SERVICE_ROUTE_BINDINGS.show(&cc, &user.user, &guid, None).await?;
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}

/// `DELETE /v3/service_route_bindings/:guid`.
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    SERVICE_ROUTE_BINDINGS.find_for(&cc, &user.user, &guid).await?;
    let binding = RouteBinding::find(&cc.db, &guid).await?;
    route_services::unbind(&cc, &user, &binding).await?;
    metadata::forget(&cc.db, &guid).await?;
    if brokered(&cc, &binding.service_instance_guid).await? {
        return finished_job(&cc, "service_route_bindings.delete").await;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
