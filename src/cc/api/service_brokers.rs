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
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::{SERVICE_BROKERS, SPACES};
use crate::cc::osb::registration::Registration;
use crate::cc::permissions::{is_space_developer, require};
use crate::cc::{Cc, new_guid};

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
