//! Service bindings: an app's credentials to a service instance.

use super::{ALL_SERVICE_INSTANCES, APPS};
use serde_json::{Value, json};
use sqlx::AnyPool;

use super::resource::{Kind, Kind::*, Resource, ToOne, field, text_column};
use crate::cc::auth::User;
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::now;
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

/// A binding as stored: which app holds which instance's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceBinding {
    pub guid: String,
    pub app_guid: String,
    pub service_instance_guid: String,
}

/// A binding to store (its guid made first: a broker binds under it).
pub struct NewBinding<'a> {
    pub guid: &'a str,
    pub app_guid: &'a str,
    pub service_instance_guid: &'a str,
    pub name: Option<String>,
    /// JSON object.
    pub credentials: String,
    pub syslog_drain_url: Option<String>,
}

impl ServiceBinding {
    /// The binding by guid if `user` may see it, else ServiceBindingNotFound.
    pub async fn find_for(db: &AnyPool, guid: &str, user: &User) -> ApiResult<ServiceBinding> {
        let row = SERVICE_BINDINGS.find_for(db, guid, user).await?;
        let text = |column: &str| text_column(&row, column).unwrap_or_default();
        Ok(ServiceBinding {
            guid: text("guid"),
            app_guid: text("app_guid"),
            service_instance_guid: text("service_instance_guid"),
        })
    }

    /// Whether the app is bound to the instance.
    pub async fn exists(db: &AnyPool, app: &str, instance: &str) -> ApiResult<bool> {
        let bound: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM service_bindings WHERE app_guid = $1 AND service_instance_guid = $2",
        )
        .bind(app)
        .bind(instance)
        .fetch_one(db)
        .await?;
        Ok(bound > 0)
    }

    /// Stores a binding; ServiceBindingAppServiceTaken if the app has one
    /// to that instance.
    pub async fn insert(db: &AnyPool, new: NewBinding<'_>) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO service_bindings (guid, app_guid, service_instance_guid, name, credentials, syslog_drain_url, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new.guid)
        .bind(new.app_guid)
        .bind(new.service_instance_guid)
        .bind(new.name)
        .bind(new.credentials)
        .bind(new.syslog_drain_url)
        .bind(now())
        .execute(db)
        .await
        .map_err(|e| taken_or(e, "ServiceBindingAppServiceTaken", "The app is already bound to the service."))?;
        Ok(())
    }

    /// The bindings of a user-provided instance take its (new) credentials
    /// and drain url, as in CF.
    pub async fn take_instance_credentials(db: &AnyPool, instance: &str) -> ApiResult<()> {
        sqlx::query(
            "UPDATE service_bindings SET credentials = (SELECT credentials FROM service_instances WHERE guid = $1), \
             syslog_drain_url = (SELECT syslog_drain_url FROM service_instances WHERE guid = $1), updated_at = $2 \
             WHERE service_instance_guid = $1",
        )
        .bind(instance)
        .bind(now())
        .execute(db)
        .await?;
        Ok(())
    }
}
