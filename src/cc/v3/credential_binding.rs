//! Service credential bindings in v3: app bindings and service keys.

use super::resource::{Relationship, V3Resource, column, computed, filter, link};
use super::{APPS, SERVICE_INSTANCES};
use crate::cc::model::credential_binding::CREDENTIAL_BINDINGS as MODEL;
use crate::cc::model::resource::Kind::Text;

pub static SERVICE_CREDENTIAL_BINDINGS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/service_credential_bindings",
    plural: "service_credential_bindings",
    fields: &[
        column("name", "name", Text),
        column("type", "type", Text),
        computed("last_operation", |row| {
            let at = crate::cc::model::resource::text_column(row, "created_at");
            serde_json::json!({"type": "create", "state": "succeeded", "description": "", "created_at": at, "updated_at": at})
        }),
    ],
    relationships: &[
        Relationship { name: "app", column: "app_guid", resource: &APPS },
        Relationship { name: "service_instance", column: "service_instance_guid", resource: &SERVICE_INSTANCES },
    ],
    links: &[
        link("details", "/v3/service_credential_bindings/{guid}/details"),
        link("service_instance", "/v3/service_instances/{service_instance_guid}"),
    ],
    filters: &[
        filter("names", "name IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("type", "type IN (LIST)"),
        filter("app_guids", "app_guid IN (LIST)"),
        filter("app_names", "app_guid IN (SELECT guid FROM apps WHERE name IN (LIST))"),
        filter("service_instance_guids", "service_instance_guid IN (LIST)"),
        filter(
            "service_instance_names",
            "service_instance_guid IN (SELECT guid FROM service_instances WHERE name IN (LIST))",
        ),
        filter("space_guids", "space_guid IN (LIST)"),
    ],
    order_by: &["name"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};
