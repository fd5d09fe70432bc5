//! Security groups in v3, with the spaces they are bound to.

use std::collections::HashMap;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::resource::{V3Resource, column, computed, filter};
use crate::cc::Cc;
use crate::cc::error::ApiResult;
use crate::cc::model::SECURITY_GROUPS as MODEL;
use crate::cc::model::resource::Kind::{Json, Text};
use crate::cc::model::resource::{bool_column, text_column};
use crate::cc::model::security_group;

pub static SECURITY_GROUPS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/security_groups",
    plural: "security_groups",
    fields: &[
        column("name", "name", Text),
        computed("globally_enabled", |row| {
            json!({
                "running": bool_column(row, "running_default").unwrap_or(false),
                "staging": bool_column(row, "staging_default").unwrap_or(false),
            })
        }),
        column("rules", "rules", Json),
    ],
    relationships: &[],
    links: &[],
    filters: &[
        filter("names", "name IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        // `cf running-security-groups` / `staging-security-groups`.
        filter("globally_enabled_running", "(running_default = TRUE) = ('true' IN (LIST))"),
        filter("globally_enabled_staging", "(staging_default = TRUE) = ('true' IN (LIST))"),
        filter(
            "running_space_guids",
            "guid IN (SELECT security_group_guid FROM security_group_spaces WHERE space_guid IN (LIST))",
        ),
        filter(
            "staging_space_guids",
            "guid IN (SELECT security_group_guid FROM staging_security_group_spaces WHERE space_guid IN (LIST))",
        ),
    ],
    order_by: &["name"],
    metadata: false,
    hidden_in_lists: &[],
    extend: Some(bound_spaces),
};

/// `relationships.running_spaces` and `staging_spaces`, one query each for the page.
fn bound_spaces<'a>(cc: &'a Cc, rows: &'a [AnyRow], out: &'a mut [Value]) -> BoxFuture<'a, ApiResult<()>> {
    Box::pin(async move {
        for (running, name) in [(true, "running_spaces"), (false, "staging_spaces")] {
            let mut by_group: HashMap<String, Vec<Value>> = HashMap::new();
            for (group, space) in security_group::all_bindings(&cc.db, running).await? {
                by_group.entry(group).or_default().push(json!({"guid": space}));
            }
            for (value, row) in out.iter_mut().zip(rows) {
                let guid = text_column(row, "guid").unwrap_or_default();
                value["relationships"][name] = json!({"data": by_group.remove(&guid).unwrap_or_default()});
            }
        }
        Ok(())
    })
}
