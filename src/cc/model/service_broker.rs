//! Service brokers: the Open Service Broker API servers registered with
//! the CC, platform-wide or scoped to a space.

use serde_json::Value;
use sqlx::{Any, AnyPool, Row, Transaction};

use super::SPACES;
use super::catalog::{Catalog, CatalogPlan, CatalogService};
use super::resource::{Kind::*, Resource, ToOne, field, text_column};
use crate::cc::auth::User;
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

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

/// What a broker is reached with.
pub struct BrokerFields<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub username: &'a str,
    pub password: &'a str,
}

/// A broker as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceBroker {
    pub guid: String,
    pub name: String,
    pub broker_url: String,
    pub auth_username: String,
    pub auth_password: String,
    /// The space it is scoped to, if not platform-wide.
    pub space_guid: Option<String>,
}

impl ServiceBroker {
    /// The broker by guid if `user` may see it, else ServiceBrokerNotFound.
    pub async fn find_for(db: &AnyPool, guid: &str, user: &User) -> ApiResult<ServiceBroker> {
        let row = SERVICE_BROKERS.find_for(db, guid, user).await?;
        let text = |column: &str| text_column(&row, column);
        Ok(ServiceBroker {
            guid: text("guid").unwrap_or_default(),
            name: text("name").unwrap_or_default(),
            broker_url: text("broker_url").unwrap_or_default(),
            auth_username: text("auth_username").unwrap_or_default(),
            auth_password: text("auth_password").unwrap_or_default(),
            space_guid: text("space_guid"),
        })
    }

    /// The guid of another broker (than `except`) whose `column` (`name` or
    /// `broker_url`) is `value`, if there is one.
    pub async fn other_with(db: &AnyPool, column: &str, value: &str, except: &str) -> ApiResult<Option<String>> {
        let column = if column == "name" { "name" } else { "broker_url" };
        Ok(sqlx::query_scalar(&format!("SELECT guid FROM service_brokers WHERE {column} = $1 AND guid <> $2"))
            .bind(value)
            .bind(except)
            .fetch_optional(db)
            .await?)
    }

    /// The guid and name of the broker called `name` or at `url`, if any.
    pub async fn named_or_at(db: &AnyPool, name: &str, url: &str) -> ApiResult<Option<(String, String)>> {
        let row = sqlx::query("SELECT guid, name FROM service_brokers WHERE name = $1 OR broker_url = $2")
            .bind(name)
            .bind(url)
            .fetch_optional(db)
            .await?;
        Ok(row
            .map(|row| (text_column(&row, "guid").unwrap_or_default(), text_column(&row, "name").unwrap_or_default())))
    }

    /// Stores the broker — a new one (in `space`, if scoped) when `new_in`
    /// is given, else changes to broker `guid` — and its catalog, in one
    /// transaction. A name taken is ServiceBrokerNameTaken.
    pub async fn save(
        db: &AnyPool,
        guid: &str,
        broker: &BrokerFields<'_>,
        new_in: Option<Option<String>>,
        catalog: &Catalog,
    ) -> ApiResult<()> {
        let sql = match new_in {
            Some(_) => {
                "INSERT INTO service_brokers (name, broker_url, auth_username, auth_password, created_at, guid, space_guid) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            }
            None => {
                "UPDATE service_brokers SET name = $1, broker_url = $2, auth_username = $3, auth_password = $4, \
                 updated_at = $5 WHERE guid = $6"
            }
        };
        let mut query = sqlx::query(sql)
            .bind(broker.name)
            .bind(broker.url)
            .bind(broker.username)
            .bind(broker.password)
            .bind(now())
            .bind(guid);
        if let Some(space) = new_in {
            query = query.bind(space);
        }
        let mut tx = db.begin().await?;
        query.execute(&mut *tx).await.map_err(|e| taken_or(e, "ServiceBrokerNameTaken", broker.name))?;
        store_catalog(&mut tx, guid, catalog).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many service instances have a plan of the broker.
    pub async fn instance_count(db: &AnyPool, guid: &str) -> ApiResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM service_instances i JOIN service_plans p ON p.guid = i.service_plan_guid \
             JOIN services s ON s.guid = p.service_guid WHERE s.service_broker_guid = $1",
        )
        .bind(guid)
        .fetch_one(db)
        .await?)
    }
}

/// Makes the broker's services and plans what `catalog` says, in `tx`.
/// What it no longer offers goes, but for plans instances still use: those
/// (and their services) stay, inactive, so no new instance gets them.
async fn store_catalog(tx: &mut Transaction<'_, Any>, broker: &str, catalog: &Catalog) -> ApiResult<()> {
    let mut kept_services = Vec::new();
    for service in &catalog.services {
        let guid = store_service(tx, broker, service).await?;
        let mut kept_plans = Vec::new();
        for plan in &service.plans {
            kept_plans.push(store_plan(tx, &guid, plan).await?);
        }
        retire_others(tx, "service_plans", "service_guid", &guid, &kept_plans).await?;
        kept_services.push(guid);
    }
    let gone_services = others(tx, "services", "service_broker_guid", broker, &kept_services).await?;
    for service in &gone_services {
        retire_others(tx, "service_plans", "service_guid", service, &[]).await?;
    }
    retire_others(tx, "services", "service_broker_guid", broker, &kept_services).await
}

/// The guids of the rows of `table` whose `owner_column` is `owner`, but `kept`.
async fn others(
    tx: &mut Transaction<'_, Any>,
    table: &str,
    owner_column: &str,
    owner: &str,
    kept: &[String],
) -> ApiResult<Vec<String>> {
    let rows = sqlx::query(&format!("SELECT guid FROM {table} WHERE {owner_column} = $1"))
        .bind(owner)
        .fetch_all(&mut **tx)
        .await?;
    let guids = rows.iter().filter_map(|row| row.try_get::<String, _>("guid").ok());
    Ok(guids.filter(|guid| !kept.contains(guid)).collect())
}

/// Deletes the plans (or services) a catalog no longer has, or makes them
/// inactive while instances use them (services: while a plan is left).
async fn retire_others(
    tx: &mut Transaction<'_, Any>,
    table: &str,
    owner_column: &str,
    owner: &str,
    kept: &[String],
) -> ApiResult<()> {
    let in_use = if table == "service_plans" {
        "SELECT COUNT(*) FROM service_instances WHERE service_plan_guid = $1 OR pending_plan_guid = $2"
    } else {
        "SELECT COUNT(*) FROM service_plans WHERE service_guid = $1 AND guid <> $2"
    };
    for guid in others(tx, table, owner_column, owner, kept).await? {
        let users: i64 = sqlx::query_scalar(in_use).bind(&guid).bind(&guid).fetch_one(&mut **tx).await?;
        let sql = if users > 0 {
            format!("UPDATE {table} SET active = FALSE WHERE guid = $1")
        } else {
            format!("DELETE FROM {table} WHERE guid = $1")
        };
        sqlx::query(&sql).bind(&guid).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Updates or adds one service (known by its catalog id); returns its guid.
async fn store_service(tx: &mut Transaction<'_, Any>, broker: &str, s: &CatalogService) -> ApiResult<String> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT guid FROM services WHERE service_broker_guid = $1 AND unique_id = $2")
            .bind(broker)
            .bind(&s.id)
            .fetch_optional(&mut **tx)
            .await?;
    let guid = existing.clone().unwrap_or_else(new_guid);
    let sql = if existing.is_some() {
        "UPDATE services SET label = $1, description = $2, bindable = $3, tags = $4, requires = $5, \
         plan_updateable = $6, extra = $7, active = $8, updated_at = $9 WHERE guid = $10 AND service_broker_guid = $11 \
         AND unique_id = $12"
    } else {
        "INSERT INTO services (label, description, bindable, tags, requires, plan_updateable, extra, active, created_at, \
         guid, service_broker_guid, unique_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    };
    sqlx::query(sql)
        .bind(&s.name)
        .bind(&s.description)
        .bind(s.bindable)
        .bind(serde_json::to_string(&s.tags).unwrap_or_default())
        .bind(serde_json::to_string(&s.requires).unwrap_or_default())
        .bind(s.plan_updateable)
        .bind(metadata(&s.metadata))
        .bind(true)
        .bind(now())
        .bind(&guid)
        .bind(broker)
        .bind(&s.id)
        .execute(&mut **tx)
        .await?;
    Ok(guid)
}

/// Updates or adds one plan of a service; returns its guid.
async fn store_plan(tx: &mut Transaction<'_, Any>, service: &str, p: &CatalogPlan) -> ApiResult<String> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT guid FROM service_plans WHERE service_guid = $1 AND unique_id = $2")
            .bind(service)
            .bind(&p.id)
            .fetch_optional(&mut **tx)
            .await?;
    let guid = existing.clone().unwrap_or_else(new_guid);
    let sql = if existing.is_some() {
        "UPDATE service_plans SET name = $1, description = $2, free = $3, bindable = $4, extra = $5, active = $6, \
         updated_at = $7 WHERE guid = $8 AND service_guid = $9 AND unique_id = $10"
    } else {
        // New plans are private, as in CF, until an admin enables access.
        "INSERT INTO service_plans (name, description, free, bindable, extra, active, created_at, guid, service_guid, \
         unique_id, public) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE)"
    };
    sqlx::query(sql)
        .bind(&p.name)
        .bind(&p.description)
        .bind(p.free.unwrap_or(true))
        .bind(p.bindable)
        .bind(metadata(&p.metadata))
        .bind(true)
        .bind(now())
        .bind(&guid)
        .bind(service)
        .bind(&p.id)
        .execute(&mut **tx)
        .await?;
    Ok(guid)
}

/// A catalog's `metadata` object as stored (JSON text).
fn metadata(value: &Option<Value>) -> Option<String> {
    value.as_ref().map(Value::to_string)
}
