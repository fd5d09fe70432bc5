//! Admin buildpacks in v3.

use serde_json::Value;

use super::resource::{V3Resource, action, column, computed, constant, filter};
use crate::cc::model::BUILDPACKS as MODEL;
use crate::cc::model::resource::Kind::{Bool, Int, Text};
use crate::cc::model::resource::text_column;

pub static BUILDPACKS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/buildpacks",
    plural: "buildpacks",
    fields: &[
        column("name", "name", Text),
        computed("state", |row| {
            Value::from(if text_column(row, "blob_key").is_some() { "READY" } else { "AWAITING_UPLOAD" })
        }),
        column("filename", "filename", Text),
        column("stack", "stack", Text),
        column("position", "position", Int),
        constant("lifecycle", "\"buildpack\""),
        column("enabled", "enabled", Bool),
        column("locked", "locked", Bool),
    ],
    relationships: &[],
    links: &[action("upload", "/v3/buildpacks/{guid}/upload")],
    filters: &[filter("names", "name IN (LIST)"), filter("stacks", "stack IN (LIST)")],
    order_by: &["position"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};
