//! The CC as a client of service brokers, speaking the Open Service Broker
//! API (CF v2's successor to the service gateway): it reads a broker's
//! catalog ([`client`], checked by [`crate::cc::model::catalog`]), provisions, updates,
//! deprovisions, binds and unbinds ([`requests`]), follows asynchronous
//! operations and deletes what failed calls may have left at a broker
//! ([`poller`], [`orphans`]), and registers the platform's own broker
//! ([`builtin`]). Every failure is CF's error for it, with the
//! broker's own words where it gave any; nothing is stored from a catalog
//! or an operation that failed.

pub mod builtin;
pub mod client;
pub mod operations;
pub mod orphans;
pub mod poller;
pub mod registration;
pub mod requests;

use crate::cc::Cc;
use crate::cc::model::service::PlanBroker;
use client::Broker;
use requests::Target;

impl PlanBroker {
    /// The plan's broker, asked through the CC's client for brokers.
    pub fn broker<'a>(&'a self, cc: &'a Cc) -> Broker<'a> {
        Broker { url: &self.url, username: &self.username, password: &self.password, http: &cc.broker_client }
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
