//! Security groups, whichever API asks: named lists of egress rules
//! (protocol, destination, ports) that say where apps may connect, bound to
//! spaces for running or staging, or platform defaults for every app.
//! Admins only: the callers check.

use serde_json::Value;

use super::error::{ApiError, ApiResult, taken_or};
use super::model::{SECURITY_GROUPS, SPACES};
use super::{Cc, new_guid, now};
use crate::protocol::messages::EgressRule;

/// For running (`true`) or for staging.
fn bindings_table(running: bool) -> &'static str {
    if running { "security_group_spaces" } else { "staging_security_group_spaces" }
}

/// The spaces the group is bound to, for running (`true`) or staging.
pub async fn bound_spaces(cc: &Cc, group: &str, running: bool) -> ApiResult<Vec<String>> {
    let table = bindings_table(running);
    Ok(sqlx::query_scalar(&format!(
        "SELECT space_guid FROM {table} WHERE security_group_guid = $1 ORDER BY space_guid"
    ))
    .bind(group)
    .fetch_all(&cc.db)
    .await?)
}

/// `rules` checked as CF checks them: the JSON to store, or what is wrong.
pub fn checked_rules(value: &Value) -> Result<String, String> {
    let Value::Array(items) = value else { return Err("rules must be an array".into()) };
    for (index, item) in items.iter().enumerate() {
        let rule: EgressRule =
            serde_json::from_value(item.clone()).map_err(|e| format!("rule number {} is invalid: {e}", index + 1))?;
        if let Some(problem) = rule.problem() {
            return Err(format!("rule number {}: {problem}", index + 1));
        }
    }
    Ok(value.to_string())
}

/// A new group with `rules` (checked JSON); its guid.
pub async fn create(cc: &Cc, name: &str, rules: &str) -> ApiResult<String> {
    let guid = new_guid();
    sqlx::query("INSERT INTO security_groups (guid, name, rules, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&guid)
        .bind(name)
        .bind(rules)
        .bind(now())
        .execute(&cc.db)
        .await
        .map_err(|e| taken_or(e, "SecurityGroupNameTaken", name))?;
    Ok(guid)
}

/// Deletes a group and its bindings.
pub async fn delete(cc: &Cc, guid: &str) -> ApiResult<()> {
    SECURITY_GROUPS.find(&cc.db, guid).await?;
    for running in [true, false] {
        sqlx::query(&format!("DELETE FROM {} WHERE security_group_guid = $1", bindings_table(running)))
            .bind(guid)
            .execute(&cc.db)
            .await?;
    }
    sqlx::query("DELETE FROM security_groups WHERE guid = $1").bind(guid).execute(&cc.db).await?;
    Ok(())
}

/// Binds (`on`) or unbinds a group and a space, for running or staging.
pub async fn bind(cc: &Cc, group: &str, space: &str, running: bool, on: bool) -> ApiResult<()> {
    SECURITY_GROUPS.find(&cc.db, group).await?;
    SPACES.find(&cc.db, space).await?;
    let bindings = bindings_table(running);
    sqlx::query(&format!("DELETE FROM {bindings} WHERE security_group_guid = $1 AND space_guid = $2"))
        .bind(group)
        .bind(space)
        .execute(&cc.db)
        .await?;
    if on {
        sqlx::query(&format!("INSERT INTO {bindings} (security_group_guid, space_guid) VALUES ($1, $2)"))
            .bind(group)
            .bind(space)
            .execute(&cc.db)
            .await?;
    }
    Ok(())
}

/// Makes a group (not) a platform default, for running or staging.
pub async fn set_default(cc: &Cc, guid: &str, running: bool, on: bool) -> ApiResult<()> {
    SECURITY_GROUPS.find(&cc.db, guid).await.map_err(|_| {
        let invalid = if running { "SecurityGroupRunningDefaultInvalid" } else { "SecurityGroupStagingDefaultInvalid" };
        ApiError::new(invalid, &[guid])
    })?;
    let column = if running { "running_default" } else { "staging_default" };
    sqlx::query(&format!("UPDATE security_groups SET {column} = $1, updated_at = $2 WHERE guid = $3"))
        .bind(on)
        .bind(now())
        .bind(guid)
        .execute(&cc.db)
        .await?;
    Ok(())
}
