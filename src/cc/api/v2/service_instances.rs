//! `/v2/service_instances`: instances of brokered services (`cf
//! create-service`, `update-service`, `rename-service`, `delete-service`,
//! `purge-service-instance`). Creating one provisions it at its plan's
//! broker, updating one with a new plan or parameters updates it there,
//! deleting one deprovisions it — each finished at once or, with
//! `accepts_incomplete=true`, answered 202 and followed by the CC
//! ([`crate::cc::osb::poller`]) while `last_operation` says how it goes.
//! A provision that failed leaves nothing behind: no row, and at the broker
//! what may have been made is deleted (orphan mitigation).
//!
//! User-provided instances live in the same table; a space lists both.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use serde_json::Value;

use super::body::Body;
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::{ALL_SERVICE_INSTANCES, SERVICE_INSTANCES};
use crate::cc::permissions::require;
use crate::cc::service_updates::{ManagedUpdate, update_managed};
use crate::cc::services::{self, Deleted, NewInstance, writable_instance};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct OperationParams {
    accepts_incomplete: bool,
    recursive: bool,
    purge: bool,
}

/// 201 when the broker finished, 202 while it goes on.
async fn answer(cc: &Cc, guid: &str, finished: bool) -> ApiResult<Response> {
    let value = SERVICE_INSTANCES.get(&cc.db, guid).await?;
    let status = if finished { StatusCode::CREATED } else { StatusCode::ACCEPTED };
    Ok((status, [("location", SERVICE_INSTANCES.url(guid))], axum::Json(value)).into_response())
}

pub async fn create(
    State(cc): State<Cc>,
    user: CurrentUser,
    Query(params): Query<OperationParams>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceInstanceInvalid")?;
    let new = NewInstance {
        name: body.required_string("name")?,
        space: body.required_string("space_guid")?,
        plan: body.required_string("service_plan_guid")?,
        parameters: body.object("parameters")?.map(Value::Object),
        tags: body.strings("tags")?.unwrap_or_default(),
    };
    let (guid, finished) = services::provision(&cc, &user, new, params.accepts_incomplete).await?;
    answer(&cc, &guid, finished).await
}

pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    Query(params): Query<OperationParams>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let instance = writable_instance(&cc, &user, &ALL_SERVICE_INSTANCES, &guid).await?;
    if !instance.managed {
        return Err(ApiError::new("UserProvidedServiceInstanceHandlerNeeded", &[]));
    }
    let body = Body::parse(&bytes, "ServiceInstanceInvalid")?;
    if body.string("space_guid")?.is_some_and(|s| s != instance.space_guid) {
        return Err(ApiError::new("ServiceInstanceSpaceChangeNotAllowed", &[]));
    }
    let update = ManagedUpdate {
        name: body.string("name")?,
        tags: body.strings("tags")?,
        plan: body.string("service_plan_guid")?,
        parameters: body.object("parameters")?.map(Value::Object),
    };
    let finished = update_managed(&cc, &user, &instance, update, params.accepts_incomplete).await?;
    answer(&cc, &guid, finished).await
}

pub async fn delete(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    Query(params): Query<OperationParams>,
) -> ApiResult<Response> {
    let instance = writable_instance(&cc, &user, &ALL_SERVICE_INSTANCES, &guid).await?;
    if params.purge {
        // Forget it without asking the broker (an admin's way out of a broker that is gone).
        require(user.user.admin)?;
        services::forget_instance(&cc, &guid, true).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    match services::deprovision(&cc, &user, &instance, params.recursive, params.accepts_incomplete).await? {
        Deleted::Gone => Ok(StatusCode::NO_CONTENT.into_response()),
        Deleted::InProgress => answer(&cc, &guid, false).await,
    }
}
