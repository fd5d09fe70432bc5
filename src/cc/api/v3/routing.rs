//! v3's routing endpoints beyond reading: an org's domains and default
//! domain, an app's routes, creating and deleting routes, and their
//! destinations (v2's route mappings). Changes go through
//! [`crate::cc::routing`], as v2's do.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::apps::accepted_job;
use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::domain::Domain;
use crate::cc::model::job::Job;
use crate::cc::model::sql::Condition;
use crate::cc::model::{Record, metadata, route};
use crate::cc::permissions::{is_org_manager, require};
use crate::cc::routing::{self, NewRoute};
use crate::cc::v3::app::APPS;
use crate::cc::v3::domain::DOMAINS;
use crate::cc::v3::organization::ORGANIZATIONS;
use crate::cc::v3::route::ROUTES;

/// The domains an org may use: the shared ones and its own.
fn of_org(org: &str) -> Condition {
    Condition::raw("(owning_organization_guid IS NULL OR owning_organization_guid = ?)", &[org])
}

/// `GET /v3/organizations/:guid/domains`.
pub async fn org_domains(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    ORGANIZATIONS.find_for(&cc, &user.user, &org).await?;
    let path = format!("/v3/organizations/{org}/domains");
    Ok(Json(DOMAINS.list(&cc, &user.user, query.as_deref(), vec![of_org(&org)], &path).await?))
}

/// `GET /v3/organizations/:guid/domains/default`: the first shared domain
/// (else the org's first own), where `cf push` puts an app's route.
pub async fn default_domain(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(org): Path<String>,
) -> ApiResult<Json<Value>> {
    ORGANIZATIONS.find_for(&cc, &user.user, &org).await?;
    let rows = DOMAINS
        .model
        .select(&cc.db, &[of_org(&org)], "ORDER BY owning_organization_guid IS NOT NULL, id LIMIT 1")
        .await?;
    let row = rows.into_iter().next().ok_or_else(|| ApiError::new("DomainNotFound", &[]))?;
    Ok(Json(DOMAINS.render_rows(&cc, &[row]).await?.remove(0)))
}

/// `GET /v3/apps/:guid/routes`.
pub async fn app_routes(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(app): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    APPS.find_for(&cc, &user.user, &app).await?;
    let fixed = Condition::raw("guid IN (SELECT route_guid FROM route_mappings WHERE app_guid = ?)", &[&app]);
    let path = format!("/v3/apps/{app}/routes");
    Ok(Json(ROUTES.list(&cc, &user.user, query.as_deref(), vec![fixed], &path).await?))
}

/// `POST /v3/routes`.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["host", "path", "port", "relationships", "metadata", "options"])?;
    if body.at("port").is_some() {
        return Err(invalid("Routes with a port (TCP routes) are not supported: this platform routes HTTP"));
    }
    let required = |path: &str, label: &str| -> ApiResult<String> {
        body.string(path, label)?.ok_or_else(|| invalid(&format!("{label} can't be blank")))
    };
    let new = NewRoute {
        host: body.string("host", "Host")?.unwrap_or_default(),
        path: body.string("path", "Path")?.unwrap_or_default(),
        domain_guid: required("relationships/domain/data/guid", "Relationships domain")?,
        space_guid: required("relationships/space/data/guid", "Relationships space")?,
    };
    let (host, path) = (new.host.clone(), new.path.clone());
    let guid =
        routing::create(&cc, &user, new, Value::Object(body.0.clone())).await.map_err(|e| match e.name.as_str() {
            "RouteHostTaken" => invalid(&format!(
                "Route already exists with host '{host}'{}.",
                if path.is_empty() { String::new() } else { format!(" and path '{path}'") }
            )),
            "RouteInvalid" | "PathInvalid" => invalid(&e.description),
            "DomainNotFound" => invalid("Invalid domain. Ensure that the domain exists and you have access to it."),
            "SpaceNotFound" => invalid("Invalid space. Ensure that the space exists and you have access to it."),
            _ => e,
        })?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::CREATED, Json(ROUTES.show(&cc, &user.user, &guid, None).await?)))
}

/// `DELETE /v3/routes/:guid`: 202 with its job.
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    let job = Job::create(&cc.db, &cc.id, "route.delete").await?;
    let deleted = routing::delete(&cc, &user, &guid).await;
    if deleted.is_ok() {
        metadata::forget(&cc.db, &guid).await?;
    }
    Job::finish(&cc.db, &job, deleted.err()).await;
    Ok(accepted_job(&cc, &job))
}

/// The route's destinations, as `GET /v3/routes/:guid/destinations` answers.
async fn destinations(cc: &Cc, user: &CurrentUser, route: &str) -> ApiResult<Value> {
    let shown = ROUTES.show(cc, &user.user, route, None).await?;
    let url = cc.config.external_url();
    Ok(json!({
        "destinations": shown["destinations"],
        "links": {
            "self": {"href": format!("{url}/v3/routes/{route}/destinations")},
            "route": {"href": format!("{url}/v3/routes/{route}")},
        },
    }))
}

/// `GET /v3/routes/:guid/destinations`.
pub async fn list_destinations(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(route): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(destinations(&cc, &user, &route).await?))
}

/// `POST /v3/routes/:guid/destinations` `{"destinations": [{"app": {"guid": …}}]}`: adds them.
pub async fn add_destinations(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(route): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let body = Body::parse(&bytes, &["destinations"])?;
    let list =
        body.at("destinations").and_then(Value::as_array).ok_or_else(|| invalid("Destinations must be an array"))?;
    let mut apps = Vec::new();
    for destination in list {
        let app = destination
            .pointer("/app/guid")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("Destinations must have an app guid"))?;
        if destination.pointer("/app/process/type").and_then(Value::as_str).is_some_and(|t| t != "web") {
            return Err(invalid("Destinations can lead to an app's web process only"));
        }
        if destination.get("port").and_then(Value::as_i64).is_some_and(|p| p != 8080) {
            return Err(invalid("Destinations lead to port 8080, where every instance here listens"));
        }
        apps.push(app.to_string());
    }
    for app in apps {
        routing::add_mapping(&cc, &user, &app, &route).await.map_err(|e| match e.name.as_str() {
            "AppNotFound" | "InvalidRelation" => invalid(&format!(
                "App with guid '{app}' not found, or not in the route's space or one it is shared with"
            )),
            _ => e,
        })?;
    }
    Ok(Json(destinations(&cc, &user, &route).await?))
}

/// `DELETE /v3/routes/:guid/destinations/:destination`.
pub async fn remove_destination(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((route, destination)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let app = crate::cc::model::route::app_of_mapping(&cc.db, &route, &destination).await?;
    let app = app.ok_or_else(|| {
        invalid(&format!(
            "Unable to unmap route from destination. Ensure the route has a destination with this guid: {destination}"
        ))
    })?;
    routing::remove_mapping(&cc, &user, &app, &route).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v3/domains`: a shared domain (admins) or one private to an org
/// (its managers): `cf create-shared-domain`, `cf create-private-domain`.
pub async fn create_domain(
    State(cc): State<Cc>,
    user: CurrentUser,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["name", "internal", "relationships", "metadata", "router_group"])?;
    let name = body.string("name", "Name")?.ok_or_else(|| invalid("Name can't be blank"))?;
    if body.at("internal").and_then(Value::as_bool) == Some(true) {
        return Err(invalid("Internal domains are not supported: apps reach each other through routes"));
    }
    let owner = body.string("relationships/organization/data/guid", "Organization guid")?;
    match &owner {
        Some(org) => {
            ORGANIZATIONS.find_for(&cc, &user.user, org).await.map_err(|_| invalid("Organization must exist"))?;
            require(is_org_manager(&cc.db, &user.user, org).await?)?;
        }
        None => require(user.user.admin)?,
    }
    let guid = routing::create_domain(&cc, &name, owner.as_deref()).await.map_err(|e| match e {
        routing::DomainError::Invalid(reason) => invalid(&reason),
        routing::DomainError::Api(e) if e.name == "DomainNameTaken" => {
            invalid(&format!("The domain name \"{name}\" is already in use"))
        }
        routing::DomainError::Api(e) => e,
    })?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::CREATED, Json(DOMAINS.show(&cc, &user.user, &guid, None).await?)))
}

/// `GET /v3/domains/:guid/route_reservations?host=…&path=…` (`cf
/// check-route`): whether the domain has a route of that host and path.
pub async fn route_reservations(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    DOMAINS.find_for(&cc, &user.user, &guid).await?;
    let (host, path) =
        (params.get("host").cloned().unwrap_or_default(), params.get("path").cloned().unwrap_or_default());
    if host.contains('\0') || path.contains('\0') {
        return Err(ApiError::new("BadQueryParameter", &["a parameter holds a NUL character"]));
    }
    let matching = route::guid_of(&cc.db, &host.to_ascii_lowercase(), &guid, &path).await?.is_some();
    Ok(Json(json!({"matching_route": matching})))
}

/// `DELETE /v3/domains/:guid`: 202 with its (finished) job.
pub async fn delete_domain(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    let domain = Domain::find_for(&cc.db, &guid, &user.user).await?;
    match domain.owning_organization_guid {
        Some(org) => require(is_org_manager(&cc.db, &user.user, &org).await?)?,
        None => require(user.user.admin)?,
    }
    let job = Job::create(&cc.db, &cc.id, "domain.delete").await?;
    let outcome = routing::delete_domain(&cc, &guid).await;
    if outcome.is_ok() {
        metadata::forget(&cc.db, &guid).await?;
    }
    Job::finish(&cc.db, &job, outcome.err()).await;
    Ok(accepted_job(&cc, &job))
}
