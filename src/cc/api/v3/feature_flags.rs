//! `/v3/feature_flags` (the switches of [`crate::cc::model::feature_flag`])
//! and `/v3/environment_variable_groups`, in v3's shape.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::environment_variable_group;
use crate::cc::model::feature_flag::FLAGS;

/// A flag in v3's shape.
fn flag(base: &str, name: &str, enabled: bool) -> Value {
    json!({
        "name": name,
        "enabled": enabled,
        "updated_at": null,
        "custom_error_message": null,
        "links": {"self": {"href": format!("{base}/v3/feature_flags/{name}")}},
    })
}

/// `GET /v3/feature_flags`: every flag, on one page.
pub async fn list(State(cc): State<Cc>, _user: CurrentUser) -> Json<Value> {
    let base = cc.config.external_url();
    let url = format!("{base}/v3/feature_flags");
    Json(json!({
        "pagination": {
            "total_results": FLAGS.len(), "total_pages": 1,
            "first": {"href": format!("{url}?page=1&per_page={}", FLAGS.len())},
            "last": {"href": format!("{url}?page=1&per_page={}", FLAGS.len())},
            "next": null, "previous": null,
        },
        "resources": FLAGS.iter().map(|(name, on)| flag(&base, name, *on)).collect::<Vec<_>>(),
    }))
}

/// `GET /v3/feature_flags/:name`.
pub async fn get(State(cc): State<Cc>, _user: CurrentUser, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let (name, on) =
        FLAGS.iter().find(|(n, _)| *n == name).ok_or_else(|| ApiError::new("FeatureFlagNotFound", &[&name]))?;
    Ok(Json(flag(&cc.config.external_url(), name, *on)))
}

/// A group in v3's shape.
fn group_json(cc: &Cc, name: &str, var: Map<String, Value>) -> Value {
    let url = format!("{}/v3/environment_variable_groups/{name}", cc.config.external_url());
    json!({"name": name, "var": var, "updated_at": null, "links": {"self": {"href": url}}})
}

/// `GET /v3/environment_variable_groups/{running,staging}`.
pub async fn environment_variable_group(
    State(cc): State<Cc>,
    _user: CurrentUser,
    Path(group): Path<String>,
) -> ApiResult<Json<Value>> {
    let var = environment_variable_group::get(&cc.db, &group).await?;
    Ok(Json(group_json(&cc, &group, var)))
}

/// `PATCH /v3/environment_variable_groups/{running,staging}` (admins)
/// `{"var": {K: V|null}}`: sets or (null) removes each variable.
pub async fn update_environment_variable_group(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(group): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let request: Value = serde_json::from_slice(&body).map_err(ApiError::parse)?;
    crate::cc::api::input::without_nul(&request)?;
    let mut var = environment_variable_group::get(&cc.db, &group).await?;
    for (key, value) in request["var"].as_object().into_iter().flatten() {
        if value.is_null() {
            var.remove(key);
        } else {
            var.insert(key.clone(), value.clone());
        }
    }
    let var = environment_variable_group::set(&cc.db, &group, &Value::Object(var)).await?;
    Ok(Json(group_json(&cc, &group, var)))
}
