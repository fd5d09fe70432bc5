//! Stacks: what apps stage and run on (one here: [`crate::protocol::STACK`]).

use super::resource::{Kind::*, Resource, field};
use crate::cc::permissions::Visibility;

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
