//! Service plans in v3.

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::presenter::column_value;
use super::resource::{Relationship, V3Resource, column, computed, constant, filter, link};
use super::{SERVICE_OFFERINGS, SPACES};
use crate::cc::model::resource::Kind::{Bool, Json, Text};
use crate::cc::model::resource::{bool_column, text_column};
use crate::cc::model::service::SPACED_SERVICE_PLANS as MODEL;

pub static SERVICE_PLANS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/service_plans",
    plural: "service_plans",
    fields: &[
        column("name", "name", Text),
        column("description", "description", Text),
        column("available", "active", Bool),
        column("free", "free", Bool),
        computed("visibility_type", visibility_type),
        constant("costs", "[]"),
        constant("maintenance_info", "{}"),
        computed("broker_catalog", broker_catalog),
        constant(
            "schemas",
            r#"{"service_instance":{"create":{"parameters":{}},"update":{"parameters":{}}},"service_binding":{"create":{"parameters":{}}}}"#,
        ),
    ],
    relationships: &[
        Relationship { name: "service_offering", column: "service_guid", resource: &SERVICE_OFFERINGS },
        Relationship { name: "space", column: "space_guid", resource: &SPACES },
    ],
    links: &[link("service_offering", "/v3/service_offerings/{service_guid}")],
    filters: &[
        filter("names", "name IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("service_offering_guids", "service_guid IN (LIST)"),
        filter("service_offering_names", "service_guid IN (SELECT guid FROM services WHERE label IN (LIST))"),
        filter(
            "service_broker_guids",
            "service_guid IN (SELECT guid FROM services WHERE service_broker_guid IN (LIST))",
        ),
        filter(
            "space_guids",
            "service_guid IN (SELECT s.guid FROM services s JOIN service_brokers b ON b.guid = s.service_broker_guid \
             WHERE b.space_guid IS NULL OR b.space_guid IN (LIST))",
        ),
        filter(
            "organization_guids",
            "service_guid IN (SELECT s.guid FROM services s JOIN service_brokers b ON b.guid = s.service_broker_guid \
             WHERE b.space_guid IS NULL OR b.space_guid IN (SELECT guid FROM spaces WHERE organization_guid IN (LIST)))",
        ),
        filter(
            "service_broker_names",
            "service_guid IN (SELECT s.guid FROM services s JOIN service_brokers b ON b.guid = s.service_broker_guid \
             WHERE b.name IN (LIST))",
        ),
    ],
    order_by: &["name"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

fn broker_catalog(row: &AnyRow) -> Value {
    // The catalog's metadata, `{}` when it gave none.
    let metadata = Some(column_value(row, "extra", Json)).filter(|m| !m.is_null()).unwrap_or(json!({}));
    json!({
        "id": text_column(row, "unique_id"),
        "metadata": metadata,
        "maximum_polling_duration": null,
        "features": {"plan_updateable": false, "bindable": bool_column(row, "bindable").unwrap_or(true)},
    })
}

/// Who may use the plan: everyone, its broker's space, chosen orgs, or admins.
fn visibility_type(row: &AnyRow) -> Value {
    let visible_orgs = sqlx::Row::try_get::<i64, _>(row, "visible_orgs").unwrap_or(0);
    Value::from(if text_column(row, "space_guid").is_some() {
        "space"
    } else if bool_column(row, "public").unwrap_or(false) {
        "public"
    } else if visible_orgs > 0 {
        "organization"
    } else {
        "admin"
    })
}
