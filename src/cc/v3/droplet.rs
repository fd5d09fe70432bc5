//! Droplets in v3.

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::APPS;
use super::resource::{Link, Relationship, V3Resource, column, computed, constant, filter, link};
use crate::cc::model::droplet::DROPLETS as MODEL;
use crate::cc::model::resource::Kind::Text;
use crate::cc::model::resource::text_column;
use crate::protocol::STACK;

pub static DROPLETS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/droplets",
    plural: "droplets",
    fields: &[
        column("state", "state", Text),
        constant("error", "null"),
        constant("lifecycle", r#"{"type":"buildpack","data":{}}"#),
        constant("execution_metadata", "\"\""),
        computed("process_types", process_types),
        computed("checksum", checksum),
        computed("buildpacks", buildpacks),
        computed("stack", |_| Value::from(STACK)),
        constant("image", "null"),
    ],
    relationships: &[Relationship { name: "app", column: "app_guid", resource: &APPS }],
    links: &[
        link("package", "/v3/packages/{package_guid}"),
        link("app", "/v3/apps/{app_guid}"),
        Link {
            name: "assign_current_droplet",
            href: "/v3/apps/{app_guid}/relationships/current_droplet",
            method: Some("PATCH"),
        },
        link("download", "/v3/droplets/{guid}/download"),
    ],
    filters: &[
        filter("guids", "guid IN (LIST)"),
        filter("app_guids", "app_guid IN (LIST)"),
        filter("states", "state IN (LIST)"),
        filter("space_guids", "app_guid IN (SELECT guid FROM apps WHERE space_guid IN (LIST))"),
    ],
    order_by: &[],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

/// Its commands by process type; web's is the start command staging found.
fn process_types(row: &AnyRow) -> Value {
    let mut types: serde_json::Map<String, Value> =
        text_column(row, "process_types").and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default();
    if let Some(web) = text_column(row, "start_command") {
        types.insert("web".into(), json!(web));
    }
    Value::Object(types)
}

fn checksum(row: &AnyRow) -> Value {
    json!({"type": "sha1", "value": text_column(row, "sha1")})
}

fn buildpacks(row: &AnyRow) -> Value {
    let name = text_column(row, "buildpack");
    json!(
        name.map(|name| vec![json!({"name": name, "detect_output": null, "buildpack_name": null, "version": null})])
            .unwrap_or_default()
    )
}
