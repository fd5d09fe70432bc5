//! Service instances: brokered (managed) and user-provided ones, one table.

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::resource::{Field, Kind, Kind::*, Resource, ToMany, ToOne, field, link, none_yet, to_many};
use super::{SERVICE_BINDINGS, SERVICE_KEYS, SERVICE_PLANS, SERVICES, SPACES};
use crate::cc::error::ApiResult;
use crate::cc::permissions::Visibility;

const FIELDS: &[Field] = &[
    field("name", Text),
    field("credentials", Kind::Json),
    field("gateway_data", Const("null")),
    field("dashboard_url", Text),
    field("type", Text),
    field("last_operation", Kind::Json),
    field("tags", Kind::Json),
    field("syslog_drain_url", Text),
    field("route_service_url", Text),
    field("maintenance_info", Const("{}")),
];

static TO_ONE: &[ToOne] = &[
    ToOne { name: "space", resource: &SPACES },
    ToOne { name: "service", resource: &SERVICES },
    ToOne { name: "service_plan", resource: &SERVICE_PLANS },
];

static TO_MANY: &[ToMany] = &[
    to_many("service_bindings", &SERVICE_BINDINGS, "service_instance_guid = ?"),
    to_many("service_keys", &SERVICE_KEYS, "service_instance_guid = ?"),
    link("routes"),
    link("shared_from"),
    // Instances are not shared between spaces here (cf service reads this).
    none_yet("shared_to"),
];

/// Service instances, those `scope` keeps.
const fn instances(scope: Option<&'static str>, filters: &'static [&'static str]) -> Resource {
    Resource {
        table: "service_instances",
        path: "/v2/service_instances",
        fields: FIELDS,
        to_one: TO_ONE,
        to_many: TO_MANY,
        not_found: "ServiceInstanceNotFound",
        filters,
        scope,
        visibility: Visibility::InSpace("space_guid"),
    }
}

/// Brokered instances, as CF lists them at `/v2/service_instances`.
pub static SERVICE_INSTANCES: Resource =
    instances(Some("type = 'managed_service_instance'"), &["name", "space_guid", "service_plan_guid"]);

/// Every instance, brokered and user-provided (their `type` tells): what a
/// space lists (`cf services`) and what bindings point to.
pub static ALL_SERVICE_INSTANCES: Resource = instances(None, &["name", "space_guid", "service_plan_guid", "type"]);

pub static USER_PROVIDED_SERVICE_INSTANCES: Resource = Resource {
    table: "service_instances",
    path: "/v2/user_provided_service_instances",
    fields: &[
        field("name", Text),
        field("credentials", Kind::Json),
        field("type", Text),
        field("syslog_drain_url", Text),
        field("route_service_url", Text),
        field("tags", Kind::Json),
    ],
    to_one: &[ToOne { name: "space", resource: &SPACES }],
    to_many: &[to_many("service_bindings", &SERVICE_BINDINGS, "service_instance_guid = ?"), link("routes")],
    not_found: "ServiceInstanceNotFound",
    filters: &["name", "space_guid"],
    scope: Some("type = 'user_provided_service_instance'"),
    visibility: Visibility::InSpace("space_guid"),
};

/// Which instances a summary lists.
pub enum SummaryOf<'a> {
    /// Those of a space (its guid).
    Space(&'a str),
    /// Those an app (its guid) is bound to.
    App(&'a str),
}

/// Instances as v2's summaries show them, oldest first: each with its
/// plan, service and broker (none for a user-provided one) and how many
/// apps it is bound to.
pub async fn summary_rows(db: &AnyPool, of: SummaryOf<'_>) -> ApiResult<Vec<AnyRow>> {
    let (scope, guid) = match of {
        SummaryOf::Space(space) => ("i.space_guid = $1", space),
        SummaryOf::App(app) => {
            ("i.guid IN (SELECT service_instance_guid FROM service_bindings WHERE app_guid = $1)", app)
        }
    };
    Ok(sqlx::query(&format!(
        "SELECT i.guid, i.name, i.last_operation, i.dashboard_url, p.guid AS plan_guid, p.name AS plan_name, \
         s.guid AS service_guid, s.label, b.name AS broker_name, CAST((SELECT COUNT(*) FROM service_bindings sb \
         WHERE sb.service_instance_guid = i.guid) AS BIGINT) AS bound_app_count FROM service_instances i \
         LEFT JOIN service_plans p ON p.guid = i.service_plan_guid LEFT JOIN services s ON s.guid = p.service_guid \
         LEFT JOIN service_brokers b ON b.guid = s.service_broker_guid WHERE {scope} ORDER BY i.id"
    ))
    .bind(guid)
    .fetch_all(db)
    .await?)
}
