//! Revisions in v3.

use serde_json::{Value, json};

use super::APPS;
use super::resource::{Relationship, V3Resource, column, computed, constant, link};
use crate::cc::model::resource::Kind::{Int, Text};
use crate::cc::model::resource::text_column;
use crate::cc::model::revision::REVISIONS as MODEL;

pub static REVISIONS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/revisions",
    plural: "revisions",
    fields: &[
        column("version", "version", Int),
        computed("droplet", |row| text_column(row, "droplet_guid").map_or(Value::Null, |guid| json!({"guid": guid}))),
        computed("processes", |row| json!({"web": {"command": text_column(row, "command")}})),
        constant("sidecars", "[]"),
        column("description", "description", Text),
        constant("deployable", "true"),
    ],
    relationships: &[Relationship { name: "app", column: "app_guid", resource: &APPS }],
    links: &[
        link("app", "/v3/apps/{app_guid}"),
        link("environment_variables", "/v3/revisions/{guid}/environment_variables"),
    ],
    filters: &[super::resource::filter("versions", "CAST(version AS TEXT) IN (LIST)")],
    order_by: &["version"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};
