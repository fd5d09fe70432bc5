//! Route bindings: a route bound to a service instance (a route service),
//! whose `route_service_url` routers send the route's requests through
//! first. A route has one at most; the instance's own url (user-provided)
//! or the one its broker gave at binding is kept with it.

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::resource::{Kind::*, Record, Resource, field, text_column};
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::now;
use crate::cc::permissions::Visibility;

pub static ROUTE_BINDINGS: Resource = Resource {
    table: "route_bindings",
    path: "/v3/service_route_bindings",
    fields: &[field("route_service_url", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "ServiceRouteBindingNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM routes WHERE routes.guid = route_bindings.route_guid)"),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteBinding {
    pub guid: String,
    pub route_guid: String,
    pub service_instance_guid: String,
    pub route_service_url: String,
}

impl Record for RouteBinding {
    const RESOURCE: &'static Resource = &ROUTE_BINDINGS;

    fn from_row(row: &AnyRow) -> RouteBinding {
        let text = |column: &str| text_column(row, column).unwrap_or_default();
        RouteBinding {
            guid: text("guid"),
            route_guid: text("route_guid"),
            service_instance_guid: text("service_instance_guid"),
            route_service_url: text("route_service_url"),
        }
    }
}

impl RouteBinding {
    /// The binding of the route, if it has one.
    pub async fn of_route(db: &AnyPool, route: &str) -> ApiResult<Option<RouteBinding>> {
        let row =
            sqlx::query("SELECT * FROM route_bindings WHERE route_guid = $1").bind(route).fetch_optional(db).await?;
        Ok(row.as_ref().map(RouteBinding::from_row))
    }

    /// The instance's bindings to routes.
    pub async fn of_instance(db: &AnyPool, instance: &str) -> ApiResult<Vec<RouteBinding>> {
        let rows = sqlx::query("SELECT * FROM route_bindings WHERE service_instance_guid = $1 ORDER BY id")
            .bind(instance)
            .fetch_all(db)
            .await?;
        Ok(rows.iter().map(RouteBinding::from_row).collect())
    }

    /// Stores a binding under `guid` (made first: a broker binds under it);
    /// RouteAlreadyBoundToServiceInstance when the route has one.
    pub async fn insert(db: &AnyPool, guid: &str, route: &str, instance: &str, url: &str) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO route_bindings (guid, route_guid, service_instance_guid, route_service_url, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(guid)
        .bind(route)
        .bind(instance)
        .bind(url)
        .bind(now())
        .execute(db)
        .await
        .map_err(|e| taken_or(e, "RouteAlreadyBoundToServiceInstance", route))?;
        Ok(())
    }

    /// The apps mapped to its route: their instances register it anew.
    pub async fn apps_of_route(db: &AnyPool, route: &str) -> ApiResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT app_guid FROM route_mappings WHERE route_guid = $1")
            .bind(route)
            .fetch_all(db)
            .await?)
    }
}
