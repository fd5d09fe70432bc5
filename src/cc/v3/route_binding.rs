//! Service route bindings in v3: a route bound to a route service.

use super::resource::{Relationship, V3Resource, column, computed, filter, link};
use super::{ROUTES, SERVICE_INSTANCES};
use crate::cc::model::resource::Kind::Text;
use crate::cc::model::resource::text_column;
use crate::cc::model::route_binding::ROUTE_BINDINGS as MODEL;

pub static SERVICE_ROUTE_BINDINGS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/service_route_bindings",
    plural: "service_route_bindings",
    fields: &[
        column("route_service_url", "route_service_url", Text),
        computed("last_operation", |row| {
            let at = text_column(row, "created_at");
            serde_json::json!({"type": "create", "state": "succeeded", "description": "", "created_at": at, "updated_at": at})
        }),
    ],
    relationships: &[
        Relationship { name: "service_instance", column: "service_instance_guid", resource: &SERVICE_INSTANCES },
        Relationship { name: "route", column: "route_guid", resource: &ROUTES },
    ],
    links: &[
        link("service_instance", "/v3/service_instances/{service_instance_guid}"),
        link("route", "/v3/routes/{route_guid}"),
    ],
    filters: &[
        filter("guids", "guid IN (LIST)"),
        filter("route_guids", "route_guid IN (LIST)"),
        filter("service_instance_guids", "service_instance_guid IN (LIST)"),
        filter(
            "service_instance_names",
            "service_instance_guid IN (SELECT guid FROM service_instances WHERE name IN (LIST))",
        ),
    ],
    order_by: &[],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};
