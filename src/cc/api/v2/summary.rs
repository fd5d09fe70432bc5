//! `GET /v2/apps/:guid/summary` and `GET /v2/spaces/:guid/summary`: an
//! app (or every app of a space) with its routes, running instance count and
//! services in one answer — what `cf app` and `cf apps` show.

use axum::Json;
use axum::extract::{Path, State};
use futures::future::join_all;
use serde_json::{Value, json};
use sqlx::any::AnyRow;

use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::app::App;
use crate::cc::model::domain::{self, Domain};
use crate::cc::model::route::MappedRoute;
use crate::cc::model::service_instance::{self, SummaryOf};
use crate::cc::model::space::Space;
use crate::cc::model::sql::Condition;
use crate::cc::model::{APPS, Record, service_binding};
use crate::cc::runner;
use crate::cc::{Cc, permissions};

/// The entity fields of a summary: the resource's own fields, no links.
fn fields_of(rendered: &Value) -> serde_json::Map<String, Value> {
    let mut entity = rendered["entity"].as_object().cloned().unwrap_or_default();
    entity.retain(|k, _| !k.ends_with("_url"));
    entity
}

fn route_json(route: &MappedRoute) -> Value {
    json!({
        "guid": route.guid,
        "host": route.host,
        "port": route.port,
        "path": route.path,
        "domain": {"guid": route.domain_guid, "name": route.domain_name},
    })
}

/// The service instances a summary lists: brokered ones with their plan,
/// service and broker; user-provided ones without.
async fn service_summaries(cc: &Cc, of: SummaryOf<'_>) -> ApiResult<Vec<Value>> {
    let summaries = service_instance::summaries(&cc.db, of).await?;
    Ok(summaries
        .into_iter()
        .map(|instance| {
            let mut summary = json!({
                "guid": instance.guid,
                "name": instance.name,
                "bound_app_count": instance.bound_app_count,
                "last_operation": instance.last_operation.and_then(|t| serde_json::from_str::<Value>(&t).ok()),
                "dashboard_url": instance.dashboard_url,
                "shared_from": null,
                "shared_to": [],
            });
            if let Some(plan) = instance.plan {
                summary["service_broker_name"] = json!(plan.broker_name);
                summary["service_plan"] = json!({
                    "guid": plan.guid,
                    "name": plan.name,
                    "service": {"guid": plan.service_guid, "label": plan.service_label, "provider": null, "version": null},
                });
            }
            summary
        })
        .collect())
}

/// An app as summaries show it: its fields, guid, routes, urls and running count.
async fn app_summary_of(cc: &Cc, row: &AnyRow) -> ApiResult<serde_json::Map<String, Value>> {
    let app = App::from_row(row);
    let guid = app.guid.as_str();
    let routes = MappedRoute::of_app(&cc.db, guid).await?;
    let mut entity = fields_of(&APPS.render(row));
    entity.insert("guid".into(), json!(guid));
    entity.insert("routes".into(), Value::Array(routes.iter().map(route_json).collect()));
    entity.insert("urls".into(), json!(routes.iter().map(MappedRoute::uri).collect::<Vec<_>>()));
    entity.insert("running_instances".into(), json!(runner::running_instances(cc, &app).await?));
    Ok(entity)
}

pub async fn app(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let row = APPS.find_for(&cc.db, &guid, &user.user).await?;
    let mut summary = app_summary_of(&cc, &row).await?;
    summary.remove("urls");
    summary.insert("services".into(), Value::Array(service_summaries(&cc, SummaryOf::App(&guid)).await?));
    let space = App::from_row(&row).space_guid;
    summary.insert("available_domains".into(), Value::Array(available_domains(&cc, &space).await?));
    Ok(Json(Value::Object(summary)))
}

pub async fn space(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let name = Space::find_for(&cc.db, &guid, &user.user).await?.name;
    let mut conditions = vec![Condition::eq("space_guid", &guid)];
    conditions.extend(permissions::Visibility::InSpace("space_guid").condition(&user.user));
    let apps = APPS.select(&cc.db, &conditions, "ORDER BY id").await?;
    let summaries = join_all(apps.iter().map(|row| {
        let cc = cc.clone();
        async move {
            let mut summary = app_summary_of(&cc, row).await?;
            let app = App::from_row(row).guid;
            let names = service_binding::instance_names_of_app(&cc.db, &app).await?;
            summary.insert("service_count".into(), json!(names.len()));
            summary.insert("service_names".into(), json!(names));
            ApiResult::Ok(Value::Object(summary))
        }
    }))
    .await
    .into_iter()
    .collect::<ApiResult<Vec<_>>>()?;
    let services = service_summaries(&cc, SummaryOf::Space(&guid)).await?;
    Ok(Json(json!({"guid": guid, "name": name, "apps": summaries, "services": services})))
}

/// Shared domains, then the private domains of the space's org.
async fn available_domains(cc: &Cc, space: &str) -> ApiResult<Vec<Value>> {
    let domains = domain::usable_in_space(&cc.db, space).await?;
    Ok(domains
        .into_iter()
        .map(|Domain { guid, name, owning_organization_guid }| match owning_organization_guid {
            Some(org) => json!({"guid": guid, "name": name, "owning_organization_guid": org}),
            None => json!({"guid": guid, "name": name, "router_group_guid": null, "router_group_type": null}),
        })
        .collect())
}
