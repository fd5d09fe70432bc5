//! Domains in v3: shared ones (no owning organization) and private ones.

use super::ORGANIZATIONS;
use super::resource::{Relationship, V3Resource, column, constant, filter, link};
use crate::cc::model::DOMAINS as MODEL;
use crate::cc::model::resource::Kind::Text;

pub static DOMAINS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/domains",
    plural: "domains",
    fields: &[
        column("name", "name", Text),
        constant("internal", "false"),
        constant("router_group", "null"),
        constant("supported_protocols", r#"["http"]"#),
        constant("relationships.shared_organizations", r#"{"data":[]}"#),
    ],
    relationships: &[Relationship {
        name: "organization",
        column: "owning_organization_guid",
        resource: &ORGANIZATIONS,
    }],
    links: &[
        link("route_reservations", "/v3/domains/{guid}/route_reservations"),
        link("shared_organizations", "/v3/domains/{guid}/relationships/shared_organizations"),
    ],
    filters: &[
        filter("names", "name IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("organization_guids", "owning_organization_guid IN (LIST)"),
    ],
    order_by: &["name"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};
