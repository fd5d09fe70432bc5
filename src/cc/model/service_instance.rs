//! Service instances: brokered (managed) and user-provided ones, one table.

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::resource::{
    Field, Kind, Kind::*, Record, Resource, ToMany, ToOne, field, link, none_yet, text_column, to_many,
};
use super::service_operation::{self, IN_PROGRESS};
use super::sql::Assignments;
use super::{SERVICE_BINDINGS, SERVICE_KEYS, SERVICE_PLANS, SERVICES, SPACES};
use crate::cc::auth::User;
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::now;
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

/// An instance as v2's summaries show it.
#[derive(Debug, Clone)]
pub struct InstanceSummary {
    pub guid: String,
    pub name: String,
    /// [`service_operation`]'s JSON.
    pub last_operation: Option<String>,
    pub dashboard_url: Option<String>,
    /// None for a user-provided instance.
    pub plan: Option<PlanSummary>,
    pub bound_app_count: i64,
}

/// A brokered instance's plan, service and broker, by name.
#[derive(Debug, Clone)]
pub struct PlanSummary {
    pub guid: String,
    pub name: String,
    pub service_guid: Option<String>,
    pub service_label: Option<String>,
    pub broker_name: Option<String>,
}

/// Instances as v2's summaries show them, oldest first: each with its
/// plan, service and broker (none for a user-provided one) and how many
/// apps it is bound to.
pub async fn summaries(db: &AnyPool, of: SummaryOf<'_>) -> ApiResult<Vec<InstanceSummary>> {
    let (scope, guid) = match of {
        SummaryOf::Space(space) => ("i.space_guid = $1", space),
        SummaryOf::App(app) => {
            ("i.guid IN (SELECT service_instance_guid FROM service_bindings WHERE app_guid = $1)", app)
        }
    };
    let rows = sqlx::query(&format!(
        "SELECT i.guid, i.name, i.last_operation, i.dashboard_url, p.guid AS plan_guid, p.name AS plan_name, \
         s.guid AS service_guid, s.label, b.name AS broker_name, CAST((SELECT COUNT(*) FROM service_bindings sb \
         WHERE sb.service_instance_guid = i.guid) AS BIGINT) AS bound_app_count FROM service_instances i \
         LEFT JOIN service_plans p ON p.guid = i.service_plan_guid LEFT JOIN services s ON s.guid = p.service_guid \
         LEFT JOIN service_brokers b ON b.guid = s.service_broker_guid WHERE {scope} ORDER BY i.id"
    ))
    .bind(guid)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let text = |column: &str| text_column(row, column);
            InstanceSummary {
                guid: text("guid").unwrap_or_default(),
                name: text("name").unwrap_or_default(),
                last_operation: text("last_operation"),
                dashboard_url: text("dashboard_url"),
                plan: text("plan_guid").map(|guid| PlanSummary {
                    guid,
                    name: text("plan_name").unwrap_or_default(),
                    service_guid: text("service_guid"),
                    service_label: text("label"),
                    broker_name: text("broker_name"),
                }),
                bound_app_count: sqlx::Row::try_get(row, "bound_app_count").unwrap_or(0),
            }
        })
        .collect())
}

/// An instance as stored: what binding, updating and deleting it act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInstance {
    pub guid: String,
    pub name: String,
    pub space_guid: String,
    /// Its plan, if brokered (a user-provided instance has none).
    pub service_plan_guid: Option<String>,
    /// Brokered (`managed_service_instance`) rather than user-provided.
    pub managed: bool,
    /// A user-provided instance's credentials (JSON), drain and route
    /// service urls.
    pub credentials: Option<String>,
    pub syslog_drain_url: Option<String>,
    pub route_service_url: Option<String>,
    /// The last broker operation ([`service_operation`]'s JSON).
    pub last_operation: Option<String>,
}

/// A brokered instance to store before its broker is asked.
pub struct NewManagedInstance<'a> {
    pub guid: &'a str,
    pub name: &'a str,
    pub space_guid: &'a str,
    pub service_plan_guid: &'a str,
    pub service_guid: &'a str,
    /// JSON array.
    pub tags: String,
}

impl Record for ServiceInstance {
    const RESOURCE: &'static Resource = &ALL_SERVICE_INSTANCES;

    fn from_row(row: &AnyRow) -> ServiceInstance {
        let text = |column: &str| text_column(row, column);
        ServiceInstance {
            guid: text("guid").unwrap_or_default(),
            name: text("name").unwrap_or_default(),
            space_guid: text("space_guid").unwrap_or_default(),
            service_plan_guid: text("service_plan_guid"),
            managed: text("type").as_deref() == Some("managed_service_instance"),
            credentials: text("credentials"),
            syslog_drain_url: text("syslog_drain_url"),
            route_service_url: text("route_service_url"),
            last_operation: text("last_operation"),
        }
    }
}

impl ServiceInstance {
    /// The instance by guid, whoever asks, if there is one.
    pub async fn find_optional(db: &AnyPool, guid: &str) -> ApiResult<Option<ServiceInstance>> {
        Ok(ALL_SERVICE_INSTANCES.find_optional(db, guid).await?.as_ref().map(ServiceInstance::from_row))
    }

    /// The instance of `instances` (brokered, user-provided or either) by
    /// guid if `user` may see it, else ServiceInstanceNotFound.
    pub async fn find_among(db: &AnyPool, instances: &Resource, guid: &str, user: &User) -> ApiResult<ServiceInstance> {
        Ok(ServiceInstance::from_row(&instances.find_for(db, guid, user).await?))
    }

    /// AsyncServiceInstanceOperationInProgress while its broker works on it.
    pub fn not_busy(&self) -> ApiResult<()> {
        let (_, state) = service_operation::type_and_state(self.last_operation.as_deref());
        if state == IN_PROGRESS {
            return Err(ApiError::new("AsyncServiceInstanceOperationInProgress", &[&self.name]));
        }
        Ok(())
    }

    /// Stores a brokered instance, its create in progress; a name its space
    /// has is ServiceInstanceNameTaken.
    pub async fn insert_managed(db: &AnyPool, new: NewManagedInstance<'_>) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO service_instances (guid, name, space_guid, type, service_plan_guid, service_guid, tags, \
             last_operation, created_at) VALUES ($1, $2, $3, 'managed_service_instance', $4, $5, $6, $7, $8)",
        )
        .bind(new.guid)
        .bind(new.name)
        .bind(new.space_guid)
        .bind(new.service_plan_guid)
        .bind(new.service_guid)
        .bind(new.tags)
        .bind(service_operation::last_operation(service_operation::CREATE, IN_PROGRESS, ""))
        .bind(now())
        .execute(db)
        .await
        .map_err(|e| taken_or(e, "ServiceInstanceNameTaken", new.name))?;
        Ok(())
    }

    /// Stores a user-provided instance with `fields` (credentials, tags,
    /// urls); a name its space has is ServiceInstanceNameTaken.
    pub async fn insert_user_provided(
        db: &AnyPool,
        guid: &str,
        name: &str,
        space: &str,
        fields: Assignments,
    ) -> ApiResult<()> {
        sqlx::query("INSERT INTO service_instances (guid, name, space_guid, created_at) VALUES ($1, $2, $3, $4)")
            .bind(guid)
            .bind(name)
            .bind(space)
            .bind(now())
            .execute(db)
            .await
            .map_err(|e| taken_or(e, "ServiceInstanceNameTaken", name))?;
        Ok(fields.execute(db, "service_instances", guid).await?)
    }

    /// How many app bindings, keys and route bindings it has.
    pub async fn dependents(db: &AnyPool, guid: &str) -> ApiResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM service_bindings WHERE service_instance_guid = $1) + \
             (SELECT COUNT(*) FROM service_keys WHERE service_instance_guid = $1) + \
             (SELECT COUNT(*) FROM route_bindings WHERE service_instance_guid = $1)",
        )
        .bind(guid)
        .fetch_one(db)
        .await?)
    }

    /// Whether another instance of `space` (than `except`) is called `name`.
    pub async fn name_taken(db: &AnyPool, space: &str, name: &str, except: &str) -> ApiResult<bool> {
        let taken: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM service_instances WHERE space_guid = $1 AND name = $2 AND guid <> $3",
        )
        .bind(space)
        .bind(name)
        .bind(except)
        .fetch_one(db)
        .await?;
        Ok(taken > 0)
    }
}
