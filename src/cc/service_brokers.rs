//! Service brokers and who may use their plans, whichever API asks:
//! registering a broker reads its catalog ([`super::osb::registration`]),
//! updating it reads the catalog again, deleting it removes what it
//! offered (not while instances of its plans exist). Admins manage brokers
//! for the platform, a space developer one scoped to their space. A plan
//! is public, visible to chosen orgs, or admins' only.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, taken_or};
use super::model::{ORGANIZATIONS, SERVICE_BROKERS, SERVICE_PLANS, SPACES};
use super::osb::registration::Registration;
use super::permissions::{is_space_developer, require};
use super::{Cc, new_guid, now};

/// Registers a broker (scoped to `space`, if given); its guid.
pub async fn register(
    cc: &Cc,
    user: &CurrentUser,
    registration: Registration,
    space: Option<String>,
) -> ApiResult<String> {
    match &space {
        Some(space) => {
            SPACES.find_for(&cc.db, space, &user.user).await?;
            require(is_space_developer(&cc.db, &user.user, space).await?)?;
        }
        None => require(user.user.admin)?,
    }
    let guid = new_guid();
    let catalog = registration.check(cc, &user.user.guid, &guid).await?;
    registration.save(cc, &guid, Some(space), &catalog).await?;
    Ok(guid)
}

/// The broker, if this user may change it: admins any, space developers
/// the brokers of their spaces.
pub async fn writable_broker(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<AnyRow> {
    let broker = SERVICE_BROKERS.find_for(&cc.db, guid, &user.user).await?;
    let space: Option<String> = broker.try_get("space_guid").ok().flatten();
    match space {
        Some(space) if !user.user.admin => require(is_space_developer(&cc.db, &user.user, &space).await?)?,
        _ => require(user.user.admin)?,
    }
    Ok(broker)
}

/// What an update changes of a broker (None: left as it is).
#[derive(Default)]
pub struct BrokerChanges {
    pub name: Option<String>,
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Changes a broker and reads its catalog again.
pub async fn update(cc: &Cc, user: &CurrentUser, guid: &str, changes: BrokerChanges) -> ApiResult<()> {
    let broker = writable_broker(cc, user, guid).await?;
    let current = |column: &str| broker.try_get::<String, _>(column).unwrap_or_default();
    let registration = Registration {
        name: changes.name.unwrap_or_else(|| current("name")),
        url: changes.url.unwrap_or_else(|| current("broker_url")),
        username: changes.username.unwrap_or_else(|| current("auth_username")),
        password: changes.password.unwrap_or_else(|| current("auth_password")),
    };
    let catalog = registration.check(cc, &user.user.guid, guid).await?;
    registration.save(cc, guid, None, &catalog).await
}

/// Deletes a broker and what it offered; not while instances of its plans exist.
pub async fn delete(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<()> {
    let broker = writable_broker(cc, user, guid).await?;
    let instances: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM service_instances i JOIN service_plans p ON p.guid = i.service_plan_guid \
         JOIN services s ON s.guid = p.service_guid WHERE s.service_broker_guid = $1",
    )
    .bind(guid)
    .fetch_one(&cc.db)
    .await?;
    if instances > 0 {
        let name: String = broker.try_get("name").unwrap_or_default();
        return Err(ApiError::new("ServiceBrokerNotRemovable", &[&name]));
    }
    // Its services and plans go with it (ON DELETE CASCADE).
    sqlx::query("DELETE FROM service_brokers WHERE guid = $1").bind(guid).execute(&cc.db).await?;
    Ok(())
}

/// Makes a plan public, or not (admins).
pub async fn set_public(cc: &Cc, plan: &str, public: bool) -> ApiResult<()> {
    SERVICE_PLANS.find(&cc.db, plan).await?;
    sqlx::query("UPDATE service_plans SET public = $1, updated_at = $2 WHERE guid = $3")
        .bind(public)
        .bind(now())
        .bind(plan)
        .execute(&cc.db)
        .await?;
    Ok(())
}

/// Makes a plan visible to an org (admins); the visibility's guid.
pub async fn show_to_org(cc: &Cc, plan: &str, org: &str) -> ApiResult<String> {
    SERVICE_PLANS.find(&cc.db, plan).await?;
    ORGANIZATIONS.find(&cc.db, org).await?;
    let guid = new_guid();
    sqlx::query(
        "INSERT INTO service_plan_visibilities (guid, service_plan_guid, organization_guid, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&guid)
    .bind(plan)
    .bind(org)
    .bind(now())
    .execute(&cc.db)
    .await
    .map_err(|e| taken_or(e, "ServicePlanVisibilityAlreadyExists", plan))?;
    Ok(guid)
}

/// Hides a plan from an org (or from every org given one, with `org` None).
pub async fn hide_from(cc: &Cc, plan: &str, org: Option<&str>) -> ApiResult<()> {
    let query = match org {
        Some(org) => {
            sqlx::query("DELETE FROM service_plan_visibilities WHERE service_plan_guid = $1 AND organization_guid = $2")
                .bind(plan)
                .bind(org.to_string())
        }
        None => sqlx::query("DELETE FROM service_plan_visibilities WHERE service_plan_guid = $1").bind(plan),
    };
    query.execute(&cc.db).await?;
    Ok(())
}
