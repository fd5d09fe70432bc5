//! Security groups: `/v2/security_groups` — named lists of egress rules
//! (protocol, destination, ports) that say where apps may connect. A group
//! applies to the apps of the spaces it is bound to (`…/spaces/:space` for
//! running, `…/staging_spaces/:space` for staging) and, as a platform
//! default (`/v2/config/running_security_groups/:guid`,
//! `/v2/config/staging_security_groups/:guid`), to every app. Admins
//! manage them; others see the groups bound to spaces they see. The DEA applies the rules to every socket ([`rules_for`]
//! feeds `dea.start`'s `egress_network_rules`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::body::Body;
use super::collection::created;
use super::spaces::SPACES;
use crate::bus::messages::EgressRule;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::permissions::{Visibility, require};
use crate::cc::query::{Condition, ListParams, SqlValue};
use crate::cc::resource::{Kind, Kind::*, Resource, field, to_many};
use crate::cc::{Cc, new_guid, now};

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
pub async fn rules_for(cc: &Cc, space: &str, staging: bool) -> ApiResult<Vec<EgressRule>> {
    let (bindings, default) = if staging {
        ("staging_security_group_spaces", "staging_default")
    } else {
        ("security_group_spaces", "running_default")
    };
    let sql = format!(
        "SELECT rules FROM security_groups WHERE {default} = TRUE \
         OR guid IN (SELECT security_group_guid FROM {bindings} WHERE space_guid = $1) ORDER BY id"
    );
    let groups: Vec<String> = sqlx::query_scalar(&sql).bind(space).fetch_all(&cc.db).await?;
    // Rules were checked when stored; one that no longer parses allows nothing.
    Ok(groups.iter().flat_map(|rules| serde_json::from_str::<Vec<EgressRule>>(rules).unwrap_or_default()).collect())
}

/// The `rules` of a request, checked as CF checks them; stored as given.
fn rules(body: &Body) -> ApiResult<Option<String>> {
    let Some(value) = body.value("rules") else { return Ok(None) };
    let Value::Array(items) = value else { return Err(body.invalid("rules must be an array")) };
    for (index, item) in items.iter().enumerate() {
        let rule: EgressRule = serde_json::from_value(item.clone())
            .map_err(|e| body.invalid(&format!("rule number {} is invalid: {e}", index + 1)))?;
        if let Some(problem) = rule.problem() {
            return Err(body.invalid(&format!("rule number {}: {problem}", index + 1)));
        }
    }
    Ok(Some(value.to_string()))
}

pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "SecurityGroupInvalid")?;
    let name = body.required_string("name")?;
    let rules = rules(&body)?.unwrap_or_else(|| "[]".into());
    let guid = new_guid();
    sqlx::query("INSERT INTO security_groups (guid, name, rules, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&guid)
        .bind(&name)
        .bind(&rules)
        .bind(now())
        .execute(&cc.db)
        .await
        .map_err(|e| taken_or(e, "SecurityGroupNameTaken", &name))?;
    for space in body.strings("space_guids")?.unwrap_or_default() {
        bind(&cc, &user, &guid, &space, "security_group_spaces", true).await?;
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
    let mut update = crate::cc::query::Assignments::default();
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
    SECURITY_GROUPS.find(&cc.db, &guid).await?;
    for bindings in ["security_group_spaces", "staging_security_group_spaces"] {
        sqlx::query(&format!("DELETE FROM {bindings} WHERE security_group_guid = $1"))
            .bind(&guid)
            .execute(&cc.db)
            .await?;
    }
    sqlx::query("DELETE FROM security_groups WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Binds (or unbinds) a group and a space in `bindings`.
async fn bind(cc: &Cc, user: &CurrentUser, group: &str, space: &str, bindings: &str, on: bool) -> ApiResult<()> {
    require(user.user.admin)?;
    SECURITY_GROUPS.find(&cc.db, group).await?;
    SPACES.find(&cc.db, space).await?;
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

fn bindings_table(kind: &str) -> ApiResult<&'static str> {
    match kind {
        "spaces" => Ok("security_group_spaces"),
        "staging_spaces" => Ok("staging_security_group_spaces"),
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
    bind(&cc, &user, &group, &space, bindings_table(&kind)?, true).await?;
    created(&SECURITY_GROUPS, &cc, &group).await
}

pub async fn unbind_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((group, kind, space)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    bind(&cc, &user, &group, &space, bindings_table(&kind)?, false).await?;
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
    let column = default_column(kind)?;
    SECURITY_GROUPS.find(&cc.db, guid).await.map_err(|_| {
        let invalid = if column == "running_default" {
            "SecurityGroupRunningDefaultInvalid"
        } else {
            "SecurityGroupStagingDefaultInvalid"
        };
        ApiError::new(invalid, &[guid])
    })?;
    sqlx::query(&format!("UPDATE security_groups SET {column} = $1, updated_at = $2 WHERE guid = $3"))
        .bind(on)
        .bind(now())
        .bind(guid)
        .execute(&cc.db)
        .await?;
    Ok(())
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
