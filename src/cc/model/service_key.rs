//! Service keys: credentials of a service instance not bound to an app.

use super::ALL_SERVICE_INSTANCES;
use super::resource::{Kind::*, Resource, ToOne, field};
use crate::cc::permissions::Visibility;

pub static SERVICE_KEYS: Resource = Resource {
    table: "service_keys",
    path: "/v2/service_keys",
    fields: &[field("name", Text), field("credentials", Json)],
    to_one: &[ToOne { name: "service_instance", resource: &ALL_SERVICE_INSTANCES }],
    to_many: &[],
    not_found: "ServiceKeyNotFound",
    filters: &["name", "service_instance_guid"],
    scope: None,
    visibility: Visibility::InSpace(
        "(SELECT space_guid FROM service_instances WHERE service_instances.guid = service_keys.service_instance_guid)",
    ),
};
