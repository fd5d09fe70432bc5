//! Users, as the CC knows them (their logins are the UAA's).

use sqlx::AnyPool;

use super::resource::{Kind::*, Resource, field, text_column, to_many};
use super::{ORGANIZATIONS, SPACES};
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::permissions::Visibility;

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

/// A login as UAA lists it: the user's guid and name.
pub struct Login {
    pub guid: String,
    pub username: String,
}

/// Every login, or the one named `username`, oldest first.
pub async fn logins(db: &AnyPool, username: Option<&str>) -> ApiResult<Vec<Login>> {
    let rows = match username {
        Some(name) => {
            sqlx::query("SELECT guid, username FROM users WHERE username = $1").bind(name).fetch_all(db).await?
        }
        None => sqlx::query("SELECT guid, username FROM users ORDER BY id").fetch_all(db).await?,
    };
    Ok(rows
        .iter()
        .map(|row| Login {
            guid: text_column(row, "guid").unwrap_or_default(),
            username: text_column(row, "username").unwrap_or_default(),
        })
        .collect())
}

/// The guid of the user called `username`, or UserNotFound.
pub async fn guid_named(db: &AnyPool, username: &str) -> ApiResult<String> {
    guid_of_name(db, username).await?.ok_or_else(|| ApiError::new("UserNotFound", &[username]))
}

/// The guid of the user called `username`, if there is one.
pub async fn guid_of_name(db: &AnyPool, username: &str) -> ApiResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT guid FROM users WHERE username = $1").bind(username).fetch_optional(db).await?)
}

/// The user's name, if there is such a user.
pub async fn username_of(db: &AnyPool, guid: &str) -> ApiResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT username FROM users WHERE guid = $1").bind(guid).fetch_optional(db).await?)
}
