//! Packages in v3.

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::APPS;
use super::resource::{Relationship, V3Resource, action, column, computed, constant, filter, link};
use crate::cc::model::package::PACKAGES as MODEL;
use crate::cc::model::resource::Kind::Text;
use crate::cc::model::resource::text_column;

pub static PACKAGES: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/packages",
    plural: "packages",
    fields: &[constant("type", "\"bits\""), computed("data", data), column("state", "state", Text)],
    relationships: &[Relationship { name: "app", column: "app_guid", resource: &APPS }],
    links: &[
        action("upload", "/v3/packages/{guid}/upload"),
        link("download", "/v3/packages/{guid}/download"),
        link("app", "/v3/apps/{app_guid}"),
    ],
    filters: &[
        filter("guids", "guid IN (LIST)"),
        filter("app_guids", "app_guid IN (LIST)"),
        filter("states", "state IN (LIST)"),
        filter("types", "'bits' IN (LIST)"),
        filter("space_guids", "app_guid IN (SELECT guid FROM apps WHERE space_guid IN (LIST))"),
    ],
    order_by: &[],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

fn data(row: &AnyRow) -> Value {
    json!({"checksum": {"type": "sha1", "value": text_column(row, "sha1")}, "error": text_column(row, "error")})
}
