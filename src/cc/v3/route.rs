//! Routes in v3, with their url and destinations (the apps they lead to).

use std::collections::HashMap;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::resource::{Relationship, V3Resource, column, constant, filter, link};
use super::{DOMAINS, SPACES};
use crate::cc::Cc;
use crate::cc::error::ApiResult;
use crate::cc::model::ROUTES as MODEL;
use crate::cc::model::resource::Kind::{Int, Text};
use crate::cc::model::resource::text_column;
use crate::cc::model::route;

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
        let domains = route::domain_names(&cc.db, &guids).await?;
        let mut destinations: HashMap<String, Vec<Value>> = HashMap::new();
        for d in route::destinations(&cc.db, &guids).await? {
            destinations.entry(d.route_guid).or_default().push(json!({
                "guid": d.guid,
                "app": {"guid": d.app_guid, "process": {"type": "web"}},
                "weight": null,
                "port": d.app_port.unwrap_or(8080),
                "protocol": "http1",
                "updated_at": d.updated_at.unwrap_or_else(|| d.created_at.clone()),
                "created_at": d.created_at,
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
