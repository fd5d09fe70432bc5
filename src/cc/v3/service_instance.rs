//! Service instances in v3: managed (a broker's) and user-provided.

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::resource::{Relationship, V3Resource, column, computed, constant, filter, link};
use super::{SERVICE_PLANS, SPACES};
use crate::cc::model::ALL_SERVICE_INSTANCES as MODEL;
use crate::cc::model::resource::Kind::{Json, Text};
use crate::cc::model::resource::text_column;

pub static SERVICE_INSTANCES: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/service_instances",
    plural: "service_instances",
    fields: &[
        column("name", "name", Text),
        computed("type", kind),
        column("tags", "tags", Json),
        column("dashboard_url", "dashboard_url", Text),
        computed("last_operation", last_operation),
        constant("maintenance_info", "{}"),
        constant("upgrade_available", "false"),
        column("syslog_drain_url", "syslog_drain_url", Text),
        column("route_service_url", "route_service_url", Text),
    ],
    relationships: &[
        Relationship { name: "space", column: "space_guid", resource: &SPACES },
        Relationship { name: "service_plan", column: "service_plan_guid", resource: &SERVICE_PLANS },
    ],
    links: &[
        link("space", "/v3/spaces/{space_guid}"),
        link("service_credential_bindings", "/v3/service_credential_bindings?service_instance_guids={guid}"),
        link("service_route_bindings", "/v3/service_route_bindings?service_instance_guids={guid}"),
    ],
    filters: &[
        filter("names", "name IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("type", "(CASE type WHEN 'managed_service_instance' THEN 'managed' ELSE 'user-provided' END) IN (LIST)"),
        filter("space_guids", "space_guid IN (LIST)"),
        filter("organization_guids", "space_guid IN (SELECT guid FROM spaces WHERE organization_guid IN (LIST))"),
        filter("service_plan_guids", "service_plan_guid IN (LIST)"),
        filter("service_plan_names", "service_plan_guid IN (SELECT guid FROM service_plans WHERE name IN (LIST))"),
    ],
    order_by: &["name"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

fn kind(row: &AnyRow) -> Value {
    let managed = text_column(row, "type").as_deref() == Some("managed_service_instance");
    Value::from(if managed { "managed" } else { "user-provided" })
}

/// The broker operation as stored, or a finished create for user-provided ones.
fn last_operation(row: &AnyRow) -> Value {
    let stored: Option<Value> = text_column(row, "last_operation").and_then(|t| serde_json::from_str(&t).ok());
    stored.filter(|v| v.is_object()).unwrap_or_else(|| {
        let at = text_column(row, "created_at");
        json!({"type": "create", "state": "succeeded", "description": "", "created_at": at, "updated_at": at})
    })
}
