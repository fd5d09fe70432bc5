//! Services apps bind to: `/v2/user_provided_service_instances` (a name and
//! credentials the user gives — `cf create-user-provided-service`) and
//! `/v2/service_bindings` (an app bound to an instance of its space). A
//! binding to a user-provided instance copies its credentials; one to a
//! brokered instance ([`super::service_instances`]) gets credentials the
//! broker makes for it, and unbinding deletes them there
//! ([`crate::cc::services`]). Instances started after it find them in
//! VCAP_SERVICES and, for a database URL, in DATABASE_URL
//! ([`crate::protocol::vcap`]). Space developers manage both.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::body::Body;
use super::collection::created;
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{SERVICE_BINDINGS, USER_PROVIDED_SERVICE_INSTANCES};
use crate::cc::service_updates::update_user_provided;
use crate::cc::services::{self, writable_instance};

/// The fields of an instance a request sets, checked; and its new name.
fn instance_fields(body: &Body) -> ApiResult<(Assignments, Option<String>)> {
    let mut set = Assignments::default();
    let name = body.set_text(&mut set, "name")?;
    if let Some(credentials) = body.object("credentials")? {
        set.set("credentials", SqlValue::Text(Some(Value::Object(credentials).to_string())));
    }
    if let Some(tags) = body.strings("tags")? {
        if tags.iter().map(String::len).sum::<usize>() > 2048 {
            return Err(body.invalid("tags may have 2048 characters in all"));
        }
        set.set("tags", SqlValue::Text(Some(json!(tags).to_string())));
    }
    for column in ["syslog_drain_url", "route_service_url"] {
        if let Some(value) = body.nullable_string(column)? {
            if column == "route_service_url" {
                services::check_route_service_url(value.as_deref().unwrap_or_default())?;
            }
            set.set(column, SqlValue::Text(value));
        }
    }
    Ok((set, name))
}

pub async fn create_instance(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceInstanceInvalid")?;
    let name = body.required_string("name")?;
    let space = body.required_string("space_guid")?;
    let (fields, _) = instance_fields(&body)?;
    let guid = services::create_user_provided(&cc, &user, &name, &space, fields).await?;
    created(&USER_PROVIDED_SERVICE_INSTANCES, &cc, &guid).await
}

pub async fn update_instance(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    writable_instance(&cc, &user, &USER_PROVIDED_SERVICE_INSTANCES, &guid).await?;
    let body = Body::parse(&bytes, "ServiceInstanceInvalid")?;
    let (fields, name) = instance_fields(&body)?;
    update_user_provided(&cc, &guid, fields, name.as_deref()).await?;
    created(&USER_PROVIDED_SERVICE_INSTANCES, &cc, &guid).await
}

#[derive(serde::Deserialize)]
pub struct DeleteParams {
    #[serde(default)]
    recursive: Option<bool>,
}

pub async fn delete_instance(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    Query(params): Query<DeleteParams>,
) -> ApiResult<StatusCode> {
    writable_instance(&cc, &user, &USER_PROVIDED_SERVICE_INSTANCES, &guid).await?;
    services::forget_instance(&cc, &guid, params.recursive == Some(true)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn create_binding(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceBindingInvalid")?;
    let app_guid = body.required_string("app_guid")?;
    let instance_guid = body.required_string("service_instance_guid")?;
    let name = body.string("name")?;
    let parameters = body.object("parameters")?.map(Value::Object);
    let guid = services::bind(&cc, &user, &app_guid, &instance_guid, name, parameters).await?;
    created(&SERVICE_BINDINGS, &cc, &guid).await
}

pub async fn delete_binding(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<StatusCode> {
    services::unbind(&cc, &user, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}
