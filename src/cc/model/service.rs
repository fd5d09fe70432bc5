//! The marketplace: services that brokers offer and their plans.

use sqlx::AnyPool;

use super::resource::{self, Kind::*, Resource, ToOne, bool_column, field, text_column, to_many};
use super::{SERVICE_BROKERS, SERVICE_INSTANCES};
use crate::cc::error::{ApiError, ApiResult};
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

/// A service plan with its service and broker: what the CC needs to ask
/// the broker about instances of it ([`crate::cc::osb`] asks).
pub struct PlanBroker {
    pub broker_guid: String,
    /// The space a space-scoped broker offers its plans in.
    pub broker_space: Option<String>,
    pub(crate) url: String,
    pub(crate) username: String,
    pub(crate) password: String,
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
}

impl PlanBroker {
    /// The plan by guid with its service and broker, or ServicePlanNotFound.
    pub async fn find(db: &AnyPool, plan_guid: &str) -> ApiResult<PlanBroker> {
        let row = sqlx::query(
            "SELECT b.guid AS broker_guid, b.space_guid AS broker_space, b.broker_url, b.auth_username, b.auth_password, s.guid AS service_guid, \
             s.unique_id AS service_id, p.unique_id AS plan_id, p.name AS plan_name, s.label, s.tags, s.requires, \
             s.bindable AS service_bindable, p.bindable AS plan_bindable, s.plan_updateable, p.free, p.active \
             FROM service_plans p JOIN services s ON s.guid = p.service_guid \
             JOIN service_brokers b ON b.guid = s.service_broker_guid WHERE p.guid = $1",
        )
        .bind(plan_guid)
        .fetch_optional(db)
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
        })
    }
}
