//! Who belongs to an org or a space, and as what — whichever API version
//! asks (v2's `PUT /v2/organizations/:guid/managers/:user`…, v3's
//! `/v3/roles`): org managers change an org's roles, space managers a
//! space's; a space role takes membership of the space's org first, and
//! leaving an org leaves its spaces too. Each role is a row with its own
//! guid (v3's role guid).

use super::Cc;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult};
use super::model::role::{self, RoleIn};
use super::model::space::Space;
use super::model::{ORGANIZATIONS, Record, USERS};
use super::permissions::{is_org_manager, is_space_manager, require};

pub const ORG_ROLES: [&str; 4] = ["users", "managers", "billing_managers", "auditors"];
pub const SPACE_ROLES: [&str; 3] = ["developers", "managers", "auditors"];

/// Gives `member` the org role (v2's relation name); the role's guid (an
/// existing one's if they have it).
pub async fn add_org_role(cc: &Cc, user: &CurrentUser, org: &str, role: &str, member: &str) -> ApiResult<String> {
    check_org(cc, user, org, role, member).await?;
    RoleIn::Org(org).grant(&cc.db, role, member).await
}

pub async fn remove_org_role(cc: &Cc, user: &CurrentUser, org: &str, role: &str, member: &str) -> ApiResult<()> {
    check_org(cc, user, org, role, member).await?;
    RoleIn::Org(org).revoke(&cc.db, role, member).await
}

async fn check_org(cc: &Cc, user: &CurrentUser, org: &str, role: &str, member: &str) -> ApiResult<()> {
    if !ORG_ROLES.contains(&role) {
        return Err(ApiError::not_found());
    }
    ORGANIZATIONS.find_for(&cc.db, org, &user.user).await?;
    require(is_org_manager(&cc.db, &user.user, org).await?)?;
    USERS.find(&cc.db, member).await?;
    Ok(())
}

/// Gives `member` (a member of the space's org) the space role; its guid.
pub async fn add_space_role(cc: &Cc, user: &CurrentUser, space: &str, role: &str, member: &str) -> ApiResult<String> {
    let org = check_space(cc, user, space, role, member).await?;
    if !role::is_org_member(&cc.db, &org, member).await? {
        return Err(ApiError::new("InvalidRelation", &["The user must be a member of the space's organization first"]));
    }
    RoleIn::Space(space).grant(&cc.db, role, member).await
}

pub async fn remove_space_role(cc: &Cc, user: &CurrentUser, space: &str, role: &str, member: &str) -> ApiResult<()> {
    check_space(cc, user, space, role, member).await?;
    RoleIn::Space(space).revoke(&cc.db, role, member).await
}

/// Checks a space role change; the space's org.
async fn check_space(cc: &Cc, user: &CurrentUser, space: &str, role: &str, member: &str) -> ApiResult<String> {
    if !SPACE_ROLES.contains(&role) {
        return Err(ApiError::not_found());
    }
    let found = Space::find_for(&cc.db, space, &user.user).await?;
    require(is_space_manager(&cc.db, &user.user, space).await?)?;
    USERS.find(&cc.db, member).await?;
    Ok(found.organization_guid)
}

/// Deletes a user's login (UAA's `DELETE /Users/:id`), roles and labels;
/// their name, or None when there is no such user.
pub async fn delete_login(cc: &Cc, user: &CurrentUser, member: &str) -> ApiResult<Option<String>> {
    let Some(name) = super::model::user::username_of(&cc.db, member).await? else { return Ok(None) };
    forget_user(cc, user, member).await?;
    USERS.delete(&cc.db, member).await?; // its roles went first
    super::model::metadata::forget(&cc.db, member).await?;
    Ok(Some(name))
}

/// Takes every role from a user (deleting the user from the CC; the login
/// itself is UAA's to delete).
pub async fn forget_user(cc: &Cc, user: &CurrentUser, member: &str) -> ApiResult<()> {
    require(user.user.admin)?;
    USERS.find(&cc.db, member).await?;
    role::revoke_all(&cc.db, member).await
}
