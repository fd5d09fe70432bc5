//! Services apps bind to: `/v2/user_provided_service_instances` (a name and
//! credentials the user gives — `cf create-user-provided-service`) and
//! `/v2/service_bindings` (an app bound to an instance of its space). A
//! binding to a user-provided instance copies its credentials; one to a
//! brokered instance ([`super::service_instances`]) gets credentials the
//! broker makes for it, and unbinding deletes them there. Instances started
//! after it find them in VCAP_SERVICES and, for a database URL, in
//! DATABASE_URL ([`crate::protocol::vcap`]). Space developers manage both.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::Row;

use super::body::Body;
use super::collection::created;
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::model::resource::{Resource, text_column};
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{ALL_SERVICE_INSTANCES, SERVICE_BINDINGS, SPACES, USER_PROVIDED_SERVICE_INSTANCES};
use crate::cc::osb::requests::Target;
use crate::cc::osb::{PlanBroker, operations, orphans};
use crate::cc::permissions::{is_space_developer, require};
use crate::cc::{Cc, new_guid, now};

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
    SPACES.find_for(&cc.db, &space, &user.user).await?;
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    let guid = new_guid();
    sqlx::query("INSERT INTO service_instances (guid, name, space_guid, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&guid)
        .bind(&name)
        .bind(&space)
        .bind(now())
        .execute(&cc.db)
        .await
        .map_err(|e| taken_or(e, "ServiceInstanceNameTaken", &name))?;
    fields.execute(&cc.db, "service_instances", &guid).await?;
    created(&USER_PROVIDED_SERVICE_INSTANCES, &cc, &guid).await
}

/// The instance (one of `instances`), if the user may change it: a space
/// developer of its space.
pub async fn writable_instance(
    cc: &Cc,
    user: &CurrentUser,
    instances: &Resource,
    guid: &str,
) -> ApiResult<sqlx::any::AnyRow> {
    let instance = instances.find_for(&cc.db, guid, &user.user).await?;
    let space = text_column(&instance, "space_guid").unwrap_or_default();
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    Ok(instance)
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
    fields
        .save(&cc.db, "service_instances", &guid, "ServiceInstanceNameTaken", name.as_deref().unwrap_or_default())
        .await?;
    // Bindings carry the instance's current credentials, as in CF.
    sqlx::query(
        "UPDATE service_bindings SET credentials = (SELECT credentials FROM service_instances WHERE guid = $1), \
         syslog_drain_url = (SELECT syslog_drain_url FROM service_instances WHERE guid = $2), updated_at = $3 \
         WHERE service_instance_guid = $4",
    )
    .bind(&guid)
    .bind(&guid)
    .bind(now())
    .bind(&guid)
    .execute(&cc.db)
    .await?;
    created(&USER_PROVIDED_SERVICE_INSTANCES, &cc, &guid).await
}

/// Deletes a user-provided instance; with bindings only if `recursive`.
pub async fn delete_user_provided(cc: &Cc, guid: &str, recursive: bool) -> ApiResult<StatusCode> {
    let bindings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM service_bindings WHERE service_instance_guid = $1")
        .bind(guid)
        .fetch_one(&cc.db)
        .await?;
    if bindings > 0 && !recursive {
        return Err(ApiError::new("AssociationNotEmpty", &["service_bindings", "service instance"]));
    }
    // Its bindings go with it (ON DELETE CASCADE).
    sqlx::query("DELETE FROM service_instances WHERE guid = $1").bind(guid).execute(&cc.db).await?;
    Ok(StatusCode::NO_CONTENT)
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
    delete_user_provided(&cc, &guid, params.recursive == Some(true)).await
}

/// Unbinds every binding and key of a brokered instance at its broker,
/// deleting each as the broker lets go of it.
pub async fn unbind_all(cc: &Cc, plan: &PlanBroker, target: &Target<'_>, user: &str) -> ApiResult<()> {
    for table in ["service_bindings", "service_keys"] {
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
    Ok(())
}

/// What a binding (or service key) of an instance holds: the user-provided
/// instance's credentials, or those its broker made for `binding`. A
/// brokered instance must be bindable and not busy.
pub async fn credentials_for(
    cc: &Cc,
    instance: &sqlx::any::AnyRow,
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
    match plan.broker().bind(&target, binding, app, parameters, user).await {
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
pub async fn forget_at_broker(cc: &Cc, instance: &sqlx::any::AnyRow, binding: &str, error: ApiError) -> ApiError {
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

pub async fn create_binding(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceBindingInvalid")?;
    let app_guid = body.required_string("app_guid")?;
    let instance_guid = body.required_string("service_instance_guid")?;
    let name = body.string("name")?;
    let parameters = body.object("parameters")?.map(Value::Object);
    let app = writable_app(&cc, &user, &app_guid).await?;
    let instance = ALL_SERVICE_INSTANCES.find_for(&cc.db, &instance_guid, &user.user).await?;
    if text_column(&app, "space_guid") != text_column(&instance, "space_guid") {
        return Err(ApiError::new("ServiceBindingDifferentSpaces", &[&format!("{app_guid} {instance_guid}")]));
    }
    let taken = || ApiError::new("ServiceBindingAppServiceTaken", &["The app is already bound to the service."]);
    let bound: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM service_bindings WHERE app_guid = $1 AND service_instance_guid = $2")
            .bind(&app_guid)
            .bind(&instance_guid)
            .fetch_one(&cc.db)
            .await?;
    if bound > 0 {
        return Err(taken());
    }
    let guid = new_guid();
    let (credentials, drain) =
        credentials_for(&cc, &instance, &guid, Some(&app_guid), parameters.as_ref(), &user.user.guid).await?;
    let stored = sqlx::query(
        "INSERT INTO service_bindings (guid, app_guid, service_instance_guid, name, credentials, syslog_drain_url, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&guid)
    .bind(&app_guid)
    .bind(&instance_guid)
    .bind(name)
    .bind(credentials)
    .bind(drain)
    .bind(now())
    .execute(&cc.db)
    .await;
    if let Err(e) = stored {
        let error = taken_or(e, "ServiceBindingAppServiceTaken", "The app is already bound to the service.");
        return Err(forget_at_broker(&cc, &instance, &guid, error).await);
    }
    created(&SERVICE_BINDINGS, &cc, &guid).await
}

pub async fn delete_binding(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<StatusCode> {
    let binding = SERVICE_BINDINGS.find_for(&cc.db, &guid, &user.user).await?;
    let app: String = binding.try_get("app_guid").unwrap_or_default();
    writable_app(&cc, &user, &app).await?;
    let instance: String = binding.try_get("service_instance_guid").unwrap_or_default();
    unbind_at_broker(&cc, &instance, &guid, &user.user.guid).await?;
    sqlx::query("DELETE FROM service_bindings WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    Ok(StatusCode::NO_CONTENT)
}
