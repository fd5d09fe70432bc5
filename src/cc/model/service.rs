//! The marketplace: services that brokers offer and their plans.

use super::resource::{self, Kind::*, Resource, ToOne, field, to_many};
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

const PLAN_FIELDS: &[resource::Field] = &[
    field("name", Text),
    field("free", Bool),
    field("description", Text),
    field("extra", Text),
    field("unique_id", Text),
    field("public", Bool),
    field("active", Bool),
    field("bindable", Bool),
];

pub static SERVICE_PLANS: Resource = Resource {
    table: "service_plans",
    path: "/v2/service_plans",
    fields: PLAN_FIELDS,
    to_one: &[ToOne { name: "service", resource: &SERVICES }],
    to_many: &[to_many("service_instances", &SERVICE_INSTANCES, "service_plan_guid = ?")],
    not_found: "ServicePlanNotFound",
    filters: &["service_guid", "unique_id", "name", "active", "public"],
    scope: None,
    visibility: Visibility::UsablePlans,
};

/// The plans with their broker's space (`space_guid`: a space-scoped
/// broker's plans are its space's), which v3 relates them to, and how many
/// orgs they are made visible to (`visible_orgs`).
pub static SPACED_SERVICE_PLANS: Resource = Resource {
    table: "(SELECT p.*, b.space_guid, CAST((SELECT COUNT(*) FROM service_plan_visibilities v \
            WHERE v.service_plan_guid = p.guid) AS BIGINT) AS visible_orgs FROM service_plans p \
            JOIN services s ON s.guid = p.service_guid JOIN service_brokers b ON b.guid = s.service_broker_guid) \
            service_plans",
    path: "/v3/service_plans",
    fields: PLAN_FIELDS,
    to_one: &[],
    to_many: &[],
    not_found: "ServicePlanNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::UsablePlans,
};
