//! Registering a broker: its URL and credentials checked, its catalog read
//! ([`super::client`], checked by [`super::catalog`]) and stored with it
//! at once — `cf create-service-broker`, `update-service-broker`, and the
//! CC's own registration of the built-in broker ([`super::builtin`]).
//! Reading a catalog again updates what is there, adds what is new and
//! removes what the broker no longer offers — but a plan instances still
//! use stays, inactive.

use super::client::{Broker, check_url};
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::catalog::Catalog;
use crate::cc::model::service_broker::{BrokerFields, ServiceBroker};
use crate::cc::{Cc, new_guid};

/// What a broker is registered with.
pub struct Registration {
    pub name: String,
    pub url: String,
    pub username: String,
    pub password: String,
}

impl Registration {
    /// Checks the URL, that name and URL are free (but for broker `guid`
    /// itself), and reads the catalog.
    pub async fn check(&self, cc: &Cc, user_guid: &str, guid: &str) -> ApiResult<Catalog> {
        check_url(&self.url)?;
        for (column, value, taken) in
            [("name", &self.name, "ServiceBrokerNameTaken"), ("broker_url", &self.url, "ServiceBrokerUrlTaken")]
        {
            if ServiceBroker::other_with(&cc.db, column, value, guid).await?.is_some() {
                return Err(ApiError::new(taken, &[value]));
            }
        }
        let broker =
            Broker { url: &self.url, username: &self.username, password: &self.password, http: &cc.broker_client };
        broker.catalog(user_guid).await
    }

    /// Stores the broker — a new one (in `space`, if scoped) when a space
    /// is given, else changes to broker `guid` — and its catalog, at once.
    pub async fn save(&self, cc: &Cc, guid: &str, new_in: Option<Option<String>>, catalog: &Catalog) -> ApiResult<()> {
        let broker =
            BrokerFields { name: &self.name, url: &self.url, username: &self.username, password: &self.password };
        ServiceBroker::save(&cc.db, guid, &broker, new_in, catalog).await
    }
}

/// Registers the broker called `name` (or, when one has that name or URL,
/// updates it with this URL and credentials, keeping the name an admin may
/// have given it, and reads its catalog again) on the platform's own
/// behalf; returns whether it is new.
pub async fn register_as_platform(cc: &Cc, name: &str, url: &str, username: &str, password: &str) -> ApiResult<bool> {
    let existing = ServiceBroker::named_or_at(&cc.db, name, url).await?;
    let registration = Registration {
        name: existing.as_ref().map_or_else(|| name.into(), |(_, name)| name.clone()),
        url: url.into(),
        username: username.into(),
        password: password.into(),
    };
    let existing = existing.map(|(guid, _)| guid);
    let guid = existing.clone().unwrap_or_else(new_guid);
    let catalog = registration.check(cc, crate::cc::osb::orphans::PLATFORM_USER, &guid).await?;
    let new_in = if existing.is_none() { Some(None) } else { None };
    registration.save(cc, &guid, new_in, &catalog).await?;
    Ok(existing.is_none())
}
