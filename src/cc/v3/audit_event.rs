//! Audit events in v3: the same events v2 lists, with actor and target.

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::resource::{V3Resource, column, computed, filter};
use crate::cc::model::EVENTS as MODEL;
use crate::cc::model::resource::Kind::{Json, Text};
use crate::cc::model::resource::text_column;

pub static AUDIT_EVENTS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/audit_events",
    plural: "audit_events",
    fields: &[
        column("type", "type", Text),
        computed("actor", |row| party(row, "actor")),
        computed("target", |row| party(row, "actee")),
        column("data", "metadata", Json),
        computed("space", |row| guid_of(row, "space_guid")),
        computed("organization", |row| guid_of(row, "organization_guid")),
    ],
    relationships: &[],
    links: &[],
    filters: &[
        filter("types", "type IN (LIST)"),
        filter("target_guids", "actee IN (LIST)"),
        filter("space_guids", "space_guid IN (LIST)"),
        filter("organization_guids", "organization_guid IN (LIST)"),
    ],
    order_by: &[],
    metadata: false,
    hidden_in_lists: &[],
    extend: None,
};

/// `{guid, type, name}` of the actor or the actee.
fn party(row: &AnyRow, prefix: &str) -> Value {
    json!({
        "guid": text_column(row, prefix),
        "type": text_column(row, &format!("{prefix}_type")),
        "name": text_column(row, &format!("{prefix}_name")).unwrap_or_default(),
    })
}

fn guid_of(row: &AnyRow, column: &str) -> Value {
    text_column(row, column).filter(|g| !g.is_empty()).map_or(Value::Null, |guid| json!({"guid": guid}))
}
