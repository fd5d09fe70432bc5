//! Credential bindings (v3): an app's service bindings and the service
//! keys of instances read as one resource, told apart by `type` (`app` or
//! `key`), each in the space of its instance.

use super::resource::{Kind::*, Resource, field};
use crate::cc::permissions::Visibility;

const BOTH: &str = "(SELECT b.created_at || b.guid AS id, b.guid, b.name, 'app' AS type, b.app_guid, \
     b.service_instance_guid, b.credentials, b.created_at, b.updated_at, i.space_guid FROM service_bindings b \
     JOIN service_instances i ON i.guid = b.service_instance_guid UNION ALL \
     SELECT k.created_at || k.guid, k.guid, k.name, 'key', NULL, k.service_instance_guid, k.credentials, \
     k.created_at, k.updated_at, i.space_guid FROM service_keys k \
     JOIN service_instances i ON i.guid = k.service_instance_guid) credential_bindings";

pub static CREDENTIAL_BINDINGS: Resource = Resource {
    table: BOTH,
    path: "/v3/service_credential_bindings",
    fields: &[field("name", Text), field("type", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "ServiceCredentialBindingNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("space_guid"),
};
