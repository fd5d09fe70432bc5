//! `/v2/routes` and route mappings: a route is host + domain (+ path) in a
//! space; mapping it to an app puts the app's instances on it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::app_access::{app_event, writable_app};
use super::body::Body;
use crate::cc::auth::CurrentUser;
use crate::cc::error::taken_or;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::event::{self, Actee, Actor};
use crate::cc::model::{APPS, DOMAINS, ROUTE_MAPPINGS, ROUTES, SPACES};
use crate::cc::permissions::{is_space_developer, require};
use crate::cc::{Cc, new_guid, now, quotas, runner};

/// A DNS label: letters, digits and inner hyphens, at most 63 characters.
fn valid_host(host: &str) -> bool {
    host.is_empty()
        || host == "*"
        || (host.len() <= 63
            && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !host.starts_with('-')
            && !host.ends_with('-'))
}

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "RouteInvalid")?;
    let host = body.string("host")?.unwrap_or_default().to_ascii_lowercase();
    let path = body.string("path")?.unwrap_or_default();
    let domain_guid = body.required_string("domain_guid")?;
    let space_guid = body.required_string("space_guid")?;
    if body.int("port")?.is_some() {
        return Err(body.invalid("TCP routes (port) are not supported"));
    }
    if !valid_host(&host) {
        return Err(body.invalid("host must be a DNS label (letters, digits and hyphens)"));
    }
    if !path.is_empty() && (!path.starts_with('/') || path == "/" || path.contains('?')) {
        return Err(ApiError::new("PathInvalid", &["the path must start with / and not be / alone"]));
    }
    let domain =
        DOMAINS.find(&cc.db, &domain_guid).await.map_err(|_| ApiError::new("DomainNotFound", &[&domain_guid]))?;
    SPACES.find_for(&cc.db, &space_guid, &user.user).await?;
    require(is_space_developer(&cc.db, &user.user, &space_guid).await?)?;
    quotas::check_route(&cc.db, &space_guid).await?;
    let guid = new_guid();
    let domain_name: String = sqlx::Row::try_get(&domain, "name").unwrap_or_default();
    let fqdn = if host.is_empty() { domain_name } else { format!("{host}.{domain_name}") };
    sqlx::query(
        "INSERT INTO routes (guid, host, path, domain_guid, space_guid, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&guid)
    .bind(&host)
    .bind(&path)
    .bind(&domain_guid)
    .bind(&space_guid)
    .bind(now())
    .execute(&cc.db)
    .await
    .map_err(|e| taken_or(e, "RouteHostTaken", &fqdn))?;
    route_event(&cc, &user, "audit.route.create", &guid, &fqdn, &space_guid, body.redacted()).await;
    let route = ROUTES.get(&cc.db, &guid).await?;
    Ok((StatusCode::CREATED, [("location", ROUTES.url(&guid))], Json(route)).into_response())
}

pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    let route = writable_route(&cc, &user, &guid).await?;
    let host: String = sqlx::Row::try_get(&route, "host").unwrap_or_default();
    let space: String = sqlx::Row::try_get(&route, "space_guid").unwrap_or_default();
    route_event(&cc, &user, "audit.route.delete-request", &guid, &host, &space, json!({"recursive": false})).await;
    let apps: Vec<String> = sqlx::query_scalar("SELECT app_guid FROM route_mappings WHERE route_guid = $1")
        .bind(&guid)
        .fetch_all(&cc.db)
        .await?;
    sqlx::query("DELETE FROM route_mappings WHERE route_guid = $1").bind(&guid).execute(&cc.db).await?;
    sqlx::query("DELETE FROM routes WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    for app in apps {
        runner::routes_changed(&cc, &app).await?;
    }
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
    let found: Option<String> =
        sqlx::query_scalar("SELECT guid FROM routes WHERE domain_guid = $1 AND host = $2 AND path = $3")
            .bind(&domain)
            .bind(q.host.to_ascii_lowercase())
            .bind(&q.path)
            .fetch_optional(&cc.db)
            .await?;
    match found {
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
    add_mapping(&cc, &user, &app, &route).await?;
    let route_json = ROUTES.get(&cc.db, &route).await?;
    Ok((StatusCode::CREATED, Json(route_json)).into_response())
}

/// `DELETE /v2/routes/:route/apps/:app`.
pub async fn unmap_app(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((route, app)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    remove_mapping(&cc, &user, &app, &route).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v2/route_mappings` `{app_guid, route_guid}`.
pub async fn create_mapping(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "InvalidRequest")?;
    let app = body.required_string("app_guid")?;
    let route = body.required_string("route_guid")?;
    let guid = add_mapping(&cc, &user, &app, &route).await?;
    let mapping = ROUTE_MAPPINGS.get(&cc.db, &guid).await?;
    Ok((StatusCode::CREATED, [("location", ROUTE_MAPPINGS.url(&guid))], Json(mapping)).into_response())
}

/// Maps a route to an app (idempotently) and tells the app's instances.
pub async fn add_mapping(cc: &Cc, user: &CurrentUser, app: &str, route: &str) -> ApiResult<String> {
    let app_row = writable_app(cc, user, app).await?;
    let route_row = writable_route(cc, user, route).await?;
    let app_space: String = sqlx::Row::try_get(&app_row, "space_guid").unwrap_or_default();
    let route_space: String = sqlx::Row::try_get(&route_row, "space_guid").unwrap_or_default();
    if app_space != route_space {
        return Err(ApiError::new("InvalidRelation", &["The app and the route must be in the same space"]));
    }
    let existing: Option<String> =
        sqlx::query_scalar("SELECT guid FROM route_mappings WHERE app_guid = $1 AND route_guid = $2")
            .bind(app)
            .bind(route)
            .fetch_optional(&cc.db)
            .await?;
    if let Some(guid) = existing {
        return Ok(guid);
    }
    let guid = new_guid();
    sqlx::query("INSERT INTO route_mappings (guid, app_guid, route_guid, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&guid)
        .bind(app)
        .bind(route)
        .bind(now())
        .execute(&cc.db)
        .await
        .map_err(|e| taken_or(e, "RouteMappingTaken", route))?;
    runner::routes_changed(cc, app).await?;
    let entity = APPS.render(&app_row)["entity"].clone();
    app_event(cc, user, "audit.app.map-route", app, &entity, json!({"route_guid": route})).await;
    Ok(guid)
}

pub async fn remove_mapping(cc: &Cc, user: &CurrentUser, app: &str, route: &str) -> ApiResult<()> {
    let app_row = writable_app(cc, user, app).await?;
    writable_route(cc, user, route).await?;
    sqlx::query("DELETE FROM route_mappings WHERE app_guid = $1 AND route_guid = $2")
        .bind(app)
        .bind(route)
        .execute(&cc.db)
        .await?;
    runner::routes_changed(cc, app).await?;
    let entity = APPS.render(&app_row)["entity"].clone();
    app_event(cc, user, "audit.app.unmap-route", app, &entity, json!({"route_guid": route})).await;
    Ok(())
}

async fn route_event(
    cc: &Cc,
    user: &CurrentUser,
    kind: &str,
    guid: &str,
    name: &str,
    space: &str,
    request: serde_json::Value,
) {
    let org = event::org_of_space(&cc.db, space).await;
    let actee = Actee { guid, kind: "route", name, space_guid: space, organization_guid: &org };
    event::record(&cc.db, kind, Actor::User(&user.user), &actee, json!({"request": request})).await;
}

/// The route, if the user sees it (else RouteNotFound) and may change it (else NotAuthorized).
async fn writable_route(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<sqlx::any::AnyRow> {
    let route = ROUTES.find_for(&cc.db, guid, &user.user).await?;
    let space: String = sqlx::Row::try_get(&route, "space_guid").unwrap_or_default();
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    Ok(route)
}
