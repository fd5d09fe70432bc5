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
    visibility: Visibility::InSpace("space_guid"),
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
}

impl MappedRoute {
    /// `host.domain/path`, as routers and clients know it.
    pub fn uri(&self) -> String {
        let host = if self.host.is_empty() { String::new() } else { format!("{}.", self.host) };
        format!("{host}{}{}", self.domain_name, self.path)
    }

    /// The routes mapped to an app, in mapping order.
    pub async fn of_app(db: &AnyPool, app: &str) -> ApiResult<Vec<MappedRoute>> {
        let rows = sqlx::query(
            "SELECT r.guid, r.host, r.path, r.port, d.guid, d.name FROM routes r JOIN domains d ON d.guid = r.domain_guid \
             JOIN route_mappings m ON m.route_guid = r.guid WHERE m.app_guid = $1 ORDER BY m.id",
        )
        .bind(app)
        .fetch_all(db)
        .await?;
        Ok(rows
            .iter()
            .map(|row| MappedRoute {
                guid: row.try_get(0).unwrap_or_default(),
                host: row.try_get(1).unwrap_or_default(),
                path: row.try_get(2).unwrap_or_default(),
                port: row.try_get::<Option<i64>, _>(3).ok().flatten(),
                domain_guid: row.try_get(4).unwrap_or_default(),
                domain_name: row.try_get(5).unwrap_or_default(),
            })
            .collect())
    }
}
