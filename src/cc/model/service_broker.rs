//! Service brokers: the Open Service Broker API servers registered with
//! the CC, platform-wide or scoped to a space.

use super::SPACES;
use super::resource::{Kind::*, Resource, ToOne, field};
use crate::cc::permissions::Visibility;

pub static SERVICE_BROKERS: Resource = Resource {
    table: "service_brokers",
    path: "/v2/service_brokers",
    fields: &[field("name", Text), field("broker_url", Text), field("auth_username", Text)],
    to_one: &[ToOne { name: "space", resource: &SPACES }],
    to_many: &[],
    not_found: "ServiceBrokerNotFound",
    filters: &["name", "space_guid"],
    scope: None,
    // A space-scoped broker is seen in its space; the others by admins only.
    visibility: Visibility::InSpace("space_guid"),
};
