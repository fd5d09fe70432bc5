//! Apps in v3: the app's name, state and lifecycle; how it runs is its
//! processes' ([`super::process`]), rendered from the same stored app.

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::SPACES;
use super::resource::{Relationship, V3Resource, action, column, computed, filter, link};
use crate::cc::model::APPS as MODEL;
use crate::cc::model::resource::Kind::Text;
use crate::cc::model::resource::text_column;
use crate::protocol::STACK;

pub static APPS: V3Resource = V3Resource {
    model: &MODEL,
    path: "/v3/apps",
    plural: "apps",
    fields: &[column("name", "name", Text), column("state", "state", Text), computed("lifecycle", lifecycle)],
    relationships: &[Relationship { name: "space", column: "space_guid", resource: &SPACES }],
    links: &[
        link("space", "/v3/spaces/{space_guid}"),
        link("processes", "/v3/apps/{guid}/processes"),
        link("packages", "/v3/apps/{guid}/packages"),
        link("environment_variables", "/v3/apps/{guid}/environment_variables"),
        link("current_droplet", "/v3/apps/{guid}/droplets/current"),
        link("droplets", "/v3/apps/{guid}/droplets"),
        link("tasks", "/v3/apps/{guid}/tasks"),
        action("start", "/v3/apps/{guid}/actions/start"),
        action("stop", "/v3/apps/{guid}/actions/stop"),
        link("revisions", "/v3/apps/{guid}/revisions"),
        link("deployed_revisions", "/v3/apps/{guid}/revisions/deployed"),
        link("features", "/v3/apps/{guid}/features"),
    ],
    filters: &[
        filter("names", "name IN (LIST)"),
        filter("guids", "guid IN (LIST)"),
        filter("space_guids", "space_guid IN (LIST)"),
        filter("organization_guids", "space_guid IN (SELECT guid FROM spaces WHERE organization_guid IN (LIST))"),
        filter("stacks", "stack_guid IN (SELECT guid FROM stacks WHERE name IN (LIST))"),
        filter("lifecycle_type", "'buildpack' IN (LIST)"),
    ],
    order_by: &["name", "state"],
    metadata: true,
    hidden_in_lists: &[],
    extend: None,
};

/// Every app here is built by buildpacks on the one stack.
fn lifecycle(row: &AnyRow) -> Value {
    let buildpacks: Vec<String> = text_column(row, "buildpack").filter(|b| !b.is_empty()).into_iter().collect();
    json!({"type": "buildpack", "data": {"buildpacks": buildpacks, "stack": STACK}})
}
