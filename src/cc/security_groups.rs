//! Security groups, whichever API asks: named lists of egress rules
//! (protocol, destination, ports) that say where apps may connect, bound to
//! spaces for running or staging, or platform defaults for every app.
//! Admins only: the callers check.

use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::model::{SECURITY_GROUPS, SPACES, security_group};
use super::{Cc, new_guid};
use crate::protocol::messages::EgressRule;

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

/// Makes a group with checked `rules`; its guid.
pub async fn create(cc: &Cc, name: &str, rules: &str) -> ApiResult<String> {
    let guid = new_guid();
    security_group::insert(&cc.db, &guid, name, rules).await?;
    Ok(guid)
}

/// Deletes a group and its bindings.
pub async fn delete(cc: &Cc, guid: &str) -> ApiResult<()> {
    SECURITY_GROUPS.find(&cc.db, guid).await?;
    security_group::delete(&cc.db, guid).await
}

/// Binds (`on`) or unbinds a group and a space, for running or staging.
pub async fn bind(cc: &Cc, group: &str, space: &str, running: bool, on: bool) -> ApiResult<()> {
    SECURITY_GROUPS.find(&cc.db, group).await?;
    SPACES.find(&cc.db, space).await?;
    security_group::set_binding(&cc.db, group, space, running, on).await
}

/// Makes a group (not) a platform default, for running or staging.
pub async fn set_default(cc: &Cc, guid: &str, running: bool, on: bool) -> ApiResult<()> {
    SECURITY_GROUPS.find(&cc.db, guid).await.map_err(|_| {
        let invalid = if running { "SecurityGroupRunningDefaultInvalid" } else { "SecurityGroupStagingDefaultInvalid" };
        ApiError::new(invalid, &[guid])
    })?;
    security_group::set_default(&cc.db, guid, running, on).await
}
