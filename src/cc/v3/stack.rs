//! Stacks in v3: the one this platform runs (a wasm component host).

use serde_json::Value;
use sqlx::any::AnyRow;

use super::resource::{V3Resource, column, computed, constant, filter};
use crate::cc::model::STACKS as MODEL;
use crate::cc::model::resource::Kind::Text;
use crate::cc::model::resource::text_column;
use crate::protocol::STACK;

pub static STACKS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/stacks",
    plural: "stacks",
    fields: &[
        column("name", "name", Text),
        column("description", "description", Text),
        constant("build_rootfs_image", "null"),
        constant("run_rootfs_image", "null"),
        computed("default", is_default),
    ],
    relationships: &[],
    links: &[],
    filters: &[filter("names", "name IN (LIST)"), filter("guids", "guid IN (LIST)")],
    order_by: &["name"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

fn is_default(row: &AnyRow) -> Value {
    Value::Bool(text_column(row, "name").as_deref() == Some(STACK))
}
