//! The marketplace: services that brokers offer and their plans.

use super::resource::{Kind::*, Resource, ToOne, field, to_many};
use super::{SERVICE_BROKERS, SERVICE_INSTANCES};
use crate::cc::permissions::Visibility;

pub static SERVICES: Resource = Resource {
    table: "services",
    path: "/v2/services",
    fields: &[
        field("label", Text),
        field("provider", Const("null")),
        field("url", Const("null")),
        field("description", Text),
        field("long_description", Const("null")),
        field("version", Const("null")),
        field("info_url", Const("null")),
        field("active", Bool),
        field("bindable", Bool),
        field("unique_id", Text),
        field("extra", Text),
        field("tags", Json),
        field("requires", Json),
        field("documentation_url", Const("null")),
        field("plan_updateable", Bool),
    ],
    to_one: &[ToOne { name: "service_broker", resource: &SERVICE_BROKERS }],
    to_many: &[to_many("service_plans", &SERVICE_PLANS, "service_guid = ?")],
    not_found: "ServiceNotFound",
    filters: &["label", "active", "service_broker_guid", "unique_id"],
    scope: None,
    visibility: Visibility::Services,
};

pub static SERVICE_PLANS: Resource = Resource {
    table: "service_plans",
    path: "/v2/service_plans",
    fields: &[
        field("name", Text),
        field("free", Bool),
        field("description", Text),
        field("extra", Text),
        field("unique_id", Text),
        field("public", Bool),
        field("active", Bool),
        field("bindable", Bool),
    ],
    to_one: &[ToOne { name: "service", resource: &SERVICES }],
    to_many: &[to_many("service_instances", &SERVICE_INSTANCES, "service_plan_guid = ?")],
    not_found: "ServicePlanNotFound",
    filters: &["service_guid", "unique_id", "name", "active", "public"],
    scope: None,
    visibility: Visibility::UsablePlans,
};
