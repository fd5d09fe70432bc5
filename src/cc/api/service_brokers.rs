//! `/v2/service_brokers`: registering an Open Service Broker reads its
//! catalog (`cf create-service-broker`), updating or renaming it reads the
//! catalog again (`cf update-service-broker`, `rename-service-broker`), and
//! deleting it removes what it offered. Admins manage brokers for the whole
//! platform; a space developer may register one scoped to their space
//! (`--space-scoped`). The broker's password is never shown.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use sqlx::Row;

use super::body::Body;
use super::collection::created;
use super::marketplace::store_catalog;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::model::{SERVICE_BROKERS, SPACES};
use crate::cc::osb::catalog::Catalog;
use crate::cc::osb::client::{Broker, check_url};
use crate::cc::permissions::{is_space_developer, require};
use crate::cc::{Cc, new_guid, now};

/// What a broker is registered with.
struct Registration {
    name: String,
    url: String,
    username: String,
    password: String,
}

impl Registration {
    /// Checks the URL, that name and URL are free (but for broker `guid`
    /// itself), and reads the catalog.
    async fn check(&self, cc: &Cc, user_guid: &str, guid: &str) -> ApiResult<Catalog> {
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
    async fn save(&self, cc: &Cc, guid: &str, new_in: Option<Option<String>>, catalog: &Catalog) -> ApiResult<()> {
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

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceBrokerInvalid")?;
    let registration = Registration {
        name: body.required_string("name")?,
        url: body.required_string("broker_url")?,
        username: body.required_string("auth_username")?,
        password: body.required_string("auth_password")?,
    };
    let space = body.string("space_guid")?;
    match &space {
        Some(space) => {
            SPACES.find_for(&cc.db, space, &user.user).await?;
            require(is_space_developer(&cc.db, &user.user, space).await?)?;
        }
        None => require(user.user.admin)?,
    }
    let guid = new_guid();
    let catalog = registration.check(&cc, &user.user.guid, &guid).await?;
    registration.save(&cc, &guid, Some(space), &catalog).await?;
    created(&SERVICE_BROKERS, &cc, &guid).await
}

/// The broker, if this user may change it: admins any, space developers
/// the brokers of their spaces.
async fn writable_broker(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<sqlx::any::AnyRow> {
    let broker = SERVICE_BROKERS.find_for(&cc.db, guid, &user.user).await?;
    let space: Option<String> = broker.try_get("space_guid").ok().flatten();
    match space {
        Some(space) if !user.user.admin => require(is_space_developer(&cc.db, &user.user, &space).await?)?,
        _ => require(user.user.admin)?,
    }
    Ok(broker)
}

pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let broker = writable_broker(&cc, &user, &guid).await?;
    let body = Body::parse(&bytes, "ServiceBrokerInvalid")?;
    let current = |column: &str| broker.try_get::<String, _>(column).unwrap_or_default();
    let registration = Registration {
        name: body.string("name")?.unwrap_or_else(|| current("name")),
        url: body.string("broker_url")?.unwrap_or_else(|| current("broker_url")),
        username: body.string("auth_username")?.unwrap_or_else(|| current("auth_username")),
        password: body.string("auth_password")?.unwrap_or_else(|| current("auth_password")),
    };
    let catalog = registration.check(&cc, &user.user.guid, &guid).await?;
    registration.save(&cc, &guid, None, &catalog).await?;
    created(&SERVICE_BROKERS, &cc, &guid).await
}

pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    let broker = writable_broker(&cc, &user, &guid).await?;
    let instances: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM service_instances i JOIN service_plans p ON p.guid = i.service_plan_guid \
         JOIN services s ON s.guid = p.service_guid WHERE s.service_broker_guid = $1",
    )
    .bind(&guid)
    .fetch_one(&cc.db)
    .await?;
    if instances > 0 {
        let name: String = broker.try_get("name").unwrap_or_default();
        return Err(ApiError::new("ServiceBrokerNotRemovable", &[&name]));
    }
    // Its services and plans go with it (ON DELETE CASCADE).
    sqlx::query("DELETE FROM service_brokers WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    Ok(StatusCode::NO_CONTENT)
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
