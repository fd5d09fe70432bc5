//! The CC as a client of service brokers, speaking the Open Service Broker
//! API (CF v2's successor to the service gateway): it reads a broker's
//! catalog ([`client`], checked by [`catalog`]), provisions, updates,
//! deprovisions, binds and unbinds ([`requests`]), follows asynchronous
//! operations and deletes what failed calls may have left at a broker
//! ([`poller`], [`orphans`]), and registers the platform's own broker
//! ([`builtin`]). Every failure is CF's error for it, with the
//! broker's own words where it gave any; nothing is stored from a catalog
//! or an operation that failed.

pub mod builtin;
pub mod catalog;
pub mod client;
pub mod operations;
pub mod orphans;
pub mod poller;
pub mod registration;
pub mod requests;

use crate::cc::Cc;

use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::resource::{bool_column, text_column};
use client::Broker;
use requests::Target;

/// A service plan with its service and broker: what the CC needs to ask
/// the broker about instances of it.
pub struct PlanBroker {
    pub broker_guid: String,
    /// The space a space-scoped broker offers its plans in.
    pub broker_space: Option<String>,
    url: String,
    username: String,
    password: String,
    pub service_guid: String,
    pub service_id: String,
    pub plan_id: String,
    pub plan_name: String,
    pub label: String,
    pub service_tags: Vec<String>,
    /// Permissions the service needs (`route_forwarding`: a route service).
    pub requires: Vec<String>,
    pub bindable: bool,
    pub plan_updateable: bool,
    pub free: bool,
    pub active: bool,
    timeout: std::time::Duration,
}

impl PlanBroker {
    pub async fn load(cc: &Cc, plan_guid: &str) -> ApiResult<PlanBroker> {
        let row = sqlx::query(
            "SELECT b.guid AS broker_guid, b.space_guid AS broker_space, b.broker_url, b.auth_username, b.auth_password, s.guid AS service_guid, \
             s.unique_id AS service_id, p.unique_id AS plan_id, p.name AS plan_name, s.label, s.tags, s.requires, \
             s.bindable AS service_bindable, p.bindable AS plan_bindable, s.plan_updateable, p.free, p.active \
             FROM service_plans p JOIN services s ON s.guid = p.service_guid \
             JOIN service_brokers b ON b.guid = s.service_broker_guid WHERE p.guid = $1",
        )
        .bind(plan_guid)
        .fetch_optional(&cc.db)
        .await?
        .ok_or_else(|| ApiError::new("ServicePlanNotFound", &[plan_guid]))?;
        let text = |column: &str| text_column(&row, column).unwrap_or_default();
        Ok(PlanBroker {
            broker_guid: text("broker_guid"),
            broker_space: text_column(&row, "broker_space"),
            url: text("broker_url"),
            username: text("auth_username"),
            password: text("auth_password"),
            service_guid: text("service_guid"),
            service_id: text("service_id"),
            plan_id: text("plan_id"),
            plan_name: text("plan_name"),
            label: text("label"),
            service_tags: serde_json::from_str(&text("tags")).unwrap_or_default(),
            requires: serde_json::from_str(&text("requires")).unwrap_or_default(),
            // A plan's own `bindable` overrides its service's.
            bindable: bool_column(&row, "plan_bindable").or(bool_column(&row, "service_bindable")).unwrap_or(false),
            plan_updateable: bool_column(&row, "plan_updateable").unwrap_or(false),
            free: bool_column(&row, "free").unwrap_or(true),
            active: bool_column(&row, "active").unwrap_or(false),
            timeout: cc.config.broker_timeout(),
        })
    }

    pub fn broker(&self) -> Broker<'_> {
        Broker { url: &self.url, username: &self.username, password: &self.password, timeout: self.timeout }
    }

    /// The broker's ids for `instance` of this plan.
    pub fn target<'a>(&'a self, instance: &'a str) -> Target<'a> {
        Target { instance, service_id: &self.service_id, plan_id: &self.plan_id }
    }
}

/// Milliseconds since the epoch, as the poll and retry times are kept.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
