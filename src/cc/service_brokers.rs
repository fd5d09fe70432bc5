//! Service brokers and who may use their plans, whichever API asks:
//! registering a broker reads its catalog ([`super::osb::registration`]),
//! updating it reads the catalog again, deleting it removes what it
//! offered (not while instances of its plans exist). Admins manage brokers
//! for the platform, a space developer one scoped to their space. A plan
//! is public, visible to chosen orgs, or admins' only.

use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult};
use super::model::service_broker::ServiceBroker;
use super::model::{ORGANIZATIONS, SERVICE_BROKERS, SERVICE_PLANS, SPACES, service_plan_visibility};
use super::osb::registration::Registration;
use super::permissions::{is_space_developer, require};
use super::{Cc, new_guid};

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
pub async fn writable_broker(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<ServiceBroker> {
    let broker = ServiceBroker::find_for(&cc.db, guid, &user.user).await?;
    match &broker.space_guid {
        Some(space) if !user.user.admin => require(is_space_developer(&cc.db, &user.user, space).await?)?,
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
    let registration = Registration {
        name: changes.name.unwrap_or(broker.name),
        url: changes.url.unwrap_or(broker.broker_url),
        username: changes.username.unwrap_or(broker.auth_username),
        password: changes.password.unwrap_or(broker.auth_password),
    };
    let catalog = registration.check(cc, &user.user.guid, guid).await?;
    registration.save(cc, guid, None, &catalog).await
}

/// Deletes a broker and what it offered; not while instances of its plans exist.
pub async fn delete(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<()> {
    let broker = writable_broker(cc, user, guid).await?;
    if ServiceBroker::instance_count(&cc.db, guid).await? > 0 {
        return Err(ApiError::new("ServiceBrokerNotRemovable", &[&broker.name]));
    }
    // Its services and plans go with it (ON DELETE CASCADE).
    SERVICE_BROKERS.delete(&cc.db, guid).await
}

/// Makes a plan public, or not (admins).
pub async fn set_public(cc: &Cc, plan: &str, public: bool) -> ApiResult<()> {
    SERVICE_PLANS.find(&cc.db, plan).await?;
    service_plan_visibility::set_public(&cc.db, plan, public).await
}

/// Makes a plan visible to an org (admins); the visibility's guid.
pub async fn show_to_org(cc: &Cc, plan: &str, org: &str) -> ApiResult<String> {
    SERVICE_PLANS.find(&cc.db, plan).await?;
    ORGANIZATIONS.find(&cc.db, org).await?;
    let guid = new_guid();
    service_plan_visibility::insert(&cc.db, &guid, plan, org).await?;
    Ok(guid)
}

/// Hides a plan from an org (or from every org given one, with `org` None).
pub async fn hide_from(cc: &Cc, plan: &str, org: Option<&str>) -> ApiResult<()> {
    service_plan_visibility::delete(&cc.db, plan, org).await
}
