//! Application security groups: the egress rules instances run with,
//! bound to spaces or applied to every space by default.

use super::SPACES;
use sqlx::AnyPool;

use super::resource::{Kind, Kind::*, Resource, field, to_many};
use crate::cc::error::ApiResult;
use crate::cc::permissions::Visibility;
use crate::protocol::messages::EgressRule;

pub static SECURITY_GROUPS: Resource = Resource {
    table: "security_groups",
    path: "/v2/security_groups",
    fields: &[
        field("name", Text),
        field("rules", Kind::Json),
        field("running_default", Bool),
        field("staging_default", Bool),
    ],
    to_one: &[],
    to_many: &[
        to_many(
            "spaces",
            &SPACES,
            "guid IN (SELECT space_guid FROM security_group_spaces WHERE security_group_guid = ?)",
        ),
        to_many(
            "staging_spaces",
            &SPACES,
            "guid IN (SELECT space_guid FROM staging_security_group_spaces WHERE security_group_guid = ?)",
        ),
    ],
    not_found: "SecurityGroupNotFound",
    filters: &["name", "running_default", "staging_default"],
    scope: None,
    visibility: Visibility::BoundToSpaces(&[
        ("security_group_spaces", "security_group_guid"),
        ("staging_security_group_spaces", "security_group_guid"),
    ]),
};

/// The egress rules that apply to an app of `space`: its space's groups for
/// running (or staging) and the platform's defaults for it.
pub async fn egress_rules(db: &AnyPool, space: &str, staging: bool) -> ApiResult<Vec<EgressRule>> {
    let (bindings, default) = if staging {
        ("staging_security_group_spaces", "staging_default")
    } else {
        ("security_group_spaces", "running_default")
    };
    let sql = format!(
        "SELECT rules FROM security_groups WHERE {default} = TRUE \
         OR guid IN (SELECT security_group_guid FROM {bindings} WHERE space_guid = $1) ORDER BY id"
    );
    let groups: Vec<String> = sqlx::query_scalar(&sql).bind(space).fetch_all(db).await?;
    // Rules were checked when stored; one that no longer parses allows nothing.
    Ok(groups.iter().flat_map(|rules| serde_json::from_str::<Vec<EgressRule>>(rules).unwrap_or_default()).collect())
}
