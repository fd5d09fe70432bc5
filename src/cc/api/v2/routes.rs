//! `/v2/routes` and route mappings: a route is host + domain (+ path) in a
//! space; mapping it to an app puts the app's instances on it. What they
//! change is [`crate::cc::routing`]'s.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::body::Body;
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::{ROUTE_MAPPINGS, ROUTES};
use crate::cc::routing::{self, NewRoute};

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "RouteInvalid")?;
    if body.int("port")?.is_some() {
        return Err(body.invalid("TCP routes (port) are not supported"));
    }
    let new = NewRoute {
        host: body.string("host")?.unwrap_or_default(),
        path: body.string("path")?.unwrap_or_default(),
        domain_guid: body.required_string("domain_guid")?,
        space_guid: body.required_string("space_guid")?,
    };
    let guid = routing::create(&cc, &user, new, body.redacted()).await?;
    let route = ROUTES.get(&cc.db, &guid).await?;
    Ok((StatusCode::CREATED, [("location", ROUTES.url(&guid))], Json(route)).into_response())
}

pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    routing::delete(&cc, &user, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ReservedQuery {
    #[serde(default)]
    host: String,
    #[serde(default)]
    path: String,
}

/// `GET /v2/routes/reserved/domain/:domain?host=&path=`: 204 when the route
/// exists, 404 when it is free.
pub async fn reserved(
    State(cc): State<Cc>,
    _user: CurrentUser,
    Path(domain): Path<String>,
    Query(q): Query<ReservedQuery>,
) -> ApiResult<StatusCode> {
    match crate::cc::model::route::guid_of(&cc.db, &q.host.to_ascii_lowercase(), &domain, &q.path).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::not_found()),
    }
}

/// `PUT /v2/routes/:route/apps/:app`.
pub async fn map_app(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((route, app)): Path<(String, String)>,
) -> ApiResult<Response> {
    routing::add_mapping(&cc, &user, &app, &route).await?;
    let route_json = ROUTES.get(&cc.db, &route).await?;
    Ok((StatusCode::CREATED, Json(route_json)).into_response())
}

/// `DELETE /v2/routes/:route/apps/:app`.
pub async fn unmap_app(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((route, app)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    routing::remove_mapping(&cc, &user, &app, &route).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v2/route_mappings` `{app_guid, route_guid}`.
pub async fn create_mapping(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "InvalidRequest")?;
    let app = body.required_string("app_guid")?;
    let route = body.required_string("route_guid")?;
    let guid = routing::add_mapping(&cc, &user, &app, &route).await?;
    let mapping = ROUTE_MAPPINGS.get(&cc.db, &guid).await?;
    Ok((StatusCode::CREATED, [("location", ROUTE_MAPPINGS.url(&guid))], Json(mapping)).into_response())
}
