//! The environment variable groups: variables every app gets while
//! `running` and while `staging`, beneath its own (an app's variable of
//! the same name wins), as an admin sets them.

use serde_json::{Map, Value};
use sqlx::AnyPool;

use crate::cc::error::{ApiError, ApiResult};
use crate::cc::now;

pub const GROUPS: [&str; 2] = ["running", "staging"];
/// The most a group may hold, as JSON.
const MAX_BYTES: usize = 64 * 1024;

/// The group's variables; NotFound for a group CF does not have.
pub async fn get(db: &AnyPool, name: &str) -> ApiResult<Map<String, Value>> {
    if !GROUPS.contains(&name) {
        return Err(ApiError::not_found());
    }
    let var: Option<String> = sqlx::query_scalar("SELECT var FROM environment_variable_groups WHERE name = $1")
        .bind(name)
        .fetch_optional(db)
        .await?;
    Ok(var.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default())
}

/// Replaces the group's variables: an object of strings (or numbers and
/// booleans), none named `VCAP_*` or `PORT`, at most 64 KiB in all.
pub async fn set(db: &AnyPool, name: &str, var: &Value) -> ApiResult<Map<String, Value>> {
    get(db, name).await?;
    let invalid = |why: &str| ApiError::new("EnvironmentVariableGroupInvalid", &[why]);
    let vars = var.as_object().ok_or_else(|| invalid("the group must be a JSON object"))?;
    for (key, value) in vars {
        if key.is_empty() || key.starts_with("VCAP_") || key == "PORT" {
            return Err(invalid(&format!("{key:?} cannot be set: it is empty, PORT or starts with VCAP_")));
        }
        if value.is_object() || value.is_array() {
            return Err(invalid(&format!("{key} must be a string, number or boolean")));
        }
    }
    let text = var.to_string();
    if text.len() > MAX_BYTES {
        return Err(invalid(&format!("the group is larger than {MAX_BYTES} bytes")));
    }
    sqlx::query("UPDATE environment_variable_groups SET var = $1, updated_at = $2 WHERE name = $3")
        .bind(&text)
        .bind(now())
        .bind(name)
        .execute(db)
        .await?;
    Ok(vars.clone())
}

/// `KEY=value` lines of the group beneath the app's own variables.
pub fn merged(group: Map<String, Value>, own: Map<String, Value>) -> Vec<String> {
    let mut all = group;
    all.extend(own);
    all.iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect()
}
