//! `/v2/service_keys`: credentials a broker makes for use outside apps
//! (`cf create-service-key`, `service-keys`, `service-key`,
//! `delete-service-key`) — a binding without an app, made and deleted at
//! the instance's broker. User-provided instances have none.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use sqlx::Row;

use super::body::Body;
use super::collection::created;
use super::services::{credentials_for, forget_at_broker, unbind_at_broker, writable_instance};
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::model::resource::text_column;
use crate::cc::model::{ALL_SERVICE_INSTANCES, SERVICE_KEYS};
use crate::cc::{Cc, new_guid, now};

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceKeyInvalid")?;
    let name = body.required_string("name")?;
    let instance_guid = body.required_string("service_instance_guid")?;
    let parameters = body.object("parameters")?.map(Value::Object);
    let instance = writable_instance(&cc, &user, &ALL_SERVICE_INSTANCES, &instance_guid).await?;
    if text_column(&instance, "service_plan_guid").is_none() {
        let why = "Service keys are not supported for user-provided service instances.";
        return Err(ApiError::new("ServiceKeyNotSupported", &[why]));
    }
    let taken: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM service_keys WHERE service_instance_guid = $1 AND name = $2")
            .bind(&instance_guid)
            .bind(&name)
            .fetch_one(&cc.db)
            .await?;
    if taken > 0 {
        return Err(ApiError::new("ServiceKeyNameTaken", &[&name]));
    }
    let guid = new_guid();
    let (credentials, _) = credentials_for(&cc, &instance, &guid, None, parameters.as_ref(), &user.user.guid).await?;
    let stored = sqlx::query(
        "INSERT INTO service_keys (guid, name, service_instance_guid, credentials, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&guid)
    .bind(&name)
    .bind(&instance_guid)
    .bind(credentials)
    .bind(now())
    .execute(&cc.db)
    .await;
    if let Err(e) = stored {
        return Err(forget_at_broker(&cc, &instance, &guid, taken_or(e, "ServiceKeyNameTaken", &name)).await);
    }
    created(&SERVICE_KEYS, &cc, &guid).await
}

pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    let key = SERVICE_KEYS.find_for(&cc.db, &guid, &user.user).await?;
    let instance_guid: String = key.try_get("service_instance_guid").unwrap_or_default();
    writable_instance(&cc, &user, &ALL_SERVICE_INSTANCES, &instance_guid).await?;
    unbind_at_broker(&cc, &instance_guid, &guid, &user.user.guid).await?;
    sqlx::query("DELETE FROM service_keys WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    Ok(StatusCode::NO_CONTENT)
}
