//! Giving and taking roles: `PUT`/`DELETE /v2/organizations/:org/<role>/:user`
//! (users, managers, billing_managers, auditors) and
//! `/v2/spaces/:space/<role>/:user` (developers, managers, auditors) — or
//! `PUT …/<role>` with `{"username": …}` as the cf CLI sends it. Org
//! managers manage org roles; org managers and space managers manage space
//! roles; a space role needs the user to be in the space's org.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::body::Body;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::{ORGANIZATIONS, SPACES, USERS};
use crate::cc::{Cc, membership};

async fn user_by_name(cc: &Cc, body: &[u8]) -> ApiResult<String> {
    let body = Body::parse(body, "InvalidRequest")?;
    let username = body.required_string("username")?;
    crate::cc::model::user::guid_named(&cc.db, &username).await
}

async fn set_org_role(
    cc: &Cc,
    user: &CurrentUser,
    org: &str,
    role: &str,
    member: &str,
    add: bool,
) -> ApiResult<Response> {
    if add {
        membership::add_org_role(cc, user, org, role, member).await?;
        Ok((StatusCode::CREATED, Json(ORGANIZATIONS.get(&cc.db, org).await?)).into_response())
    } else {
        membership::remove_org_role(cc, user, org, role, member).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}

async fn set_space_role(
    cc: &Cc,
    user: &CurrentUser,
    space: &str,
    role: &str,
    member: &str,
    add: bool,
) -> ApiResult<Response> {
    if add {
        membership::add_space_role(cc, user, space, role, member).await?;
        Ok((StatusCode::CREATED, Json(SPACES.get(&cc.db, space).await?)).into_response())
    } else {
        membership::remove_space_role(cc, user, space, role, member).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}

pub async fn add_org_role(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((org, role, member)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    set_org_role(&cc, &user, &org, &role, &member, true).await
}

pub async fn remove_org_role(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((org, role, member)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    set_org_role(&cc, &user, &org, &role, &member, false).await
}

/// `PUT /v2/organizations/:org/<role>` `{"username": …}`; the role is part of the route.
pub async fn add_org_role_by_name(
    cc: Cc,
    user: CurrentUser,
    org: String,
    role: &str,
    body: Bytes,
) -> ApiResult<Response> {
    let member = user_by_name(&cc, &body).await?;
    set_org_role(&cc, &user, &org, role, &member, true).await
}

pub async fn add_space_role(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((space, role, member)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    set_space_role(&cc, &user, &space, &role, &member, true).await
}

pub async fn remove_space_role(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((space, role, member)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    set_space_role(&cc, &user, &space, &role, &member, false).await
}

/// `PUT /v2/spaces/:space/<role>` `{"username": …}`; the role is part of the route.
pub async fn add_space_role_by_name(
    cc: Cc,
    user: CurrentUser,
    space: String,
    role: &str,
    body: Bytes,
) -> ApiResult<Response> {
    let member = user_by_name(&cc, &body).await?;
    set_space_role(&cc, &user, &space, role, &member, true).await
}

/// The user-side names of the role relations: `/v2/users/:user/<relation>/:target`.
fn user_relation(relation: &str) -> Option<(bool, &'static str)> {
    Some(match relation {
        "organizations" => (true, "users"),
        "managed_organizations" => (true, "managers"),
        "billing_managed_organizations" => (true, "billing_managers"),
        "audited_organizations" => (true, "auditors"),
        "spaces" => (false, "developers"),
        "managed_spaces" => (false, "managers"),
        "audited_spaces" => (false, "auditors"),
        _ => return None,
    })
}

async fn set_from_user_side(
    cc: &Cc,
    user: &CurrentUser,
    member: &str,
    relation: &str,
    target: &str,
    add: bool,
) -> ApiResult<Response> {
    let (is_org, role) = user_relation(relation).ok_or_else(ApiError::not_found)?;
    let response = if is_org {
        set_org_role(cc, user, target, role, member, add).await?
    } else {
        set_space_role(cc, user, target, role, member, add).await?
    };
    if add {
        return Ok((StatusCode::CREATED, Json(USERS.get(&cc.db, member).await?)).into_response());
    }
    Ok(response)
}

/// `PUT /v2/users/:user/<relation>/:target`, e.g. `…/managed_spaces/:space`.
pub async fn add_from_user(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((member, relation, target)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    set_from_user_side(&cc, &user, &member, &relation, &target, true).await
}

pub async fn remove_from_user(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((member, relation, target)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    set_from_user_side(&cc, &user, &member, &relation, &target, false).await
}
