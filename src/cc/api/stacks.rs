//! Stacks: what apps are staged for and run on. Here there is one, WASI 0.2.

use crate::cc::permissions::Visibility;
use crate::cc::resource::{Kind::*, Resource, field};

pub static STACKS: Resource = Resource {
    table: "stacks",
    path: "/v2/stacks",
    fields: &[field("name", Text), field("description", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "StackNotFound",
    filters: &["name"],
    scope: None,
    visibility: Visibility::Everyone,
};
