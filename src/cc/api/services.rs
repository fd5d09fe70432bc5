//! Services apps bind to: `/v2/user_provided_service_instances` (a name and
//! credentials the user gives — `cf create-user-provided-service`) and
//! `/v2/service_bindings` (an app bound to an instance of its space). A
//! binding copies the instance's credentials; instances started after it
//! find them in VCAP_SERVICES and, for a database URL,
//! in DATABASE_URL ([`crate::dea::env`]). Space developers manage both.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::Row;

use super::apps::{APPS, writable_app};
use super::body::Body;
use super::collection::created;
use super::spaces::SPACES;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::permissions::{Visibility, is_space_developer, require};
use crate::cc::query::{Assignments, SqlValue};
use crate::cc::resource::{Kind, Kind::*, Resource, ToOne, field, link, to_many};
use crate::cc::{Cc, new_guid, now};

pub static USER_PROVIDED_SERVICE_INSTANCES: Resource = Resource {
    table: "service_instances",
    path: "/v2/user_provided_service_instances",
    fields: &[
        field("name", Text),
        field("credentials", Kind::Json),
        field("type", Text),
        field("syslog_drain_url", Text),
        field("route_service_url", Text),
        field("tags", Kind::Json),
    ],
    to_one: &[ToOne { name: "space", resource: &SPACES }],
    to_many: &[to_many("service_bindings", &SERVICE_BINDINGS, "service_instance_guid = ?"), link("routes")],
    not_found: "ServiceInstanceNotFound",
    filters: &["name", "space_guid"],
    scope: Some("type = 'user_provided_service_instance'"),
    visibility: Visibility::InSpace("space_guid"),
};

pub static SERVICE_BINDINGS: Resource = Resource {
    table: "service_bindings",
    path: "/v2/service_bindings",
    fields: &[
        field("credentials", Kind::Json),
        field("binding_options", Const("{}")),
        field("gateway_data", Const("null")),
        field("gateway_name", Const("\"\"")),
        field("syslog_drain_url", Text),
        field("volume_mounts", Const("[]")),
        field("name", Text),
    ],
    to_one: &[
        ToOne { name: "app", resource: &APPS },
        ToOne { name: "service_instance", resource: &USER_PROVIDED_SERVICE_INSTANCES },
    ],
    to_many: &[],
    not_found: "ServiceBindingNotFound",
    filters: &["app_guid", "service_instance_guid", "name"],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = service_bindings.app_guid)"),
};

/// The VCAP_SERVICES entries of an app's bindings, in binding order: what
/// `dea.start` carries as `services`.
pub async fn bound_services(cc: &Cc, app: &str) -> ApiResult<Vec<Value>> {
    let rows = sqlx::query(
        "SELECT i.name, i.tags, b.name, b.credentials, b.syslog_drain_url FROM service_bindings b \
         JOIN service_instances i ON i.guid = b.service_instance_guid WHERE b.app_guid = $1 ORDER BY b.id",
    )
    .bind(app)
    .fetch_all(&cc.db)
    .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let text = |i: usize| row.try_get::<Option<String>, _>(i).ok().flatten();
            let json_of = |i: usize, empty: Value| text(i).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(empty);
            let instance_name = text(0).unwrap_or_default();
            let binding_name = text(2);
            json!({
                "name": binding_name.clone().unwrap_or_else(|| instance_name.clone()),
                "instance_name": instance_name,
                "binding_name": binding_name,
                "label": "user-provided",
                "tags": json_of(1, json!([])),
                "credentials": json_of(3, json!({})),
                "syslog_drain_url": text(4).unwrap_or_default(),
                "volume_mounts": [],
            })
        })
        .collect())
}

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

/// The instance, if the user may change it; returns its space.
async fn writable_instance(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<String> {
    let instance = USER_PROVIDED_SERVICE_INSTANCES.find_for(&cc.db, guid, &user.user).await?;
    let space: String = instance.try_get("space_guid").unwrap_or_default();
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    Ok(space)
}

pub async fn update_instance(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    writable_instance(&cc, &user, &guid).await?;
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
    writable_instance(&cc, &user, &guid).await?;
    let bindings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM service_bindings WHERE service_instance_guid = $1")
        .bind(&guid)
        .fetch_one(&cc.db)
        .await?;
    if bindings > 0 && params.recursive != Some(true) {
        return Err(ApiError::new("AssociationNotEmpty", &["service_bindings", "service instance"]));
    }
    sqlx::query("DELETE FROM service_bindings WHERE service_instance_guid = $1").bind(&guid).execute(&cc.db).await?;
    sqlx::query("DELETE FROM service_instances WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn create_binding(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceBindingInvalid")?;
    let app_guid = body.required_string("app_guid")?;
    let instance_guid = body.required_string("service_instance_guid")?;
    let name = body.string("name")?;
    let app = writable_app(&cc, &user, &app_guid).await?;
    let instance = USER_PROVIDED_SERVICE_INSTANCES.find_for(&cc.db, &instance_guid, &user.user).await?;
    let text = |row: &sqlx::any::AnyRow, column: &str| row.try_get::<Option<String>, _>(column).ok().flatten();
    if text(&app, "space_guid") != text(&instance, "space_guid") {
        return Err(ApiError::new("ServiceBindingDifferentSpaces", &[&format!("{app_guid} {instance_guid}")]));
    }
    let guid = new_guid();
    sqlx::query(
        "INSERT INTO service_bindings (guid, app_guid, service_instance_guid, name, credentials, syslog_drain_url, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&guid)
    .bind(&app_guid)
    .bind(&instance_guid)
    .bind(name)
    .bind(text(&instance, "credentials").unwrap_or_else(|| "{}".into()))
    .bind(text(&instance, "syslog_drain_url"))
    .bind(now())
    .execute(&cc.db)
    .await
    .map_err(|e| taken_or(e, "ServiceBindingAppServiceTaken", "The app is already bound to the service."))?;
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
    sqlx::query("DELETE FROM service_bindings WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    Ok(StatusCode::NO_CONTENT)
}
