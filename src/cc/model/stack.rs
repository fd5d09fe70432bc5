//! Stacks: what apps stage and run on (one here: [`crate::protocol::STACK`]).

use sqlx::AnyPool;

use super::resource::{Kind::*, Resource, field};
use crate::cc::error::ApiResult;
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

/// `guid`, if a stack has it.
pub async fn guid_if_exists(db: &AnyPool, guid: &str) -> ApiResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT guid FROM stacks WHERE guid = $1").bind(guid).fetch_optional(db).await?)
}

/// The guid of the stack called `name`, if there is one.
pub async fn guid_named(db: &AnyPool, name: &str) -> ApiResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT guid FROM stacks WHERE name = $1").bind(name).fetch_optional(db).await?)
}
