//! Application security groups: the egress rules instances run with,
//! bound to spaces or applied to every space by default.

use super::SPACES;
use sqlx::{AnyPool, Row};

use super::resource::{Kind, Kind::*, Resource, field, to_many};
use crate::cc::error::{ApiResult, taken_or};
use crate::cc::now;
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

/// The table binding groups to spaces, for running (`true`) or staging.
fn bindings_table(running: bool) -> &'static str {
    if running { "security_group_spaces" } else { "staging_security_group_spaces" }
}

/// The spaces the group is bound to, for running (`true`) or staging.
pub async fn bound_spaces(db: &AnyPool, group: &str, running: bool) -> ApiResult<Vec<String>> {
    let table = bindings_table(running);
    Ok(sqlx::query_scalar(&format!(
        "SELECT space_guid FROM {table} WHERE security_group_guid = $1 ORDER BY space_guid"
    ))
    .bind(group)
    .fetch_all(db)
    .await?)
}

/// Stores a group with its rules (JSON); SecurityGroupNameTaken if one has the name.
pub async fn insert(db: &AnyPool, guid: &str, name: &str, rules: &str) -> ApiResult<()> {
    sqlx::query("INSERT INTO security_groups (guid, name, rules, created_at) VALUES ($1, $2, $3, $4)")
        .bind(guid)
        .bind(name)
        .bind(rules)
        .bind(now())
        .execute(db)
        .await
        .map_err(|e| taken_or(e, "SecurityGroupNameTaken", name))?;
    Ok(())
}

/// Deletes a group with its bindings to spaces.
pub async fn delete(db: &AnyPool, guid: &str) -> ApiResult<()> {
    for running in [true, false] {
        sqlx::query(&format!("DELETE FROM {} WHERE security_group_guid = $1", bindings_table(running)))
            .bind(guid)
            .execute(db)
            .await?;
    }
    SECURITY_GROUPS.delete(db, guid).await
}

/// Binds (`on`) or unbinds a group and a space, for running or staging.
pub async fn set_binding(db: &AnyPool, group: &str, space: &str, running: bool, on: bool) -> ApiResult<()> {
    let bindings = bindings_table(running);
    sqlx::query(&format!("DELETE FROM {bindings} WHERE security_group_guid = $1 AND space_guid = $2"))
        .bind(group)
        .bind(space)
        .execute(db)
        .await?;
    if on {
        sqlx::query(&format!("INSERT INTO {bindings} (security_group_guid, space_guid) VALUES ($1, $2)"))
            .bind(group)
            .bind(space)
            .execute(db)
            .await?;
    }
    Ok(())
}

/// Makes a group (not) a platform default, for running or staging.
pub async fn set_default(db: &AnyPool, guid: &str, running: bool, on: bool) -> ApiResult<()> {
    let column = if running { "running_default" } else { "staging_default" };
    sqlx::query(&format!("UPDATE security_groups SET {column} = $1, updated_at = $2 WHERE guid = $3"))
        .bind(on)
        .bind(now())
        .bind(guid)
        .execute(db)
        .await?;
    Ok(())
}

/// Stores a group that is a platform default for running and staging
/// (what a fresh CCDB is seeded with).
pub async fn insert_default(db: &AnyPool, name: &str, rules: &str) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO security_groups (guid, name, rules, running_default, staging_default, created_at) \
         VALUES ($1, $2, $3, TRUE, TRUE, $4)",
    )
    .bind(crate::cc::new_guid())
    .bind(name)
    .bind(rules)
    .bind(now())
    .execute(db)
    .await?;
    Ok(())
}

/// (group guid, space guid) of every binding, for running (`true`) or staging.
pub async fn all_bindings(db: &AnyPool, running: bool) -> ApiResult<Vec<(String, String)>> {
    let sql = format!("SELECT security_group_guid, space_guid FROM {}", bindings_table(running));
    let rows = sqlx::query(&sql).fetch_all(db).await?;
    rows.iter().map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?))).collect()
}
