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

use super::body::Body;
use super::collection::created;
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::SERVICE_BROKERS;
use crate::cc::osb::registration::Registration;
use crate::cc::service_brokers::{self, BrokerChanges};

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceBrokerInvalid")?;
    let registration = Registration {
        name: body.required_string("name")?,
        url: body.required_string("broker_url")?,
        username: body.required_string("auth_username")?,
        password: body.required_string("auth_password")?,
    };
    let guid = service_brokers::register(&cc, &user, registration, body.string("space_guid")?).await?;
    created(&SERVICE_BROKERS, &cc, &guid).await
}

pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceBrokerInvalid")?;
    let changes = BrokerChanges {
        name: body.string("name")?,
        url: body.string("broker_url")?,
        username: body.string("auth_username")?,
        password: body.string("auth_password")?,
    };
    service_brokers::update(&cc, &user, &guid, changes).await?;
    created(&SERVICE_BROKERS, &cc, &guid).await
}

pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    service_brokers::delete(&cc, &user, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}
