//! Service offerings in v3: a broker's services (v2's `services`).

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::SERVICE_BROKERS;
use super::presenter::column_value;
use super::resource::{Relationship, V3Resource, column, computed, constant, filter, link};
use crate::cc::model::SERVICES as MODEL;
use crate::cc::model::resource::Kind::{Bool, Json, Text};
use crate::cc::model::resource::{bool_column, text_column};

pub static SERVICE_OFFERINGS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/service_offerings",
    plural: "service_offerings",
    fields: &[
        column("name", "label", Text),
        column("description", "description", Text),
        column("available", "active", Bool),
        column("tags", "tags", Json),
        column("requires", "requires", Json),
        constant("shareable", "false"),
        constant("documentation_url", "null"),
        computed("broker_catalog", broker_catalog),
    ],
    relationships: &[Relationship {
        name: "service_broker",
        column: "service_broker_guid",
        resource: &SERVICE_BROKERS,
    }],
    links: &[
        link("service_plans", "/v3/service_plans?service_offering_guids={guid}"),
        link("service_broker", "/v3/service_brokers/{service_broker_guid}"),
    ],
    filters: &[
        filter("names", "label IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("available", "active = (CASE WHEN 'true' IN (LIST) THEN 1 ELSE 0 END)"),
        filter("service_broker_guids", "service_broker_guid IN (LIST)"),
        filter(
            "service_broker_names",
            "service_broker_guid IN (SELECT guid FROM service_brokers WHERE name IN (LIST))",
        ),
        filter(
            "space_guids",
            "service_broker_guid IN (SELECT guid FROM service_brokers WHERE space_guid IS NULL OR space_guid IN (LIST))",
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
        "features": {
            "plan_updateable": bool_column(row, "plan_updateable").unwrap_or(false),
            "bindable": bool_column(row, "bindable").unwrap_or(false),
            "instances_retrievable": false,
            "bindings_retrievable": false,
            "allow_context_updates": false,
        },
    })
}
