//! Who may see and change what, as CF v2 scopes it.
//!
//! Admins (scope `cloud_controller.admin`) see and change everything.
//! Anyone else sees an org they have any role in (or a space in), a space
//! they have a role in (or manage its org), and what lives in the spaces
//! they see. Changing apps and routes takes a space developer; changing a
//! space or its roles an org manager or space manager; changing an org or
//! its roles an org manager. What a user cannot see is NotFound (404), what
//! they see but may not change is NotAuthorized (403).

use sqlx::AnyPool;

use super::auth::User;
use super::error::{ApiError, ApiResult};
use super::model::sql::Condition;

/// Which rows of a resource a user may see.
#[derive(Debug, Clone, Copy)]
pub enum Visibility {
    /// Everyone signed in (stacks, shared domains, buildpacks).
    Everyone,
    /// Rows whose space (this SQL expression) the user can see.
    InSpace(&'static str),
    /// Rows whose organization (this SQL expression) the user can see.
    InOrg(&'static str),
    /// Users: yourself, and the members of the orgs you see.
    Colleagues,
    /// Rows bound to a space the user sees, through these binding tables
    /// (table, column holding this row's guid) — e.g. security groups.
    BoundToSpaces(&'static [(&'static str, &'static str)]),
    /// Rows of a space the user sees, or bound to one — e.g. a route and
    /// the spaces it is shared with.
    InSpaceOrBound(&'static str, &'static [(&'static str, &'static str)]),
    /// The marketplace: service plans the user may use — public ones and
    /// those made visible to one of their orgs, of platform-wide brokers,
    /// and every plan of a broker scoped to a space they see — or, for
    /// `Services`, the services with such a plan.
    UsablePlans,
    Services,
}

/// Rows of the space `expr` names, if given, or bound through one of
/// `bindings` to a space the user sees.
fn bound_to_spaces(expr: Option<&str>, bindings: &[(&str, &str)], me: &str) -> Option<Condition> {
    let own = expr.map(|expr| format!("{expr} IN ({VISIBLE_SPACES})"));
    let any: Vec<String> = own
        .into_iter()
        .chain(bindings.iter().map(|(table, column)| {
            format!("guid IN (SELECT {column} FROM {table} WHERE space_guid IN ({VISIBLE_SPACES}))")
        }))
        .collect();
    let binds: Vec<&str> = any.iter().flat_map(|_| [me, me]).collect();
    Some(Condition::raw(&format!("({})", any.join(" OR ")), &binds))
}

/// Plans a user may use: two `?` per user guid for the orgs, two for the spaces.
const USABLE_PLANS: &str = "SELECT p.guid FROM service_plans p JOIN services s ON s.guid = p.service_guid \
     JOIN service_brokers b ON b.guid = s.service_broker_guid \
     WHERE (b.space_guid IS NULL AND (p.public = TRUE OR p.guid IN (SELECT service_plan_guid FROM \
     service_plan_visibilities WHERE organization_guid IN (VISIBLE_ORGS)))) OR b.space_guid IN (VISIBLE_SPACES)";

/// Spaces a user sees: one `?` per user guid.
const VISIBLE_SPACES: &str = "SELECT space_guid FROM space_roles WHERE user_guid = ? \
     UNION SELECT s.guid FROM spaces s JOIN organization_roles r ON r.organization_guid = s.organization_guid \
     WHERE r.user_guid = ? AND r.role = 'managers'";

const VISIBLE_ORGS: &str = "SELECT organization_guid FROM organization_roles WHERE user_guid = ? \
     UNION SELECT s.organization_guid FROM spaces s JOIN space_roles r ON r.space_guid = s.guid WHERE r.user_guid = ?";

impl Visibility {
    /// The condition limiting rows to what `user` sees (None for admins).
    pub fn condition(self, user: &User) -> Option<Condition> {
        if user.admin {
            return None;
        }
        let me = user.guid.as_str();
        match self {
            Visibility::Everyone => None,
            Visibility::InSpace(expr) => Some(Condition::raw(&format!("{expr} IN ({VISIBLE_SPACES})"), &[me, me])),
            Visibility::InOrg(expr) => Some(Condition::raw(&format!("{expr} IN ({VISIBLE_ORGS})"), &[me, me])),
            Visibility::BoundToSpaces(bindings) => bound_to_spaces(None, bindings, me),
            Visibility::InSpaceOrBound(expr, bindings) => bound_to_spaces(Some(expr), bindings, me),
            Visibility::UsablePlans | Visibility::Services => {
                let plans =
                    USABLE_PLANS.replace("VISIBLE_ORGS", VISIBLE_ORGS).replace("VISIBLE_SPACES", VISIBLE_SPACES);
                let sql = if matches!(self, Visibility::Services) {
                    format!("guid IN (SELECT service_guid FROM service_plans WHERE guid IN ({plans}))")
                } else {
                    format!("guid IN ({plans})")
                };
                Some(Condition::raw(&sql, &[me, me, me, me]))
            }
            Visibility::Colleagues => Some(Condition::raw(
                &format!(
                    "(guid = ? OR guid IN (SELECT user_guid FROM organization_roles WHERE organization_guid IN ({VISIBLE_ORGS})))"
                ),
                &[me, me, me],
            )),
        }
    }
}

async fn has_role(db: &AnyPool, sql: &str, binds: &[&str]) -> ApiResult<bool> {
    let mut query = sqlx::query_scalar::<_, i64>(sql);
    for b in binds {
        query = query.bind(b.to_string());
    }
    Ok(query.fetch_one(db).await? > 0)
}

pub async fn is_space_developer(db: &AnyPool, user: &User, space: &str) -> ApiResult<bool> {
    if user.admin {
        return Ok(true);
    }
    has_role(
        db,
        "SELECT COUNT(*) FROM space_roles WHERE space_guid = $1 AND user_guid = $2 AND role = 'developers'",
        &[space, &user.guid],
    )
    .await
}

pub async fn is_org_manager(db: &AnyPool, user: &User, org: &str) -> ApiResult<bool> {
    if user.admin {
        return Ok(true);
    }
    has_role(
        db,
        "SELECT COUNT(*) FROM organization_roles WHERE organization_guid = $1 AND user_guid = $2 AND role = 'managers'",
        &[org, &user.guid],
    )
    .await
}

/// Org manager of the space's org, or manager of the space.
pub async fn is_space_manager(db: &AnyPool, user: &User, space: &str) -> ApiResult<bool> {
    if user.admin {
        return Ok(true);
    }
    let sql = "SELECT COUNT(*) FROM space_roles WHERE space_guid = $1 AND user_guid = $2 AND role = 'managers'";
    if has_role(db, sql, &[space, &user.guid]).await? {
        return Ok(true);
    }
    let org: Option<String> = sqlx::query_scalar("SELECT organization_guid FROM spaces WHERE guid = $1")
        .bind(space)
        .fetch_optional(db)
        .await?;
    match org {
        Some(org) => is_org_manager(db, user, &org).await,
        None => Ok(false),
    }
}

/// NotAuthorized unless `allowed`.
pub fn require(allowed: bool) -> ApiResult<()> {
    if allowed { Ok(()) } else { Err(ApiError::new("NotAuthorized", &[])) }
}

/// Whether instances of `plan` may be created in `space`: a public plan or
/// one made visible to the space's org, of a platform-wide broker, or any
/// plan of a broker scoped to this space.
pub async fn plan_usable_in_space(db: &AnyPool, plan: &str, space: &str) -> ApiResult<bool> {
    has_role(
        db,
        "SELECT COUNT(*) FROM service_plans p JOIN services s ON s.guid = p.service_guid \
         JOIN service_brokers b ON b.guid = s.service_broker_guid JOIN spaces sp ON sp.guid = $1 \
         WHERE p.guid = $2 AND ((b.space_guid IS NULL AND (p.public = TRUE OR p.guid IN (SELECT service_plan_guid \
         FROM service_plan_visibilities WHERE organization_guid = sp.organization_guid))) OR b.space_guid = sp.guid)",
        &[space, plan],
    )
    .await
}
