//! Routes and what they lead to, whichever API version asks: creating
//! and deleting a route (host + domain + path in a space), and mapping
//! it to an app (v2's route mappings, v3's destinations), sharing it with
//! other spaces (whose apps may then be mapped to it) and moving it to
//! another — each change told to the app's running instances and recorded
//! as an audit event.

use serde_json::{Value, json};

use super::app_changes::{app_event, writable_app};
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult};
use super::model::domain::{self, Domain};
use super::model::event::{self, Actee, Actor};
use super::model::route::{self, Route, RouteMapping, RouteShares};
use super::model::{DOMAINS, Record, SPACES};
use super::permissions::{is_space_developer, require};
use super::{Cc, new_guid, quotas, runner};

/// What a new route is made of.
pub struct NewRoute {
    pub host: String,
    pub path: String,
    pub domain_guid: String,
    pub space_guid: String,
}

/// A DNS label: letters, digits and inner hyphens, at most 63 characters.
fn valid_host(host: &str) -> bool {
    host.is_empty()
        || host == "*"
        || (host.len() <= 63
            && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !host.starts_with('-')
            && !host.ends_with('-'))
}

/// Stores a new route (checked: host, path, domain, the user's space,
/// its quota) and returns its guid; `request` is what the audit event records.
pub async fn create(cc: &Cc, user: &CurrentUser, new: NewRoute, request: Value) -> ApiResult<String> {
    let NewRoute { host, path, domain_guid, space_guid } = new;
    let host = host.to_ascii_lowercase();
    if !valid_host(&host) {
        return Err(ApiError::new("RouteInvalid", &["host must be a DNS label (letters, digits and hyphens)"]));
    }
    if !path.is_empty() && (!path.starts_with('/') || path == "/" || path.contains('?')) {
        return Err(ApiError::new("PathInvalid", &["the path must start with / and not be / alone"]));
    }
    let domain = Domain::find(&cc.db, &domain_guid).await?;
    SPACES.find_for(&cc.db, &space_guid, &user.user).await?;
    require(is_space_developer(&cc.db, &user.user, &space_guid).await?)?;
    quotas::check_route(&cc.db, &space_guid).await?;
    let guid = new_guid();
    let fqdn = if host.is_empty() { domain.name } else { format!("{host}.{}", domain.name) };
    let new =
        route::NewRoute { guid: &guid, host: &host, path: &path, domain_guid: &domain_guid, space_guid: &space_guid };
    Route::insert(&cc.db, new, &fqdn).await?;
    route_event(cc, user, "audit.route.create", &guid, &fqdn, &space_guid, request).await;
    Ok(guid)
}

/// Deletes the route and its mappings, and tells the apps it led to.
pub async fn delete(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<()> {
    let route = writable_route(cc, user, guid).await?;
    let request = json!({"recursive": false});
    route_event(cc, user, "audit.route.delete-request", guid, &route.host, &route.space_guid, request).await;
    for app in Route::delete(&cc.db, guid).await? {
        runner::routes_changed(cc, &app).await?;
    }
    Ok(())
}

/// Maps a route to an app (idempotently) and tells the app's instances.
pub async fn add_mapping(cc: &Cc, user: &CurrentUser, app: &str, route: &str) -> ApiResult<String> {
    let app_row = writable_app(cc, user, app).await?;
    let app_space = app_row.space_guid.clone();
    // A route shared with the app's space is the app's space developers' to map.
    if !RouteShares::includes(&cc.db, route, &app_space).await?
        && app_space != writable_route(cc, user, route).await?.space_guid
    {
        return Err(ApiError::new("InvalidRelation", &["The app and the route must be in the same space"]));
    }
    if let Some(guid) = RouteMapping::find(&cc.db, app, route).await? {
        return Ok(guid);
    }
    let guid = new_guid();
    RouteMapping::insert(&cc.db, &guid, app, route).await?;
    runner::routes_changed(cc, app).await?;
    app_event(cc, user, "audit.app.map-route", &app_row, json!({"route_guid": route})).await;
    Ok(guid)
}

pub async fn remove_mapping(cc: &Cc, user: &CurrentUser, app: &str, route: &str) -> ApiResult<()> {
    let app_row = writable_app(cc, user, app).await?;
    let app_space = app_row.space_guid.clone();
    if !RouteShares::includes(&cc.db, route, &app_space).await? {
        writable_route(cc, user, route).await?;
    }
    RouteMapping::delete(&cc.db, app, route).await?;
    runner::routes_changed(cc, app).await?;
    app_event(cc, user, "audit.app.unmap-route", &app_row, json!({"route_guid": route})).await;
    Ok(())
}

/// Shares a route with other spaces (`cf share-route`): for whoever
/// develops in its space and in each of them.
pub async fn share(cc: &Cc, user: &CurrentUser, route: &str, spaces: &[String]) -> ApiResult<()> {
    let row = writable_route(cc, user, route).await?;
    let own = &row.space_guid;
    for space in spaces {
        SPACES.find_for(&cc.db, space, &user.user).await.map_err(|_| {
            ApiError::new(
                "UnprocessableEntity",
                &[&format!(
                    "Unable to share route with space '{space}'. Ensure the space exists and you have access to it."
                )],
            )
        })?;
        require(is_space_developer(&cc.db, &user.user, space).await?)?;
        if space == own {
            return Err(ApiError::new("UnprocessableEntity", &["Unable to share route with its own space."]));
        }
    }
    for space in spaces {
        RouteShares::add(&cc.db, route, space).await?;
    }
    route_event(cc, user, "audit.route.share", route, &row.host, own, json!({"target_space_guids": spaces})).await;
    Ok(())
}

/// Unshares a route from a space (`cf unshare-route`); that space's apps
/// lose their mappings to it.
pub async fn unshare(cc: &Cc, user: &CurrentUser, route: &str, space: &str) -> ApiResult<()> {
    let row = writable_route(cc, user, route).await?;
    if !RouteShares::includes(&cc.db, route, space).await? {
        let detail =
            format!("Unable to unshare route '{route}' from space '{space}'. The route is not shared with it.");
        return Err(ApiError::new("UnprocessableEntity", &[&detail]));
    }
    for app in RouteShares::remove(&cc.db, route, space).await? {
        runner::routes_changed(cc, &app).await?;
    }
    let request = json!({"target_space_guid": space});
    route_event(cc, user, "audit.route.unshare", route, &row.host, &row.space_guid, request).await;
    Ok(())
}

/// Moves a route to another space (`cf move-route`): its mappings stay,
/// and the space it leaves keeps it shared, as CF transfers ownership.
pub async fn move_to_space(cc: &Cc, user: &CurrentUser, route: &str, space: &str) -> ApiResult<()> {
    let row = writable_route(cc, user, route).await?;
    let own = row.space_guid;
    SPACES.find_for(&cc.db, space, &user.user).await?;
    require(is_space_developer(&cc.db, &user.user, space).await?)?;
    if own == space {
        return Ok(());
    }
    Route::move_to_space(&cc.db, route, space).await?;
    RouteShares::delete(&cc.db, route, space).await?;
    RouteShares::add(&cc.db, route, &own).await?;
    let request = json!({"target_space_guid": space});
    route_event(cc, user, "audit.route.transfer-owner", route, &row.host, space, request).await;
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
pub async fn writable_route(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<Route> {
    let route = Route::find_for(&cc.db, guid, &user.user).await?;
    require(is_space_developer(&cc.db, &user.user, &route.space_guid).await?)?;
    Ok(route)
}

/// Why a domain was not made.
pub enum DomainError {
    /// The name is not a domain name (each API words its own error).
    Invalid(String),
    Api(ApiError),
}

impl From<ApiError> for DomainError {
    fn from(e: ApiError) -> Self {
        DomainError::Api(e)
    }
}

/// A domain name: dot-separated DNS labels.
fn valid_domain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A new domain (lower-cased), owned by the org `owner` (private) or
/// shared; its guid. Who may make it is the caller's check.
pub async fn create_domain(cc: &Cc, name: &str, owner: Option<&str>) -> Result<String, DomainError> {
    let name = name.to_ascii_lowercase();
    if !valid_domain(&name) {
        return Err(DomainError::Invalid("the name must be a domain name, e.g. apps.example.com".into()));
    }
    let guid = new_guid();
    domain::insert(&cc.db, &guid, &name, owner).await?;
    Ok(guid)
}

/// Deletes a domain with no routes left on it.
pub async fn delete_domain(cc: &Cc, guid: &str) -> ApiResult<()> {
    if domain::route_count(&cc.db, guid).await? > 0 {
        return Err(ApiError::new("AssociationNotEmpty", &["routes", "domain"]));
    }
    DOMAINS.delete(&cc.db, guid).await
}
