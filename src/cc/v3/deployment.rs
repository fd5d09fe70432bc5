//! Deployments in v3: status (value, reason, details, a canary's steps),
//! strategy and options, the droplets rolled from and to.

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::APPS;
use super::resource::{Relationship, V3Resource, action, column, computed, filter, link};
use crate::cc::model::deployment::{CANARY, DEPLOYMENTS as MODEL, canary_steps};
use crate::cc::model::resource::Kind::Text;
use crate::cc::model::resource::text_column;

pub static DEPLOYMENTS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/deployments",
    plural: "deployments",
    fields: &[
        computed("state", state),
        computed("status", status),
        column("strategy", "strategy", Text),
        computed("options", options),
        computed("droplet", |row| guid_of(row, "droplet_guid")),
        computed("previous_droplet", |row| guid_of(row, "previous_droplet_guid")),
        computed("new_processes", |row| json!([{"guid": text_column(row, "app_guid"), "type": "web"}])),
        computed("revision", |_| Value::Null),
    ],
    relationships: &[Relationship { name: "app", column: "app_guid", resource: &APPS }],
    links: &[
        link("app", "/v3/apps/{app_guid}"),
        action("cancel", "/v3/deployments/{guid}/actions/cancel"),
        action("continue", "/v3/deployments/{guid}/actions/continue"),
    ],
    filters: &[
        filter("app_guids", "app_guid IN (LIST)"),
        filter("status_values", "status_value IN (LIST)"),
        filter("status_reasons", "status_reason IN (LIST)"),
        filter(
            "states",
            "(CASE WHEN status_value = 'ACTIVE' THEN 'DEPLOYING' WHEN status_reason = 'CANCELED' THEN 'CANCELED' \
             ELSE 'DEPLOYED' END) IN (LIST)",
        ),
    ],
    order_by: &[],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

fn guid_of(row: &AnyRow, column: &str) -> Value {
    text_column(row, column).map_or(Value::Null, |guid| json!({"guid": guid}))
}

/// The `state` older clients read: DEPLOYING while ACTIVE, then DEPLOYED
/// or CANCELED (a superseded deployment had deployed, as CCNG has it).
fn state(row: &AnyRow) -> Value {
    let reason = text_column(row, "status_reason").unwrap_or_default();
    json!(match text_column(row, "status_value").as_deref() {
        Some("ACTIVE") => "DEPLOYING",
        _ if reason == "CANCELED" => "CANCELED",
        _ => "DEPLOYED",
    })
}

fn status(row: &AnyRow) -> Value {
    let mut status = json!({
        "value": text_column(row, "status_value"),
        "reason": text_column(row, "status_reason"),
        "details": {"last_successful_healthcheck": null, "last_status_change": text_column(row, "last_status_change")},
    });
    if text_column(row, "strategy").as_deref() == Some(CANARY) {
        let total = stored_steps(row).len().max(1);
        let current = sqlx::Row::try_get::<i64, _>(row, "canary_step").unwrap_or(1).clamp(1, total as i64);
        status["canary"] = json!({"steps": {"current": current, "total": total}});
    }
    status
}

fn options(row: &AnyRow) -> Value {
    let mut options = json!({
        "max_in_flight": sqlx::Row::try_get::<i64, _>(row, "max_in_flight").unwrap_or(1),
        "web_instances": int_column(row, "web_instances"),
        "memory_in_mb": int_column(row, "memory_in_mb"),
        "disk_in_mb": int_column(row, "disk_in_mb"),
        "log_rate_limit_in_bytes_per_second": null,
    });
    if text_column(row, "strategy").as_deref() == Some(CANARY) {
        let steps: Vec<Value> = stored_steps(row).iter().map(|w| json!({"instance_weight": w})).collect();
        options["canary"] = json!({"steps": steps});
    }
    options
}

/// An integer column, null when NULL.
fn int_column(row: &AnyRow, column: &str) -> Value {
    sqlx::Row::try_get::<Option<i64>, _>(row, column).ok().flatten().map_or(Value::Null, Value::from)
}

fn stored_steps(row: &AnyRow) -> Vec<u32> {
    let steps: Option<Value> = text_column(row, "canary_steps").and_then(|text| serde_json::from_str(&text).ok());
    canary_steps(steps.as_ref())
}
