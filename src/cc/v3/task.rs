//! Tasks in v3.

use serde_json::json;

use super::APPS;
use super::resource::{Relationship, V3Resource, action, column, computed, constant, filter, link};
use crate::cc::model::resource::Kind::{Int, Text};
use crate::cc::model::resource::text_column;
use crate::cc::model::task::TASKS as MODEL;

pub static TASKS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/tasks",
    plural: "tasks",
    fields: &[
        column("sequence_id", "sequence_id", Int),
        column("name", "name", Text),
        column("command", "command", Text),
        constant("user", "\"vcap\""),
        column("state", "state", Text),
        column("memory_in_mb", "memory_in_mb", Int),
        column("disk_in_mb", "disk_in_mb", Int),
        constant("log_rate_limit_in_bytes_per_second", "-1"),
        computed("result", |row| json!({"failure_reason": text_column(row, "failure_reason")})),
        column("droplet_guid", "droplet_guid", Text),
    ],
    relationships: &[Relationship { name: "app", column: "app_guid", resource: &APPS }],
    links: &[link("app", "/v3/apps/{app_guid}"), action("cancel", "/v3/tasks/{guid}/actions/cancel")],
    filters: &[
        filter("guids", "guid IN (LIST)"),
        filter("names", "name IN (LIST)"),
        filter("states", "state IN (LIST)"),
        filter("sequence_ids", "CAST(sequence_id AS TEXT) IN (LIST)"),
        filter("app_guids", "app_guid IN (LIST)"),
        filter("space_guids", "app_guid IN (SELECT guid FROM apps WHERE space_guid IN (LIST))"),
        filter(
            "organization_guids",
            "app_guid IN (SELECT a.guid FROM apps a JOIN spaces s ON s.guid = a.space_guid WHERE s.organization_guid IN (LIST))",
        ),
    ],
    order_by: &[],
    metadata: true,
    hidden_in_lists: &["command"],
    extend: None,
};
