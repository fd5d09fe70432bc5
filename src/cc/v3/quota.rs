//! Organization and space quotas in v3: v2's quota definitions grouped as
//! v3 shows them (`apps`, `services`, `routes`, `domains`), with -1
//! (unlimited) as null, and the orgs or spaces each applies to.

use std::collections::HashMap;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::ORGANIZATIONS;
use super::resource::{Relationship, V3Resource, column, computed, filter};
use crate::cc::Cc;
use crate::cc::error::ApiResult;
use crate::cc::model::quota::{self, QuotaOf};
use crate::cc::model::resource::Kind::Text;
use crate::cc::model::resource::{bool_column, text_column};
use crate::cc::model::{QUOTA_DEFINITIONS, SPACE_QUOTA_DEFINITIONS};

pub static ORGANIZATION_QUOTAS: V3Resource = V3Resource {
    model: &QUOTA_DEFINITIONS,
    path: "/v3/organization_quotas",
    plural: "organization_quotas",
    fields: &[
        column("name", "name", Text),
        computed("apps", apps),
        computed("services", services),
        computed("routes", routes),
        computed("domains", |row| json!({"total_domains": limit(row, "total_private_domains")})),
    ],
    relationships: &[],
    links: &[],
    filters: &[
        filter("names", "name IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("organization_guids", "guid IN (SELECT quota_definition_guid FROM organizations WHERE guid IN (LIST))"),
    ],
    order_by: &["name"],
    metadata: false,
    hidden_in_lists: &[],
    extend: Some(applied_to_orgs),
};

pub static SPACE_QUOTAS: V3Resource = V3Resource {
    model: &SPACE_QUOTA_DEFINITIONS,
    path: "/v3/space_quotas",
    plural: "space_quotas",
    fields: &[
        column("name", "name", Text),
        computed("apps", apps),
        computed("services", services),
        computed("routes", routes),
    ],
    relationships: &[Relationship { name: "organization", column: "organization_guid", resource: &ORGANIZATIONS }],
    links: &[],
    filters: &[
        filter("names", "name IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("organization_guids", "organization_guid IN (LIST)"),
        filter("space_guids", "guid IN (SELECT space_quota_definition_guid FROM spaces WHERE guid IN (LIST))"),
    ],
    order_by: &["name"],
    metadata: false,
    hidden_in_lists: &[],
    extend: Some(applied_to_spaces),
};

/// A limit; -1 (and none) is unlimited, which v3 shows as null.
fn limit(row: &AnyRow, column: &str) -> Value {
    match row.try_get::<Option<i64>, _>(column).ok().flatten() {
        Some(n) if n >= 0 => Value::from(n),
        _ => Value::Null,
    }
}

fn apps(row: &AnyRow) -> Value {
    json!({
        "total_memory_in_mb": limit(row, "memory_limit"),
        "per_process_memory_in_mb": limit(row, "instance_memory_limit"),
        "total_instances": limit(row, "app_instance_limit"),
        "per_app_tasks": limit(row, "app_task_limit"),
        "log_rate_limit_in_bytes_per_second": null,
    })
}

fn services(row: &AnyRow) -> Value {
    json!({
        "paid_services_allowed": bool_column(row, "non_basic_services_allowed").unwrap_or(true),
        "total_service_instances": limit(row, "total_services"),
        "total_service_keys": limit(row, "total_service_keys"),
    })
}

fn routes(row: &AnyRow) -> Value {
    json!({"total_routes": limit(row, "total_routes"), "total_reserved_ports": limit(row, "total_reserved_route_ports")})
}

fn applied_to_orgs<'a>(cc: &'a Cc, rows: &'a [AnyRow], out: &'a mut [Value]) -> BoxFuture<'a, ApiResult<()>> {
    applied(cc, rows, out, QuotaOf::Org, "organizations")
}

fn applied_to_spaces<'a>(cc: &'a Cc, rows: &'a [AnyRow], out: &'a mut [Value]) -> BoxFuture<'a, ApiResult<()>> {
    applied(cc, rows, out, QuotaOf::Space, "spaces")
}

/// `relationships.<name>`: the orgs or spaces each quota applies to.
fn applied<'a>(
    cc: &'a Cc,
    rows: &'a [AnyRow],
    out: &'a mut [Value],
    of: QuotaOf,
    name: &'static str,
) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        let mut by_quota: HashMap<String, Vec<Value>> = HashMap::new();
        for (quota, guid) in quota::applied_to(&cc.db, of).await? {
            by_quota.entry(quota).or_default().push(json!({"guid": guid}));
        }
        for (value, row) in out.iter_mut().zip(rows) {
            let guid = text_column(row, "guid").unwrap_or_default();
            value["relationships"][name] = json!({"data": by_quota.remove(&guid).unwrap_or_default()});
        }
        Ok(())
    })
}
