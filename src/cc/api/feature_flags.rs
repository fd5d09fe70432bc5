//! `/v2/config/feature_flags` and `/v3/feature_flags`: CF's switches clients consult before acting
//! (the cf CLI asks `set_roles_by_username` before `set-space-role`). They
//! are fixed here, at what this platform does. Also the environment
//! variable groups (running and staging), which admins set.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::environment_variable_group;

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
    Ok(Json(Value::Object(environment_variable_group::set(&cc.db, &group, &var).await?)))
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

/// A group in v3's shape.
fn v3_group(cc: &Cc, name: &str, var: Map<String, Value>) -> Value {
    let url = format!("{}/v3/environment_variable_groups/{name}", cc.config.external_url());
    json!({"name": name, "var": var, "updated_at": null, "links": {"self": {"href": url}}})
}

/// `GET /v3/environment_variable_groups/{running,staging}`.
pub async fn v3_environment_variable_group(
    State(cc): State<Cc>,
    _user: CurrentUser,
    Path(group): Path<String>,
) -> ApiResult<Json<Value>> {
    let var = environment_variable_group::get(&cc.db, &group).await?;
    Ok(Json(v3_group(&cc, &group, var)))
}

/// `PATCH /v3/environment_variable_groups/{running,staging}` (admins)
/// `{"var": {K: V|null}}`: sets or (null) removes each variable.
pub async fn v3_update_environment_variable_group(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(group): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let request: Value = serde_json::from_slice(&body).map_err(ApiError::parse)?;
    let mut var = environment_variable_group::get(&cc.db, &group).await?;
    for (key, value) in request["var"].as_object().into_iter().flatten() {
        if value.is_null() {
            var.remove(key);
        } else {
            var.insert(key.clone(), value.clone());
        }
    }
    let var = environment_variable_group::set(&cc.db, &group, &Value::Object(var)).await?;
    Ok(Json(v3_group(&cc, &group, var)))
}
