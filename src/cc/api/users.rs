//! Users as the CC knows them (the UAA part — passwords, tokens — is in
//! [`crate::cc::auth`]) and the orgs and spaces they belong to. A user sees
//! themselves and the members of the orgs they see.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;

use super::body::Body;
use super::collection::created;
use super::organizations::ORGANIZATIONS;
use super::spaces::SPACES;
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::permissions::{Visibility, require};
use crate::cc::resource::{Kind::*, Resource, field, to_many};

pub static USERS: Resource = Resource {
    table: "users",
    path: "/v2/users",
    fields: &[
        field("admin", Bool),
        field("active", Bool),
        field("default_space_guid", Const("null")),
        field("username", Text),
    ],
    to_one: &[],
    to_many: &[
        to_many(
            "spaces",
            &SPACES,
            "guid IN (SELECT space_guid FROM space_roles WHERE user_guid = ? AND role = 'developers')",
        ),
        to_many(
            "organizations",
            &ORGANIZATIONS,
            "guid IN (SELECT organization_guid FROM organization_roles WHERE user_guid = ? AND role = 'users')",
        ),
        to_many(
            "managed_organizations",
            &ORGANIZATIONS,
            "guid IN (SELECT organization_guid FROM organization_roles WHERE user_guid = ? AND role = 'managers')",
        ),
        to_many(
            "billing_managed_organizations",
            &ORGANIZATIONS,
            "guid IN (SELECT organization_guid FROM organization_roles WHERE user_guid = ? AND role = 'billing_managers')",
        ),
        to_many(
            "audited_organizations",
            &ORGANIZATIONS,
            "guid IN (SELECT organization_guid FROM organization_roles WHERE user_guid = ? AND role = 'auditors')",
        ),
        to_many(
            "managed_spaces",
            &SPACES,
            "guid IN (SELECT space_guid FROM space_roles WHERE user_guid = ? AND role = 'managers')",
        ),
        to_many(
            "audited_spaces",
            &SPACES,
            "guid IN (SELECT space_guid FROM space_roles WHERE user_guid = ? AND role = 'auditors')",
        ),
    ],
    not_found: "UserNotFound",
    filters: &["username"],
    scope: None,
    visibility: Visibility::Colleagues,
};

/// `POST /v2/users` `{guid}` (admins): the CC record of a user UAA made.
/// Users live in one table here, so this confirms the user exists.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "UserInvalid")?;
    let guid = body.required_string("guid")?;
    USERS.find(&cc.db, &guid).await?;
    created(&USERS, &cc, &guid).await
}
