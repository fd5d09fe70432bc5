//! v3's orgs, spaces and roles beyond reading: `cf create-org` (which
//! also makes its creator the org's manager by `POST /v3/roles`),
//! `cf create-space`, `cf rename-org/space`, `cf delete-org/space` (a
//! job, deleting what they hold), `cf set-org-role`/`set-space-role` and
//! `cf unset-…`. The changes are [`crate::cc::tenancy`]'s and
//! [`crate::cc::membership`]'s, as v2's are.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::apps::accepted_job;
use super::body::{Body, invalid};
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::Record;
use crate::cc::model::job::Job;
use crate::cc::model::role::{self, Role, RoleIn};
use crate::cc::model::sql::{Assignments, Condition, SqlValue};
use crate::cc::model::{USERS, metadata};
use crate::cc::permissions::{is_org_manager, is_space_manager, require};
use crate::cc::v3::SECURITY_GROUPS;
use crate::cc::v3::organization::ORGANIZATIONS;
use crate::cc::v3::role::ROLES;
use crate::cc::v3::space::SPACES;
use crate::cc::{Cc, membership, tenancy};

/// `POST /v3/organizations` (admins).
pub async fn create_org(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["name", "suspended", "metadata"])?;
    let name =
        body.string("name", "Name")?.filter(|n| !n.trim().is_empty()).ok_or_else(|| invalid("Name can't be blank"))?;
    let guid = tenancy::create_org(&cc, &user, &name, "active", None, json!({"name": name}))
        .await
        .map_err(|e| taken(e, &format!("Organization '{name}' already exists.")))?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::CREATED, Json(ORGANIZATIONS.show(&cc, &user.user, &guid, None).await?)))
}

/// `POST /v3/spaces` (org managers).
pub async fn create_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["name", "relationships", "metadata"])?;
    let name =
        body.string("name", "Name")?.filter(|n| !n.trim().is_empty()).ok_or_else(|| invalid("Name can't be blank"))?;
    let org = body
        .string("relationships/organization/data/guid", "Organization guid")?
        .ok_or_else(|| invalid("Relationships organization can't be blank"))?;
    let guid = tenancy::create_space(&cc, &user, &name, &org, json!({"name": name})).await.map_err(|e| {
        match e.name.as_str() {
            "InvalidRelation" => {
                invalid("Invalid organization. Ensure the organization exists and you have access to it.")
            }
            _ => taken(e, &format!("Space '{name}' already exists.")),
        }
    })?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::CREATED, Json(SPACES.show(&cc, &user.user, &guid, None).await?)))
}

/// A name another row has, as v3 says it.
fn taken(e: ApiError, detail: &str) -> ApiError {
    if e.name.ends_with("NameTaken") { invalid(detail) } else { e }
}

/// `PATCH /v3/organizations/:guid` (org managers): name, metadata.
pub async fn rename_org(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    rename(&cc, &user, "organizations", &guid, &bytes).await
}

/// `PATCH /v3/spaces/:guid` (space managers): name, metadata.
pub async fn rename_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    rename(&cc, &user, "spaces", &guid, &bytes).await
}

async fn rename(cc: &Cc, user: &CurrentUser, kind: &str, guid: &str, bytes: &[u8]) -> ApiResult<Json<Value>> {
    let (resource, table, taken_name, allowed) = match kind {
        "organizations" => {
            (&ORGANIZATIONS, "organizations", "OrganizationNameTaken", is_org_manager(&cc.db, &user.user, guid).await?)
        }
        _ => (&SPACES, "spaces", "SpaceNameTaken", is_space_manager(&cc.db, &user.user, guid).await?),
    };
    resource.find_for(cc, &user.user, guid).await?;
    require(allowed)?;
    let body = Body::parse(bytes, &["name", "suspended", "metadata"])?;
    if let Some(name) = body.string("name", "Name")? {
        if name.trim().is_empty() {
            return Err(invalid("Name can't be blank"));
        }
        let mut update = Assignments::default();
        update.set("name", SqlValue::Text(Some(name.clone())));
        update
            .save(&cc.db, table, guid, taken_name, &name)
            .await
            .map_err(|e| taken(e, &format!("Name '{name}' is already taken.")))?;
    }
    metadata::update(&cc.db, guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok(Json(resource.show(cc, &user.user, guid, None).await?))
}

/// `DELETE /v3/organizations/:guid`: 202 with the job that deleted it and all in it.
pub async fn delete_org(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    delete(&cc, &user, "organizations", &guid).await
}

/// `DELETE /v3/spaces/:guid`: 202 with the job that deleted it and all in it.
pub async fn delete_space(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    delete(&cc, &user, "spaces", &guid).await
}

async fn delete(cc: &Cc, user: &CurrentUser, kind: &str, guid: &str) -> ApiResult<Response> {
    let operation = if kind == "organizations" { "organization.delete" } else { "space.delete" };
    let job = Job::create(&cc.db, &cc.id, operation).await?;
    let deleted = if kind == "organizations" {
        tenancy::delete_org(cc, user, guid, true).await
    } else {
        tenancy::delete_space(cc, user, guid, true).await
    };
    if let Err(e) = &deleted
        && e.status.is_client_error()
    {
        Job::finish(&cc.db, &job, None).await;
        return Err(e.clone());
    }
    Job::finish(&cc.db, &job, deleted.err()).await;
    Ok(accepted_job(cc, &job))
}

/// `POST /v3/roles` `{"type": "space_developer", "relationships": {"user":
/// {"data": {"guid"|"username"}}, "space"|"organization": {"data": {"guid"}}}}`.
pub async fn create_role(
    State(cc): State<Cc>,
    user: CurrentUser,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["type", "relationships"])?;
    let kind = body.string("type", "Type")?.unwrap_or_default();
    let (in_space, relation) = role::relation(&kind)
        .ok_or_else(|| invalid(&format!("Type must be one of the allowed types, not '{kind}'")))?;
    let member = user_named(&cc, &body, "relationships/user/data/")
        .await?
        .ok_or_else(|| invalid("Relationships user can't be blank"))?;
    USERS
        .find(&cc.db, &member)
        .await
        .map_err(|_| invalid("Invalid user. Ensure that the user exists and you have access to it."))?;
    let guid = if in_space {
        let space = body
            .string("relationships/space/data/guid", "Space guid")?
            .ok_or_else(|| invalid("Relationships space can't be blank"))?;
        membership::add_space_role(&cc, &user, &space, relation, &member).await.map_err(|e| match e.name.as_str() {
            "InvalidRelation" => invalid(
                "Users cannot be assigned roles in a space unless they have a role in that space's organization.",
            ),
            "SpaceNotFound" => invalid("Invalid space. Ensure that the space exists and you have access to it."),
            _ => e,
        })?
    } else {
        let org = body
            .string("relationships/organization/data/guid", "Organization guid")?
            .ok_or_else(|| invalid("Relationships organization can't be blank"))?;
        membership::add_org_role(&cc, &user, &org, relation, &member).await.map_err(|e| match e.name.as_str() {
            "OrganizationNotFound" => {
                invalid("Invalid organization. Ensure that the organization exists and you have access to it.")
            }
            _ => e,
        })?
    };
    Ok((StatusCode::CREATED, Json(ROLES.show(&cc, &user.user, &guid, None).await?)))
}

/// `DELETE /v3/roles/:guid`: 202 with its job.
pub async fn delete_role(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    let role = Role::find_for(&cc.db, &guid, &user.user).await?;
    let (held_in, relation) = role.held().ok_or_else(ApiError::server_error)?;
    let job = Job::create(&cc.db, &cc.id, "role.delete").await?;
    match held_in {
        RoleIn::Space(space) => membership::remove_space_role(&cc, &user, space, relation, &role.user_guid).await?,
        RoleIn::Org(org) => membership::remove_org_role(&cc, &user, org, relation, &role.user_guid).await?,
    }
    Job::finish(&cc.db, &job, None).await;
    Ok(accepted_job(&cc, &job))
}

/// `GET /v3/spaces/:guid/features[/ssh]`: instances here have no shell.
pub async fn space_features(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<Json<Value>> {
    SPACES.find_for(&cc, &user.user, &guid).await?;
    Ok(Json(json!({"name": "ssh", "description": "Enable SSHing into apps in the space.", "enabled": false})))
}

/// `POST /v3/users` `{"guid": …}` (admins): the CC's record of a user UAA
/// has — one and the same here, so the user must exist.
pub async fn create_user(
    State(cc): State<Cc>,
    user: CurrentUser,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    user.require_admin()?;
    let body = Body::parse(&bytes, &["guid", "username", "origin", "metadata"])?;
    let guid = user_named(&cc, &body, "").await?.ok_or_else(|| invalid("Guid can't be blank"))?;
    USERS.find(&cc.db, &guid).await.map_err(|_| invalid(&format!("No user in UAA has the guid '{guid}'.")))?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::CREATED, Json(crate::cc::v3::user::USERS.show(&cc, &user.user, &guid, None).await?)))
}

/// `DELETE /v3/users/:guid` (admins): the user loses every role; 202 with its job.
pub async fn delete_user(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    membership::forget_user(&cc, &user, &guid).await?;
    let job = Job::create(&cc.db, &cc.id, "user.delete").await?;
    Job::finish(&cc.db, &job, None).await;
    Ok(accepted_job(&cc, &job))
}

/// The user a body names at `prefix` by `guid` or `username`, if it names one.
async fn user_named(cc: &Cc, body: &Body, prefix: &str) -> ApiResult<Option<String>> {
    if let Some(guid) = body.string(&format!("{prefix}guid"), "User guid")? {
        return Ok(Some(guid));
    }
    let Some(name) = body.string(&format!("{prefix}username"), "Username")? else { return Ok(None) };
    let found = crate::cc::model::user::guid_named(&cc.db, &name).await;
    found.map(Some).map_err(|_| invalid(&format!("No user exists with the username '{name}' and origin 'uaa'.")))
}

/// `GET /v3/spaces/:guid/{running,staging}_security_groups`: the groups
/// that apply to the space's instances (or stagings) — bound to it, or
/// enabled for every space.
pub async fn space_security_groups(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((space, lifecycle)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    SPACES.find_for(&cc, &user.user, &space).await?;
    let (table, default) = match lifecycle.as_str() {
        "running_security_groups" => ("security_group_spaces", "running_default"),
        "staging_security_groups" => ("staging_security_group_spaces", "staging_default"),
        _ => return Err(ApiError::not_found()),
    };
    let applies = Condition::raw(
        &format!("(guid IN (SELECT security_group_guid FROM {table} WHERE space_guid = ?) OR {default} = TRUE)"),
        &[&space],
    );
    let path = format!("/v3/spaces/{space}/{lifecycle}");
    Ok(Json(SECURITY_GROUPS.list(&cc, &user.user, query.as_deref(), vec![applies], &path).await?))
}
