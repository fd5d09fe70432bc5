//! Organizations in v3.

use super::ORGANIZATION_QUOTAS;
use super::resource::{Filter, Relationship, V3Resource, column, constant, filter, link};
use crate::cc::model::ORGANIZATIONS as MODEL;
use crate::cc::model::resource::Kind::Text;

pub static ORGANIZATIONS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/organizations",
    plural: "organizations",
    fields: &[column("name", "name", Text), constant("suspended", "false")],
    relationships: &[Relationship { name: "quota", column: "quota_definition_guid", resource: &ORGANIZATION_QUOTAS }],
    links: &[
        link("domains", "/v3/organizations/{guid}/domains"),
        link("default_domain", "/v3/organizations/{guid}/domains/default"),
        link("quota", "/v3/organization_quotas/{quota_definition_guid}"),
    ],
    filters: FILTERS,
    order_by: &["name"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

const FILTERS: &[Filter] = &[filter("names", "name IN (LIST)"), filter("guids", "guid IN (LIST)")];
