//! Users as the CC knows them (the UAA part — passwords, tokens — is in
//! [`crate::cc::auth`]) and the orgs and spaces they belong to. A user sees
//! themselves and the members of the orgs they see.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::body::Body;
use super::collection::created;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::USERS;
use crate::cc::permissions::require;
use crate::cc::{Cc, membership};

/// `POST /v2/users` `{guid}` (admins): the CC record of a user UAA made.
/// Users live in one table here, so this confirms the user exists.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "UserInvalid")?;
    let guid = body.required_string("guid")?;
    USERS.find(&cc.db, &guid).await?;
    created(&USERS, &cc, &guid).await
}

/// `DELETE /v2/users/:guid` (admins): the user loses every role (`cf
/// delete-user` then deletes the login from UAA).
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    membership::forget_user(&cc, &user, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}
