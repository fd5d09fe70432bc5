//! Security groups: `/v2/security_groups` — named lists of egress rules
//! (protocol, destination, ports) that say where apps may connect. A group
//! applies to the apps of the spaces it is bound to (`…/spaces/:space` for
//! running, `…/staging_spaces/:space` for staging) and, as a platform
//! default (`/v2/config/running_security_groups/:guid`,
//! `/v2/config/staging_security_groups/:guid`), to every app. Admins
//! manage them; others see the groups bound to spaces they see. The DEA applies the rules to every socket ([`crate::cc::model::security_group::egress_rules`]
//! feeds `dea.start`'s `egress_network_rules`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::body::Body;
use super::collection::created;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::SECURITY_GROUPS;
use crate::cc::model::sql::{Condition, SqlValue};
use crate::cc::permissions::require;
use crate::cc::v2::list_params::ListParams;
use crate::cc::{Cc, security_groups};

/// The `rules` of a request, checked as CF checks them; stored as given.
fn rules(body: &Body) -> ApiResult<Option<String>> {
    body.value("rules").map(|value| security_groups::checked_rules(value).map_err(|e| body.invalid(&e))).transpose()
}

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "SecurityGroupInvalid")?;
    let name = body.required_string("name")?;
    let rules = rules(&body)?.unwrap_or_else(|| "[]".into());
    let guid = security_groups::create(&cc, &name, &rules).await?;
    for space in body.strings("space_guids")?.unwrap_or_default() {
        security_groups::bind(&cc, &guid, &space, true, true).await?;
    }
    created(&SECURITY_GROUPS, &cc, &guid).await
}

pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    require(user.user.admin)?;
    SECURITY_GROUPS.find(&cc.db, &guid).await?;
    let body = Body::parse(&bytes, "SecurityGroupInvalid")?;
    let mut update = crate::cc::model::sql::Assignments::default();
    let name = body.set_text(&mut update, "name")?;
    if let Some(rules) = rules(&body)? {
        update.set("rules", SqlValue::Text(Some(rules)));
    }
    update
        .save(&cc.db, "security_groups", &guid, "SecurityGroupNameTaken", name.as_deref().unwrap_or_default())
        .await?;
    created(&SECURITY_GROUPS, &cc, &guid).await
}

pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    require(user.user.admin)?;
    security_groups::delete(&cc, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether a v2 path's bindings are for running (`spaces`) or staging.
fn running(kind: &str) -> ApiResult<bool> {
    match kind {
        "spaces" => Ok(true),
        "staging_spaces" => Ok(false),
        _ => Err(ApiError::new("NotFound", &[])),
    }
}

/// `PUT /v2/security_groups/:guid/{spaces,staging_spaces}/:space` (and
/// `/v2/spaces/:space/{security_groups,staging_security_groups}/:guid`).
pub async fn bind_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((group, kind, space)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    require(user.user.admin)?;
    security_groups::bind(&cc, &group, &space, running(&kind)?, true).await?;
    created(&SECURITY_GROUPS, &cc, &group).await
}

pub async fn unbind_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((group, kind, space)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    require(user.user.admin)?;
    security_groups::bind(&cc, &group, &space, running(&kind)?, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn default_column(kind: &str) -> ApiResult<&'static str> {
    match kind {
        "running_security_groups" => Ok("running_default"),
        "staging_security_groups" => Ok("staging_default"),
        _ => Err(ApiError::new("NotFound", &[])),
    }
}

/// `GET /v2/config/{running,staging}_security_groups`.
pub async fn defaults(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(kind): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let column = default_column(&kind)?;
    let params = ListParams::parse(query.as_deref())?;
    let base = format!("/v2/config/{kind}");
    let only_defaults = Condition::raw(&format!("{column} = TRUE"), &[]);
    SECURITY_GROUPS.list(&cc.db, &user.user, &params, vec![only_defaults], &base).await.map(Json)
}

/// `PUT` / `DELETE /v2/config/{running,staging}_security_groups/:guid`.
async fn set_default(cc: &Cc, user: &CurrentUser, kind: &str, guid: &str, on: bool) -> ApiResult<()> {
    require(user.user.admin)?;
    let running = default_column(kind)? == "running_default";
    security_groups::set_default(cc, guid, running, on).await
}

pub async fn add_default(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((kind, guid)): Path<(String, String)>,
) -> ApiResult<Response> {
    set_default(&cc, &user, &kind, &guid, true).await?;
    let value = SECURITY_GROUPS.get(&cc.db, &guid).await?;
    Ok(axum::response::IntoResponse::into_response((StatusCode::OK, Json(value))))
}

pub async fn remove_default(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((kind, guid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    set_default(&cc, &user, &kind, &guid, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
