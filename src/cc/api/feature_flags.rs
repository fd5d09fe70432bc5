//! `/v2/config/feature_flags`: CF's switches clients consult before acting
//! (the cf CLI asks `set_roles_by_username` before `set-space-role`). They
//! are fixed here, at what this platform does. Also the environment
//! variable groups, which are empty here: every app's environment is its own.

use axum::Json;
use axum::extract::Path;
use serde_json::{Value, json};

use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};

/// Every flag CF v2 knows, and whether it is on here.
const FLAGS: [(&str, bool); 16] = [
    ("user_org_creation", false),
    ("private_domain_creation", true),
    ("app_bits_upload", true),
    ("app_scaling", true),
    ("route_creation", true),
    ("service_instance_creation", false),
    ("diego_docker", false),
    ("set_roles_by_username", true),
    ("unset_roles_by_username", false),
    ("task_creation", false),
    ("env_var_visibility", true),
    ("space_scoped_private_broker_creation", false),
    ("space_developer_env_var_visibility", true),
    ("service_instance_sharing", false),
    ("hide_marketplace_from_unauthenticated_users", false),
    ("resource_matching", true),
];

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

/// `GET /v2/config/environment_variable_groups/{running,staging}`: empty.
pub async fn environment_variable_group(_user: CurrentUser, Path(group): Path<String>) -> ApiResult<Json<Value>> {
    match group.as_str() {
        "running" | "staging" => Ok(Json(json!({}))),
        _ => Err(ApiError::not_found()),
    }
}
