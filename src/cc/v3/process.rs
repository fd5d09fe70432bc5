//! Processes in v3: how an app runs — instances, memory, disk, command and
//! health check, one per process type ([`crate::cc::model::process`]: web
//! on the app's own row, so its guid is the app's; the other types their
//! own).

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::APPS;
use super::resource::{Relationship, V3Resource, action, column, computed, constant, filter, link};
use crate::cc::model::process::PROCESSES as MODEL;
use crate::cc::model::resource::Kind::{Int, Text};
use crate::cc::model::resource::text_column;

pub static PROCESSES: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/processes",
    plural: "processes",
    fields: &[
        column("type", "type", Text),
        computed("command", command),
        constant("user", "\"vcap\""),
        column("instances", "instances", Int),
        column("memory_in_mb", "memory", Int),
        column("disk_in_mb", "disk_quota", Int),
        constant("log_rate_limit_in_bytes_per_second", "-1"),
        computed("health_check", health_check),
        constant("readiness_health_check", r#"{"type":"process","data":{"invocation_timeout":null}}"#),
        column("version", "version", Text),
    ],
    relationships: &[Relationship { name: "app", column: "app_guid", resource: &APPS }],
    links: &[
        action("scale", "/v3/processes/{guid}/actions/scale"),
        link("app", "/v3/apps/{app_guid}"),
        link("space", "/v3/spaces/{space_guid}"),
        link("stats", "/v3/processes/{guid}/stats"),
    ],
    filters: &[
        filter("types", "type IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("app_guids", "app_guid IN (LIST)"),
        filter("space_guids", "space_guid IN (LIST)"),
        filter("organization_guids", "space_guid IN (SELECT guid FROM spaces WHERE organization_guid IN (LIST))"),
    ],
    order_by: &[],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

/// The user's command, else the droplet's.
fn command(row: &AnyRow) -> Value {
    let given = text_column(row, "command").filter(|c| !c.is_empty());
    given.or_else(|| text_column(row, "detected_command").filter(|c| !c.is_empty())).map_or(Value::Null, Value::from)
}

fn health_check(row: &AnyRow) -> Value {
    let kind = text_column(row, "health_check_type").unwrap_or_else(|| "port".into());
    let timeout = row.try_get::<Option<i64>, _>("health_check_timeout").ok().flatten();
    let mut data = json!({"timeout": timeout, "invocation_timeout": null});
    if kind == "http" {
        data["endpoint"] = json!(text_column(row, "health_check_http_endpoint").unwrap_or_else(|| "/".into()));
    }
    json!({"type": kind, "data": data})
}
