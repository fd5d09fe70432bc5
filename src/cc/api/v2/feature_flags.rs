//! `/v2/config/feature_flags` (the switches of [`crate::cc::model::feature_flag`])
//! and the environment variable groups (running and staging), which
//! admins set.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::environment_variable_group;
use crate::cc::model::feature_flag::FLAGS;

fn flag(name: &str, enabled: bool) -> Value {
    json!({"name": name, "enabled": enabled, "error_message": null, "url": format!("/v2/config/feature_flags/{name}")})
}

pub async fn list(_user: CurrentUser) -> Json<Value> {
    Json(Value::Array(FLAGS.iter().map(|(name, on)| flag(name, *on)).collect()))
}

pub async fn get(_user: CurrentUser, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    FLAGS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, on)| Json(flag(n, *on)))
        .ok_or_else(|| ApiError::new("FeatureFlagNotFound", &[&name]))
}

/// `GET /v2/config/environment_variable_groups/{running,staging}`.
pub async fn environment_variable_group(
    State(cc): State<Cc>,
    _user: CurrentUser,
    Path(group): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(Value::Object(environment_variable_group::get(&cc.db, &group).await?)))
}

/// `PUT /v2/config/environment_variable_groups/{running,staging}` (admins):
/// the group's variables, replaced.
pub async fn set_environment_variable_group(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(group): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let var: Value = serde_json::from_slice(&body).map_err(ApiError::parse)?;
    crate::cc::api::input::without_nul(&var)?;
    Ok(Json(Value::Object(environment_variable_group::set(&cc.db, &group, &var).await?)))
}
