//! Domains: shared ones (every org may use them) and private ones (owned by
//! an org). One table; each view is a scope over it. Admins add shared
//! domains, org managers their org's private ones.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::body::Body;
use super::collection::created;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::domain::Domain;
use crate::cc::model::{ORGANIZATIONS, PRIVATE_DOMAINS, Record, SHARED_DOMAINS};
use crate::cc::permissions::{is_org_manager, require};
use crate::cc::{Cc, routing};

/// A new domain named in the v2 `body`, owned by `owner` (private) or shared.
async fn insert(cc: &Cc, body: &Body, owner: Option<&str>) -> ApiResult<String> {
    let name = body.required_string("name")?;
    routing::create_domain(cc, &name, owner).await.map_err(|e| match e {
        routing::DomainError::Invalid(reason) => body.invalid(&reason),
        routing::DomainError::Api(e) => e,
    })
}

async fn remove(cc: &Cc, guid: &str) -> ApiResult<StatusCode> {
    routing::delete_domain(cc, guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v2/shared_domains` (admins).
pub async fn create_shared(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let guid = insert(&cc, &Body::parse(&bytes, "DomainInvalid")?, None).await?;
    created(&SHARED_DOMAINS, &cc, &guid).await
}

pub async fn delete_shared(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    require(user.user.admin)?;
    SHARED_DOMAINS.find(&cc.db, &guid).await?;
    remove(&cc, &guid).await
}

/// `POST /v2/private_domains` `{name, owning_organization_guid}` (org managers).
pub async fn create_private(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "DomainInvalid")?;
    let org = body.required_string("owning_organization_guid")?;
    ORGANIZATIONS.find_for(&cc.db, &org, &user.user).await?;
    require(is_org_manager(&cc.db, &user.user, &org).await?)?;
    let guid = insert(&cc, &body, Some(&org)).await?;
    created(&PRIVATE_DOMAINS, &cc, &guid).await
}

pub async fn delete_private(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<StatusCode> {
    let domain = Domain::from_row(&PRIVATE_DOMAINS.find_for(&cc.db, &guid, &user.user).await?);
    let org = domain.owning_organization_guid.unwrap_or_default();
    require(is_org_manager(&cc.db, &user.user, &org).await?)?;
    remove(&cc, &guid).await
}
