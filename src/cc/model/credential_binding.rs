//! Credential bindings (v3): an app's service bindings and the service
//! keys of instances read as one resource, told apart by `type` (`app` or
//! `key`), each in the space of its instance.

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::resource::{Kind::*, Record, Resource, field, text_column};
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

/// A credential binding: an app's binding or a service key.
#[derive(Debug, Clone)]
pub struct CredentialBinding {
    pub guid: String,
    /// A service key (`key`), not an app's binding (`app`).
    pub is_key: bool,
    pub service_instance_guid: String,
    /// JSON, as the broker (or the user) gave them.
    pub credentials: Option<String>,
}

impl Record for CredentialBinding {
    const RESOURCE: &'static Resource = &CREDENTIAL_BINDINGS;

    fn from_row(row: &AnyRow) -> CredentialBinding {
        CredentialBinding {
            guid: text_column(row, "guid").unwrap_or_default(),
            is_key: text_column(row, "type").as_deref() == Some("key"),
            service_instance_guid: text_column(row, "service_instance_guid").unwrap_or_default(),
            credentials: text_column(row, "credentials"),
        }
    }
}

impl CredentialBinding {
    /// Its credentials as JSON; `{}` if there are none.
    pub fn credentials_json(&self) -> Value {
        self.credentials.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_else(|| json!({}))
    }
}
