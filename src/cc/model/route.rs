//! Routes (host, domain, path, port) and their mappings to apps.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::resource::{Kind::*, Record, Resource, ToOne, field, text_column, to_many};
use super::{APPS, SHARED_DOMAINS, SPACES};
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::now;
use crate::cc::permissions::Visibility;

pub static ROUTES: Resource = Resource {
    table: "routes",
    path: "/v2/routes",
    fields: &[
        field("host", Text),
        field("path", Text),
        field("port", Int),
        field("service_instance_guid", Const("null")),
    ],
    to_one: &[ToOne { name: "domain", resource: &SHARED_DOMAINS }, ToOne { name: "space", resource: &SPACES }],
    to_many: &[
        to_many("apps", &APPS, "guid IN (SELECT app_guid FROM route_mappings WHERE route_guid = ?)"),
        to_many("route_mappings", &ROUTE_MAPPINGS, "route_guid = ?"),
    ],
    not_found: "RouteNotFound",
    filters: &["host", "domain_guid", "path", "port", "space_guid"],
    scope: None,
    // Its space's users, and those of the spaces it is shared with.
    visibility: Visibility::InSpaceOrBound("space_guid", &[("route_shares", "route_guid")]),
};

pub static ROUTE_MAPPINGS: Resource = Resource {
    table: "route_mappings",
    path: "/v2/route_mappings",
    fields: &[field("app_port", Int)],
    to_one: &[ToOne { name: "app", resource: &APPS }, ToOne { name: "route", resource: &ROUTES }],
    to_many: &[],
    not_found: "RouteMappingNotFound",
    filters: &["app_guid", "route_guid"],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = route_mappings.app_guid)"),
};

/// A route as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub guid: String,
    pub host: String,
    pub path: String,
    pub domain_guid: String,
    pub space_guid: String,
}

/// A route to store.
pub struct NewRoute<'a> {
    pub guid: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub domain_guid: &'a str,
    pub space_guid: &'a str,
}

impl Record for Route {
    const RESOURCE: &'static Resource = &ROUTES;

    fn from_row(row: &AnyRow) -> Route {
        let text = |column: &str| text_column(row, column).unwrap_or_default();
        Route {
            guid: text("guid"),
            host: text("host"),
            path: text("path"),
            domain_guid: text("domain_guid"),
            space_guid: text("space_guid"),
        }
    }
}

impl Route {
    /// Stores a route; one of that host, domain and path is RouteHostTaken
    /// (`fqdn` names it).
    pub async fn insert(db: &AnyPool, new: NewRoute<'_>, fqdn: &str) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO routes (guid, host, path, domain_guid, space_guid, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new.guid)
        .bind(new.host)
        .bind(new.path)
        .bind(new.domain_guid)
        .bind(new.space_guid)
        .bind(now())
        .execute(db)
        .await
        .map_err(|e| taken_or(e, "RouteHostTaken", fqdn))?;
        Ok(())
    }

    /// Deletes a route with its mappings and shares; the apps it was mapped to.
    pub async fn delete(db: &AnyPool, guid: &str) -> ApiResult<Vec<String>> {
        let apps: Vec<String> = sqlx::query_scalar("SELECT app_guid FROM route_mappings WHERE route_guid = $1")
            .bind(guid)
            .fetch_all(db)
            .await?;
        sqlx::query("DELETE FROM route_mappings WHERE route_guid = $1").bind(guid).execute(db).await?;
        RouteShares::forget(db, None, Some(guid)).await?;
        ROUTES.delete(db, guid).await?;
        Ok(apps)
    }

    /// Moves a route to another space (its mappings stay).
    pub async fn move_to_space(db: &AnyPool, guid: &str, space: &str) -> ApiResult<()> {
        sqlx::query("UPDATE routes SET space_guid = $1, updated_at = $2 WHERE guid = $3")
            .bind(space)
            .bind(now())
            .bind(guid)
            .execute(db)
            .await?;
        Ok(())
    }
}

/// Mappings of routes to apps.
pub struct RouteMapping;

impl RouteMapping {
    /// The guid of the app's mapping to the route, if it has one.
    pub async fn find(db: &AnyPool, app: &str, route: &str) -> ApiResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT guid FROM route_mappings WHERE app_guid = $1 AND route_guid = $2")
            .bind(app)
            .bind(route)
            .fetch_optional(db)
            .await?)
    }

    /// Maps the route to the app under `guid`; RouteMappingTaken if it is.
    pub async fn insert(db: &AnyPool, guid: &str, app: &str, route: &str) -> ApiResult<()> {
        sqlx::query("INSERT INTO route_mappings (guid, app_guid, route_guid, created_at) VALUES ($1, $2, $3, $4)")
            .bind(guid)
            .bind(app)
            .bind(route)
            .bind(now())
            .execute(db)
            .await
            .map_err(|e| taken_or(e, "RouteMappingTaken", route))?;
        Ok(())
    }

    /// Unmaps the route from the app (not mapped: no change).
    pub async fn delete(db: &AnyPool, app: &str, route: &str) -> ApiResult<()> {
        sqlx::query("DELETE FROM route_mappings WHERE app_guid = $1 AND route_guid = $2")
            .bind(app)
            .bind(route)
            .execute(db)
            .await?;
        Ok(())
    }
}

/// A route mapped to an app, with its domain's name.
pub struct MappedRoute {
    pub guid: String,
    pub host: String,
    pub path: String,
    pub port: Option<i64>,
    pub domain_guid: String,
    pub domain_name: String,
    /// The route service its requests go through first, if it is bound to one.
    pub route_service_url: Option<String>,
}

impl MappedRoute {
    /// `host.domain/path`, as routers and clients know it.
    pub fn uri(&self) -> String {
        let host = if self.host.is_empty() { String::new() } else { format!("{}.", self.host) };
        format!("{host}{}{}", self.domain_name, self.path)
    }

    fn from_row(row: &AnyRow) -> MappedRoute {
        MappedRoute {
            guid: row.try_get(0).unwrap_or_default(),
            host: row.try_get(1).unwrap_or_default(),
            path: row.try_get(2).unwrap_or_default(),
            port: row.try_get::<Option<i64>, _>(3).ok().flatten(),
            domain_guid: row.try_get(4).unwrap_or_default(),
            domain_name: row.try_get(5).unwrap_or_default(),
            route_service_url: row.try_get::<Option<String>, _>(6).ok().flatten(),
        }
    }

    /// The routes mapped to an app, in mapping order.
    pub async fn of_app(db: &AnyPool, app: &str) -> ApiResult<Vec<MappedRoute>> {
        let sql = format!(
            "{SELECT_MAPPED} JOIN route_mappings m ON m.route_guid = r.guid WHERE m.app_guid = $1 ORDER BY m.id"
        );
        let rows = sqlx::query(&sql).bind(app).fetch_all(db).await?;
        Ok(rows.iter().map(MappedRoute::from_row).collect())
    }

    /// One route, mapped or not.
    pub async fn find(db: &AnyPool, route: &str) -> ApiResult<MappedRoute> {
        let row = sqlx::query(&format!("{SELECT_MAPPED} WHERE r.guid = $1")).bind(route).fetch_one(db).await?;
        Ok(MappedRoute::from_row(&row))
    }
}

/// The app a route's mapping (a v3 destination) leads to, if the route has it.
pub async fn app_of_mapping(db: &AnyPool, route: &str, mapping: &str) -> ApiResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT app_guid FROM route_mappings WHERE guid = $1 AND route_guid = $2")
        .bind(mapping)
        .bind(route)
        .fetch_optional(db)
        .await?)
}

/// The route of this host, domain and path, if there is one.
pub async fn guid_of(db: &AnyPool, host: &str, domain: &str, path: &str) -> ApiResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT guid FROM routes WHERE host = $1 AND domain_guid = $2 AND path = $3")
        .bind(host)
        .bind(domain)
        .bind(path)
        .fetch_optional(db)
        .await?)
}

/// A route with its domain's name and its route service, for [`MappedRoute`].
const SELECT_MAPPED: &str = "SELECT r.guid, r.host, r.path, r.port, d.guid, d.name, b.route_service_url FROM routes r \
     JOIN domains d ON d.guid = r.domain_guid LEFT JOIN route_bindings b ON b.route_guid = r.guid";

/// Spaces a route is shared with (`cf share-route`), besides its own.
pub struct RouteShares;

impl RouteShares {
    /// The spaces the route is shared with.
    pub async fn of_route(db: &AnyPool, route: &str) -> ApiResult<Vec<String>> {
        let sql = "SELECT space_guid FROM route_shares WHERE route_guid = $1 ORDER BY created_at, space_guid";
        Ok(sqlx::query_scalar(sql).bind(route).fetch_all(db).await?)
    }

    /// Whether the route is shared with the space.
    pub async fn includes(db: &AnyPool, route: &str, space: &str) -> ApiResult<bool> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM route_shares WHERE route_guid = $1 AND space_guid = $2")
                .bind(route)
                .bind(space)
                .fetch_one(db)
                .await?;
        Ok(count > 0)
    }

    /// Shares the route with the space (again: no change).
    pub async fn add(db: &AnyPool, route: &str, space: &str) -> ApiResult<()> {
        if !RouteShares::includes(db, route, space).await? {
            sqlx::query("INSERT INTO route_shares (route_guid, space_guid, created_at) VALUES ($1, $2, $3)")
                .bind(route)
                .bind(space)
                .bind(crate::cc::now())
                .execute(db)
                .await?;
        }
        Ok(())
    }

    /// Unshares the route from the space and unmaps the space's apps from
    /// it; the apps it was mapped to.
    pub async fn remove(db: &AnyPool, route: &str, space: &str) -> ApiResult<Vec<String>> {
        let apps: Vec<String> = sqlx::query_scalar(
            "SELECT app_guid FROM route_mappings WHERE route_guid = $1 AND app_guid IN \
             (SELECT guid FROM apps WHERE space_guid = $2)",
        )
        .bind(route)
        .bind(space)
        .fetch_all(db)
        .await?;
        sqlx::query(
            "DELETE FROM route_mappings WHERE route_guid = $1 AND app_guid IN (SELECT guid FROM apps WHERE space_guid = $2)",
        )
        .bind(route)
        .bind(space)
        .execute(db)
        .await?;
        RouteShares::delete(db, route, space).await?;
        Ok(apps)
    }

    /// Drops the share alone (the route moves to that space).
    pub async fn delete(db: &AnyPool, route: &str, space: &str) -> ApiResult<()> {
        sqlx::query("DELETE FROM route_shares WHERE route_guid = $1 AND space_guid = $2")
            .bind(route)
            .bind(space)
            .execute(db)
            .await?;
        Ok(())
    }

    /// Forgets the shares of a space's routes and those with the space (it
    /// is being deleted), or of one route (`DELETE` of the route).
    pub async fn forget(db: &AnyPool, space: Option<&str>, route: Option<&str>) -> ApiResult<()> {
        sqlx::query(
            "DELETE FROM route_shares WHERE space_guid = $1 OR route_guid = $2 OR \
             route_guid IN (SELECT guid FROM routes WHERE space_guid = $1)",
        )
        .bind(space)
        .bind(route)
        .execute(db)
        .await?;
        Ok(())
    }
}

/// A route's mapping to an app (a v3 destination).
pub struct Destination {
    pub guid: String,
    pub route_guid: String,
    pub app_guid: String,
    pub app_port: Option<i64>,
    pub created_at: String,
    pub updated_at: Option<String>,
}

/// `$1, $2, …` for `n` binds.
fn marks(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The domain name of each of these routes, by route guid.
pub async fn domain_names(db: &AnyPool, routes: &[String]) -> ApiResult<HashMap<String, String>> {
    let sql = format!(
        "SELECT r.guid, d.name FROM routes r JOIN domains d ON d.guid = r.domain_guid WHERE r.guid IN ({})",
        marks(routes.len())
    );
    let mut query = sqlx::query(&sql);
    for route in routes {
        query = query.bind(route.as_str());
    }
    let rows = query.fetch_all(db).await?;
    rows.iter().map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?))).collect()
}

/// The mappings of these routes, oldest first.
pub async fn destinations(db: &AnyPool, routes: &[String]) -> ApiResult<Vec<Destination>> {
    let sql = format!(
        "SELECT guid, route_guid, app_guid, app_port, created_at, updated_at FROM route_mappings \
         WHERE route_guid IN ({}) ORDER BY id",
        marks(routes.len())
    );
    let mut query = sqlx::query(&sql);
    for route in routes {
        query = query.bind(route.as_str());
    }
    let rows = query.fetch_all(db).await?;
    rows.iter()
        .map(|row| {
            Ok(Destination {
                guid: row.try_get("guid")?,
                route_guid: row.try_get("route_guid")?,
                app_guid: row.try_get("app_guid")?,
                app_port: row.try_get("app_port")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .collect()
}
