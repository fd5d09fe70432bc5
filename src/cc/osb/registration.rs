//! Registering a broker: its URL and credentials checked, its catalog read
//! ([`super::client`], checked by [`super::catalog`]) and stored with it
//! at once — `cf create-service-broker`, `update-service-broker`, and the
//! CC's own registration of the built-in broker ([`super::builtin`]).
//! Reading a catalog again updates what is there, adds what is new and
//! removes what the broker no longer offers — but a plan instances still
//! use stays, inactive.

use serde_json::Value;
use sqlx::{Any, Row, Transaction};

use super::catalog::{Catalog, CatalogPlan, CatalogService};
use super::client::{Broker, check_url};
use crate::cc::Cc;
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::{new_guid, now};

/// What a broker is registered with.
pub struct Registration {
    pub name: String,
    pub url: String,
    pub username: String,
    pub password: String,
}

impl Registration {
    /// Checks the URL, that name and URL are free (but for broker `guid`
    /// itself), and reads the catalog.
    pub async fn check(&self, cc: &Cc, user_guid: &str, guid: &str) -> ApiResult<Catalog> {
        check_url(&self.url)?;
        for (column, value, taken) in
            [("name", &self.name, "ServiceBrokerNameTaken"), ("broker_url", &self.url, "ServiceBrokerUrlTaken")]
        {
            let other: Option<String> =
                sqlx::query_scalar(&format!("SELECT guid FROM service_brokers WHERE {column} = $1 AND guid <> $2"))
                    .bind(value)
                    .bind(guid)
                    .fetch_optional(&cc.db)
                    .await?;
            if other.is_some() {
                return Err(ApiError::new(taken, &[value]));
            }
        }
        let broker = Broker {
            url: &self.url,
            username: &self.username,
            password: &self.password,
            timeout: cc.config.broker_timeout(),
        };
        broker.catalog(user_guid).await
    }

    /// Stores the broker — a new one (in `space`, if scoped) when a space
    /// is given, else changes to broker `guid` — and its catalog, at once.
    pub async fn save(&self, cc: &Cc, guid: &str, new_in: Option<Option<String>>, catalog: &Catalog) -> ApiResult<()> {
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
            .bind(&self.name)
            .bind(&self.url)
            .bind(&self.username)
            .bind(&self.password)
            .bind(now())
            .bind(guid);
        if let Some(space) = new_in {
            query = query.bind(space);
        }
        let mut tx = cc.db.begin().await?;
        query.execute(&mut *tx).await.map_err(|e| taken_or(e, "ServiceBrokerNameTaken", &self.name))?;
        store_catalog(&mut tx, guid, catalog).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Registers the broker called `name` (or, when one has that name or URL,
/// updates it with this URL and credentials, keeping the name an admin may
/// have given it, and reads its catalog again) on the platform's own
/// behalf; returns whether it is new.
pub async fn register_as_platform(cc: &Cc, name: &str, url: &str, username: &str, password: &str) -> ApiResult<bool> {
    let existing = sqlx::query("SELECT guid, name FROM service_brokers WHERE name = $1 OR broker_url = $2")
        .bind(name)
        .bind(url)
        .fetch_optional(&cc.db)
        .await?;
    let column = |column: &str| existing.as_ref().and_then(|row| row.try_get::<String, _>(column).ok());
    let registration = Registration {
        name: column("name").unwrap_or_else(|| name.into()),
        url: url.into(),
        username: username.into(),
        password: password.into(),
    };
    let existing = column("guid");
    let guid = existing.clone().unwrap_or_else(new_guid);
    let catalog = registration.check(cc, crate::cc::osb::orphans::PLATFORM_USER, &guid).await?;
    let new_in = if existing.is_none() { Some(None) } else { None };
    registration.save(cc, &guid, new_in, &catalog).await?;
    Ok(existing.is_none())
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
