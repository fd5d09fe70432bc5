//! Service bindings: an app's credentials to a service instance.

use super::{ALL_SERVICE_INSTANCES, APPS};
use serde_json::{Value, json};
use sqlx::AnyPool;

use super::resource::{Kind, Kind::*, Resource, ToOne, field, text_column};
use crate::cc::error::ApiResult;
use crate::cc::permissions::Visibility;

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
        ToOne { name: "service_instance", resource: &ALL_SERVICE_INSTANCES },
    ],
    to_many: &[],
    not_found: "ServiceBindingNotFound",
    filters: &["app_guid", "service_instance_guid", "name"],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = service_bindings.app_guid)"),
};

/// The VCAP_SERVICES entries of an app's bindings, in binding order: what
/// `dea.start` carries as `services`. A brokered instance is listed under
/// its service's label with its plan, its tags after the service's.
pub async fn bound_services(db: &AnyPool, app: &str) -> ApiResult<Vec<Value>> {
    let rows = sqlx::query(
        "SELECT i.name AS instance_name, i.tags, b.name AS binding_name, b.credentials, b.syslog_drain_url, \
         s.label, s.tags AS service_tags, p.name AS plan FROM service_bindings b \
         JOIN service_instances i ON i.guid = b.service_instance_guid \
         LEFT JOIN service_plans p ON p.guid = i.service_plan_guid LEFT JOIN services s ON s.guid = p.service_guid \
         WHERE b.app_guid = $1 ORDER BY b.id",
    )
    .bind(app)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let text = |column: &str| text_column(row, column);
            let json_of =
                |column: &str, empty: Value| text(column).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(empty);
            let instance_name = text("instance_name").unwrap_or_default();
            let binding_name = text("binding_name");
            let mut tags: Vec<Value> = json_of("service_tags", json!([])).as_array().cloned().unwrap_or_default();
            tags.extend(json_of("tags", json!([])).as_array().cloned().unwrap_or_default());
            let mut entry = json!({
                "name": binding_name.clone().unwrap_or_else(|| instance_name.clone()),
                "instance_name": instance_name,
                "binding_name": binding_name,
                "label": text("label").unwrap_or_else(|| "user-provided".into()),
                "tags": tags,
                "credentials": json_of("credentials", json!({})),
                "syslog_drain_url": text("syslog_drain_url").unwrap_or_default(),
                "volume_mounts": [],
            });
            if let Some(plan) = text("plan") {
                entry["plan"] = json!(plan);
            }
            entry
        })
        .collect())
}

/// The names of the instances an app is bound to, in binding order.
pub async fn instance_names_of_app(db: &AnyPool, app: &str) -> ApiResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT i.name FROM service_bindings b JOIN service_instances i ON i.guid = b.service_instance_guid \
         WHERE b.app_guid = $1 ORDER BY b.id",
    )
    .bind(app)
    .fetch_all(db)
    .await?)
}
