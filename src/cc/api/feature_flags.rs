//! `/v2/config/feature_flags` and `/v3/feature_flags`: CF's switches clients consult before acting
//! (the cf CLI asks `set_roles_by_username` before `set-space-role`). They
//! are fixed here, at what this platform does. Also the environment
//! variable groups, which are empty here: every app's environment is its own.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::cc::Cc;
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

/// A flag in v3's shape.
fn v3_flag(base: &str, name: &str, enabled: bool) -> Value {
    json!({
        "name": name,
        "enabled": enabled,
        "updated_at": null,
        "custom_error_message": null,
        "links": {"self": {"href": format!("{base}/v3/feature_flags/{name}")}},
    })
}

/// `GET /v3/feature_flags`: every flag, on one page.
pub async fn v3_list(State(cc): State<Cc>, _user: CurrentUser) -> Json<Value> {
    let base = cc.config.external_url();
    let url = format!("{base}/v3/feature_flags");
    Json(json!({
        "pagination": {
            "total_results": FLAGS.len(), "total_pages": 1,
            "first": {"href": format!("{url}?page=1&per_page={}", FLAGS.len())},
            "last": {"href": format!("{url}?page=1&per_page={}", FLAGS.len())},
            "next": null, "previous": null,
        },
        "resources": FLAGS.iter().map(|(name, on)| v3_flag(&base, name, *on)).collect::<Vec<_>>(),
    }))
}

/// `GET /v3/feature_flags/:name`.
pub async fn v3_get(State(cc): State<Cc>, _user: CurrentUser, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let (name, on) =
        FLAGS.iter().find(|(n, _)| *n == name).ok_or_else(|| ApiError::new("FeatureFlagNotFound", &[&name]))?;
    Ok(Json(v3_flag(&cc.config.external_url(), name, *on)))
}

/// `GET /v3/environment_variable_groups/{running,staging}`: empty.
pub async fn v3_environment_variable_group(
    State(cc): State<Cc>,
    _user: CurrentUser,
    Path(group): Path<String>,
) -> ApiResult<Json<Value>> {
    if group != "running" && group != "staging" {
        return Err(ApiError::not_found());
    }
    let url = format!("{}/v3/environment_variable_groups/{group}", cc.config.external_url());
    Ok(Json(json!({"name": group, "var": {}, "updated_at": null, "links": {"self": {"href": url}}})))
}
