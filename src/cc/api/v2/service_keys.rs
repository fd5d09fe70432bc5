//! `/v2/service_keys`: credentials a broker makes for use outside apps
//! (`cf create-service-key`, `service-keys`, `service-key`,
//! `delete-service-key`) — a binding without an app, made and deleted at
//! the instance's broker. User-provided instances have none.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::body::Body;
use super::collection::created;
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::SERVICE_KEYS;
use crate::cc::services;

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceKeyInvalid")?;
    let name = body.required_string("name")?;
    let instance_guid = body.required_string("service_instance_guid")?;
    let parameters = body.object("parameters")?.map(Value::Object);
    let guid = services::create_key(&cc, &user, &instance_guid, &name, parameters).await?;
    created(&SERVICE_KEYS, &cc, &guid).await
}

pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    services::delete_key(&cc, &user, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}
