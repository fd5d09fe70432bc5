//! Routes in v3, with their url and destinations (the apps they lead to).

use std::collections::HashMap;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use super::resource::{Relationship, V3Resource, column, constant, filter, link};
use super::{DOMAINS, SPACES};
use crate::cc::Cc;
use crate::cc::error::ApiResult;
use crate::cc::model::ROUTES as MODEL;
use crate::cc::model::resource::Kind::{Int, Text};
use crate::cc::model::resource::text_column;

pub static ROUTES: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/routes",
    plural: "routes",
    fields: &[
        constant("protocol", "\"http\""),
        column("port", "port", Int),
        column("host", "host", Text),
        column("path", "path", Text),
        constant("options", "{}"),
    ],
    relationships: &[
        Relationship { name: "space", column: "space_guid", resource: &SPACES },
        Relationship { name: "domain", column: "domain_guid", resource: &DOMAINS },
    ],
    links: &[
        link("space", "/v3/spaces/{space_guid}"),
        link("domain", "/v3/domains/{domain_guid}"),
        link("destinations", "/v3/routes/{guid}/destinations"),
    ],
    filters: &[
        filter("guids", "guid IN (LIST)"),
        filter("hosts", "host IN (LIST)"),
        filter("paths", "path IN (LIST)"),
        filter("ports", "port IN (LIST)"),
        filter("domain_guids", "domain_guid IN (LIST)"),
        filter("space_guids", "space_guid IN (LIST)"),
        filter("organization_guids", "space_guid IN (SELECT guid FROM spaces WHERE organization_guid IN (LIST))"),
        filter("app_guids", "guid IN (SELECT route_guid FROM route_mappings WHERE app_guid IN (LIST))"),
    ],
    order_by: &[],
    metadata: true,
    hidden_in_lists: &[],
    extend: Some(url_and_destinations),
};

/// `url` (host.domain/path) and `destinations` of each route, in two
/// queries for the page.
fn url_and_destinations<'a>(cc: &'a Cc, rows: &'a [AnyRow], out: &'a mut [Value]) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let guids: Vec<String> = rows.iter().filter_map(|r| text_column(r, "guid")).collect();
        if guids.is_empty() {
            return Ok(());
        }
        let marks: Vec<String> = (1..=guids.len()).map(|i| format!("${i}")).collect();
        let marks = marks.join(", ");
        let mut domains = HashMap::new();
        let sql = format!(
            "SELECT r.guid, d.name FROM routes r JOIN domains d ON d.guid = r.domain_guid WHERE r.guid IN ({marks})"
        );
        for row in bind_all(&sql, &guids).fetch_all(&cc.db).await? {
            domains.insert(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        }
        let mut destinations: HashMap<String, Vec<Value>> = HashMap::new();
        let sql = format!(
            "SELECT guid, route_guid, app_guid, app_port, created_at, updated_at FROM route_mappings \
             WHERE route_guid IN ({marks}) ORDER BY id"
        );
        for row in bind_all(&sql, &guids).fetch_all(&cc.db).await? {
            let created: String = row.try_get("created_at")?;
            destinations.entry(row.try_get("route_guid")?).or_default().push(json!({
                "guid": row.try_get::<String, _>("guid")?,
                "app": {"guid": row.try_get::<String, _>("app_guid")?, "process": {"type": "web"}},
                "weight": null,
                "port": row.try_get::<Option<i64>, _>("app_port")?.unwrap_or(8080),
                "protocol": "http1",
                "created_at": created,
                "updated_at": row.try_get::<Option<String>, _>("updated_at")?.unwrap_or_else(|| created.clone()),
            }));
        }
        for (value, row) in out.iter_mut().zip(rows) {
            let guid = text_column(row, "guid").unwrap_or_default();
            let host = text_column(row, "host").unwrap_or_default();
            let path = text_column(row, "path").unwrap_or_default();
            let domain = domains.get(&guid).cloned().unwrap_or_default();
            let url = if host.is_empty() { format!("{domain}{path}") } else { format!("{host}.{domain}{path}") };
            value["url"] = json!(url);
            value["destinations"] = json!(destinations.remove(&guid).unwrap_or_default());
        }
        Ok(())
    })
}

fn bind_all<'q>(sql: &'q str, guids: &'q [String]) -> Query<'q, Any, AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for guid in guids {
        query = query.bind(guid.as_str());
    }
    query
}
