//! Routes (host, domain, path, port) and their mappings to apps.

use sqlx::{AnyPool, Row};

use super::resource::{Kind::*, Resource, ToOne, field, to_many};
use super::{APPS, SHARED_DOMAINS, SPACES};
use crate::cc::error::ApiResult;
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

    fn from_row(row: &sqlx::any::AnyRow) -> MappedRoute {
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
