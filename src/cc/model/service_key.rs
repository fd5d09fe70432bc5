//! Service keys: credentials of a service instance not bound to an app.

use sqlx::AnyPool;

use super::ALL_SERVICE_INSTANCES;
use super::resource::{Kind::*, Resource, ToOne, field, text_column};
use crate::cc::auth::User;
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::now;
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

/// A key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceKey {
    pub guid: String,
    pub name: String,
    pub service_instance_guid: String,
}

impl ServiceKey {
    /// The key by guid if `user` may see it, else ServiceKeyNotFound.
    pub async fn find_for(db: &AnyPool, guid: &str, user: &User) -> ApiResult<ServiceKey> {
        let row = SERVICE_KEYS.find_for(db, guid, user).await?;
        let text = |column: &str| text_column(&row, column).unwrap_or_default();
        Ok(ServiceKey { guid: text("guid"), name: text("name"), service_instance_guid: text("service_instance_guid") })
    }

    /// Whether the instance has a key called `name`.
    pub async fn name_taken(db: &AnyPool, instance: &str, name: &str) -> ApiResult<bool> {
        let taken: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM service_keys WHERE service_instance_guid = $1 AND name = $2")
                .bind(instance)
                .bind(name)
                .fetch_one(db)
                .await?;
        Ok(taken > 0)
    }

    /// Stores a key under `guid` (made first: its broker binds under it);
    /// ServiceKeyNameTaken if the instance has one called `name`.
    pub async fn insert(db: &AnyPool, guid: &str, name: &str, instance: &str, credentials: String) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO service_keys (guid, name, service_instance_guid, credentials, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(guid)
        .bind(name)
        .bind(instance)
        .bind(credentials)
        .bind(now())
        .execute(db)
        .await
        .map_err(|e| taken_or(e, "ServiceKeyNameTaken", name))?;
        Ok(())
    }
}
