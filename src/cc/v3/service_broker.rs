//! Service brokers in v3 (platform-wide, or scoped to a space).

use super::SPACES;
use super::resource::{Relationship, V3Resource, column, filter, link};
use crate::cc::model::SERVICE_BROKERS as MODEL;
use crate::cc::model::resource::Kind::Text;

pub static SERVICE_BROKERS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/service_brokers",
    plural: "service_brokers",
    fields: &[column("name", "name", Text), column("url", "broker_url", Text)],
    relationships: &[Relationship { name: "space", column: "space_guid", resource: &SPACES }],
    links: &[link("service_offerings", "/v3/service_offerings?service_broker_guids={guid}")],
    filters: &[filter("names", "name IN (LIST)"), filter("space_guids", "space_guid IN (LIST)")],
    order_by: &["name"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};
