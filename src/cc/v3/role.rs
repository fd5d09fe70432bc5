//! Roles in v3: `organization_user`, `space_developer`….

use super::resource::{Relationship, V3Resource, column, filter, link};
use super::{ORGANIZATIONS, SPACES, USERS};
use crate::cc::model::resource::Kind::Text;
use crate::cc::model::role::ROLES as MODEL;

pub static ROLES: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/roles",
    plural: "roles",
    fields: &[column("type", "type", Text)],
    relationships: &[
        Relationship { name: "user", column: "user_guid", resource: &USERS },
        Relationship { name: "organization", column: "organization_guid", resource: &ORGANIZATIONS },
        Relationship { name: "space", column: "space_guid", resource: &SPACES },
    ],
    links: &[link("user", "/v3/users/{user_guid}")],
    filters: &[
        filter("guids", "guid IN (LIST)"),
        filter("types", "type IN (LIST)"),
        filter("user_guids", "user_guid IN (LIST)"),
        filter("organization_guids", "organization_guid IN (LIST)"),
        filter("space_guids", "space_guid IN (LIST)"),
    ],
    order_by: &[],
    metadata: false,
    hidden_in_lists: &[],
    extend: None,
};
