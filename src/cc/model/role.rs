//! Roles: who belongs to an org (user, manager, billing manager, auditor)
//! or a space (developer, manager, auditor), each kept in its own table
//! (v2's relations) and read here as one resource, as v3 lists them, with
//! its type in v3's words (`space_developer`).

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::resource::{Kind::*, Record, Resource, field, text_column};
use crate::cc::error::ApiResult;
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

/// Both role tables as one, `type` in v3's words and `organization_guid`
/// filled for space roles too; `id` orders rows made the same second.
const BOTH: &str = "(SELECT guid, created_at, created_at AS updated_at, created_at || guid AS id, user_guid, \
     organization_guid, NULL AS space_guid, 'organization_' || CASE role WHEN 'users' THEN 'user' \
     WHEN 'managers' THEN 'manager' WHEN 'billing_managers' THEN 'billing_manager' ELSE 'auditor' END AS type \
     FROM organization_roles UNION ALL \
     SELECT r.guid, r.created_at, r.created_at AS updated_at, r.created_at || r.guid AS id, r.user_guid, \
     s.organization_guid, r.space_guid, 'space_' || CASE r.role WHEN 'developers' THEN 'developer' \
     WHEN 'managers' THEN 'manager' ELSE 'auditor' END AS type \
     FROM space_roles r JOIN spaces s ON s.guid = r.space_guid) roles";

pub static ROLES: Resource = Resource {
    table: BOTH,
    path: "/v3/roles",
    fields: &[field("type", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "RoleNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InOrg("organization_guid"),
};

/// A role as v3 shows it.
#[derive(Debug, Clone)]
pub struct Role {
    pub guid: String,
    /// In v3's words: `organization_user`, `space_developer`…
    pub kind: String,
    pub user_guid: String,
    pub organization_guid: String,
    pub space_guid: Option<String>,
}

impl Record for Role {
    const RESOURCE: &'static Resource = &ROLES;

    fn from_row(row: &AnyRow) -> Role {
        let text = |column: &str| text_column(row, column);
        Role {
            guid: text("guid").unwrap_or_default(),
            kind: text("type").unwrap_or_default(),
            user_guid: text("user_guid").unwrap_or_default(),
            organization_guid: text("organization_guid").unwrap_or_default(),
            space_guid: text("space_guid"),
        }
    }
}

impl Role {
    /// Where it is held and its v2 relation name.
    pub fn held(&self) -> Option<(RoleIn<'_>, &'static str)> {
        let (in_space, name) = relation(&self.kind)?;
        match (in_space, &self.space_guid) {
            (true, Some(space)) => Some((RoleIn::Space(space), name)),
            (false, _) => Some((RoleIn::Org(&self.organization_guid), name)),
            (true, None) => None,
        }
    }
}

/// A v3 role type as (whether it is a space role, v2's relation name).
pub fn relation(kind: &str) -> Option<(bool, &'static str)> {
    Some(match kind {
        "organization_user" => (false, "users"),
        "organization_manager" => (false, "managers"),
        "organization_billing_manager" => (false, "billing_managers"),
        "organization_auditor" => (false, "auditors"),
        "space_developer" => (true, "developers"),
        "space_manager" => (true, "managers"),
        "space_auditor" => (true, "auditors"),
        _ => return None,
    })
}

/// Where a role is held.
#[derive(Debug, Clone, Copy)]
pub enum RoleIn<'a> {
    Org(&'a str),
    Space(&'a str),
}

impl RoleIn<'_> {
    /// Its role table, the column naming the org or space, and its guid.
    fn table(&self) -> (&'static str, &'static str, &str) {
        match self {
            RoleIn::Org(guid) => ("organization_roles", "organization_guid", guid),
            RoleIn::Space(guid) => ("space_roles", "space_guid", guid),
        }
    }

    /// Gives `member` the role (v2's relation name); the role's guid, an
    /// existing one's if they have it.
    pub async fn grant(&self, db: &AnyPool, role: &str, member: &str) -> ApiResult<String> {
        let (table, column, scope) = self.table();
        let existing: Option<String> = sqlx::query_scalar(&format!(
            "SELECT guid FROM {table} WHERE {column} = $1 AND user_guid = $2 AND role = $3"
        ))
        .bind(scope)
        .bind(member)
        .bind(role)
        .fetch_optional(db)
        .await?;
        if let Some(guid) = existing {
            return Ok(guid);
        }
        let guid = new_guid();
        sqlx::query(&format!(
            "INSERT INTO {table} ({column}, user_guid, role, guid, created_at) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(scope)
        .bind(member)
        .bind(role)
        .bind(&guid)
        .bind(now())
        .execute(db)
        .await?;
        Ok(guid)
    }

    /// Takes the role from `member` (not held: no change); leaving an org
    /// (its `users` role) leaves its spaces too.
    pub async fn revoke(&self, db: &AnyPool, role: &str, member: &str) -> ApiResult<()> {
        let (table, column, scope) = self.table();
        if let (RoleIn::Org(org), "users") = (self, role) {
            sqlx::query(
                "DELETE FROM space_roles WHERE user_guid = $1 AND space_guid IN \
                 (SELECT guid FROM spaces WHERE organization_guid = $2)",
            )
            .bind(member)
            .bind(org)
            .execute(db)
            .await?;
        }
        sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1 AND user_guid = $2 AND role = $3"))
            .bind(scope)
            .bind(member)
            .bind(role)
            .execute(db)
            .await?;
        Ok(())
    }
}

/// Whether `member` holds any role in the org.
pub async fn is_org_member(db: &AnyPool, org: &str, member: &str) -> ApiResult<bool> {
    let roles: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM organization_roles WHERE organization_guid = $1 AND user_guid = $2")
            .bind(org)
            .bind(member)
            .fetch_one(db)
            .await?;
    Ok(roles > 0)
}

/// Takes every role, of spaces and orgs, from `member`.
pub async fn revoke_all(db: &AnyPool, member: &str) -> ApiResult<()> {
    for table in ["space_roles", "organization_roles"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_guid = $1")).bind(member).execute(db).await?;
    }
    Ok(())
}
