//! Roles: who belongs to an org (user, manager, billing manager, auditor)
//! or a space (developer, manager, auditor), each kept in its own table
//! (v2's relations) and read here as one resource, as v3 lists them, with
//! its type in v3's words (`space_developer`).

use super::resource::{Kind::*, Resource, field};
use crate::cc::permissions::Visibility;

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
