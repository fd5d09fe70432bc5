//! Builds in v3.

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::APPS;
use super::resource::{Relationship, V3Resource, column, computed, constant, filter, link};
use crate::cc::model::build::BUILDS as MODEL;
use crate::cc::model::resource::Kind::Text;
use crate::cc::model::resource::text_column;
use crate::protocol::STACK;

pub static BUILDS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/builds",
    plural: "builds",
    fields: &[
        column("state", "state", Text),
        column("error", "error", Text),
        constant("staging_memory_in_mb", "null"),
        constant("staging_disk_in_mb", "null"),
        computed("lifecycle", |_| json!({"type": "buildpack", "data": {"buildpacks": [], "stack": STACK}})),
        computed("package", |row| json!({"guid": text_column(row, "package_guid")})),
        computed("droplet", droplet),
        computed(
            "created_by",
            |row| json!({"guid": text_column(row, "created_by_guid"), "name": text_column(row, "created_by_name"), "email": text_column(row, "created_by_name")}),
        ),
    ],
    relationships: &[Relationship { name: "app", column: "app_guid", resource: &APPS }],
    links: &[link("app", "/v3/apps/{app_guid}")],
    filters: &[
        filter("guids", "guid IN (LIST)"),
        filter("app_guids", "app_guid IN (LIST)"),
        filter("package_guids", "package_guid IN (LIST)"),
        filter("states", "state IN (LIST)"),
    ],
    order_by: &[],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

fn droplet(row: &AnyRow) -> Value {
    text_column(row, "droplet_guid").map_or(Value::Null, |guid| json!({"guid": guid}))
}
