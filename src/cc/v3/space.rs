//! Spaces in v3.

use super::resource::{Relationship, V3Resource, action, column, filter, link};
use super::{ORGANIZATIONS, SPACE_QUOTAS};
use crate::cc::model::SPACES as MODEL;
use crate::cc::model::resource::Kind::Text;

pub static SPACES: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/spaces",
    plural: "spaces",
    fields: &[column("name", "name", Text)],
    relationships: &[
        Relationship { name: "organization", column: "organization_guid", resource: &ORGANIZATIONS },
        Relationship { name: "quota", column: "space_quota_definition_guid", resource: &SPACE_QUOTAS },
    ],
    links: &[
        link("organization", "/v3/organizations/{organization_guid}"),
        link("features", "/v3/spaces/{guid}/features"),
        action("apply_manifest", "/v3/spaces/{guid}/actions/apply_manifest"),
    ],
    filters: &[
        filter("names", "name IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("organization_guids", "organization_guid IN (LIST)"),
    ],
    order_by: &["name"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};
