//! Users in v3.

use super::resource::{V3Resource, column, constant, filter};
use crate::cc::model::USERS as MODEL;
use crate::cc::model::resource::Kind::Text;

pub static USERS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/users",
    plural: "users",
    fields: &[
        column("username", "username", Text),
        column("presentation_name", "username", Text),
        constant("origin", "\"uaa\""),
    ],
    relationships: &[],
    links: &[],
    filters: &[
        filter("guids", "guid IN (LIST)"),
        filter("usernames", "username IN (LIST)"),
        filter("origins", "'uaa' IN (LIST)"),
    ],
    order_by: &[],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};
