//! `/v2/service_instances`: instances of brokered services (`cf
//! create-service`, `update-service`, `rename-service`, `delete-service`,
//! `purge-service-instance`). Creating one provisions it at its plan's
//! broker, updating one with a new plan or parameters updates it there,
//! deleting one deprovisions it — each finished at once or, with
//! `accepts_incomplete=true`, answered 202 and followed by the CC
//! ([`crate::cc::osb::poller`]) while `last_operation` says how it goes.
//! A provision that failed leaves nothing behind: no row, and at the broker
//! what may have been made is deleted (orphan mitigation).
//!
//! User-provided instances live in the same table; a space lists both.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use serde_json::{Value, json};
use sqlx::any::AnyRow;

use super::body::Body;
use super::services::{delete_user_provided, unbind_all, writable_instance};
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult, taken_or};
use crate::cc::model::resource::text_column;
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{ALL_SERVICE_INSTANCES, SERVICE_INSTANCES, SERVICE_PLANS, SPACES};
use crate::cc::osb::operations::{self, CREATE, DELETE, IN_PROGRESS, PollTiming, UPDATE};
use crate::cc::osb::requests::{Outcome, Placement};
use crate::cc::osb::{PlanBroker, orphans};
use crate::cc::permissions::{is_space_developer, plan_usable_in_space, require};
use crate::cc::quotas;
use crate::cc::{Cc, new_guid, now};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct OperationParams {
    accepts_incomplete: bool,
    recursive: bool,
    purge: bool,
}

/// 201 when the broker finished, 202 while it goes on.
async fn answer(cc: &Cc, guid: &str, finished: bool) -> ApiResult<Response> {
    let value = SERVICE_INSTANCES.get(&cc.db, guid).await?;
    let status = if finished { StatusCode::CREATED } else { StatusCode::ACCEPTED };
    Ok((status, [("location", SERVICE_INSTANCES.url(guid))], axum::Json(value)).into_response())
}

/// A plan an instance of `space` may have, and its broker.
async fn plan_for(cc: &Cc, user: &CurrentUser, plan: &str, space: &str) -> ApiResult<PlanBroker> {
    SERVICE_PLANS.find_for(&cc.db, plan, &user.user).await?;
    let usable = plan_usable_in_space(&cc.db, plan, space).await?;
    let plan = PlanBroker::load(cc, plan).await?;
    match (usable, &plan.broker_space) {
        (true, _) => {}
        (false, Some(_)) => return Err(ApiError::new("ServiceInstanceSpaceNotAuthorized", &[])),
        (false, None) => return Err(ApiError::new("ServiceInstanceOrganizationNotAuthorized", &[])),
    }
    if !plan.active {
        return Err(ApiError::new("ServicePlanInvalid", &["the plan is no longer offered by its broker"]));
    }
    Ok(plan)
}

/// Name and tags as CF checks them.
fn check_name_and_tags(name: Option<&str>, tags: Option<&[String]>) -> ApiResult<()> {
    match name {
        Some(name) if name.trim().is_empty() => return Err(ApiError::new("ServiceInstanceNameEmpty", &[])),
        Some(name) if name.len() > 255 => return Err(ApiError::new("ServiceInstanceNameTooLong", &[])),
        _ => {}
    }
    if tags.is_some_and(|tags| tags.iter().map(String::len).sum::<usize>() > 2048) {
        return Err(ApiError::new("ServiceInstanceTagsTooLong", &[name.unwrap_or_default()]));
    }
    Ok(())
}

pub async fn create(
    State(cc): State<Cc>,
    user: CurrentUser,
    Query(params): Query<OperationParams>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceInstanceInvalid")?;
    let name = body.required_string("name")?;
    let space = body.required_string("space_guid")?;
    let plan_guid = body.required_string("service_plan_guid")?;
    let parameters = body.object("parameters")?.map(Value::Object);
    let tags = body.strings("tags")?.unwrap_or_default();
    check_name_and_tags(Some(&name), Some(&tags))?;
    SPACES.find_for(&cc.db, &space, &user.user).await?;
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    let plan = plan_for(&cc, &user, &plan_guid, &space).await?;
    quotas::check_service_instance(&cc.db, &space, true, !plan.free).await?;

    // The row comes first: it holds the name while the broker works.
    let guid = new_guid();
    sqlx::query(
        "INSERT INTO service_instances (guid, name, space_guid, type, service_plan_guid, service_guid, tags, \
         last_operation, created_at) VALUES ($1, $2, $3, 'managed_service_instance', $4, $5, $6, $7, $8)",
    )
    .bind(&guid)
    .bind(&name)
    .bind(&space)
    .bind(&plan_guid)
    .bind(&plan.service_guid)
    .bind(json!(tags).to_string())
    .bind(operations::last_operation(CREATE, IN_PROGRESS, ""))
    .bind(now())
    .execute(&cc.db)
    .await
    .map_err(|e| taken_or(e, "ServiceInstanceNameTaken", &name))?;

    let organization = crate::cc::model::event::org_of_space(&cc.db, &space).await;
    let placement = Placement { organization: &organization, space: &space, instance_name: &name };
    let target = plan.target(&guid);
    let provisioned = plan
        .broker()
        .provision(&target, &placement, parameters.as_ref(), params.accepts_incomplete, &user.user.guid)
        .await;
    match provisioned {
        Ok(outcome) => {
            operations::record(&cc.db, &guid, CREATE, &outcome, PollTiming::of(&cc.config)).await?;
            answer(&cc, &guid, matches!(outcome, Outcome::Done(_))).await
        }
        Err(failure) => {
            sqlx::query("DELETE FROM service_instances WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
            if failure.orphan {
                orphans::record(&cc.db, &plan.broker_guid, &target.delete_path(None, true)).await?;
            }
            Err(failure.error)
        }
    }
}

fn is_managed(instance: &AnyRow) -> bool {
    text_column(instance, "type").as_deref() == Some("managed_service_instance")
}

/// AsyncServiceInstanceOperationInProgress while the broker works on it.
fn not_busy(instance: &AnyRow) -> ApiResult<()> {
    let (_, state) = operations::type_and_state(text_column(instance, "last_operation").as_deref());
    if state == IN_PROGRESS {
        return Err(ApiError::new(
            "AsyncServiceInstanceOperationInProgress",
            &[&text_column(instance, "name").unwrap_or_default()],
        ));
    }
    Ok(())
}

pub async fn update(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    Query(params): Query<OperationParams>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let instance = writable_instance(&cc, &user, &ALL_SERVICE_INSTANCES, &guid).await?;
    if !is_managed(&instance) {
        return Err(ApiError::new("UserProvidedServiceInstanceHandlerNeeded", &[]));
    }
    not_busy(&instance)?;
    let body = Body::parse(&bytes, "ServiceInstanceInvalid")?;
    let space = text_column(&instance, "space_guid").unwrap_or_default();
    if body.string("space_guid")?.is_some_and(|s| s != space) {
        return Err(ApiError::new("ServiceInstanceSpaceChangeNotAllowed", &[]));
    }
    let mut set = Assignments::default();
    let name = body.set_text(&mut set, "name")?;
    let tags = body.strings("tags")?;
    check_name_and_tags(name.as_deref(), tags.as_deref())?;
    if let Some(tags) = &tags {
        set.set("tags", SqlValue::Text(Some(json!(tags).to_string())));
    }
    let current_plan = text_column(&instance, "service_plan_guid").unwrap_or_default();
    let plan = PlanBroker::load(&cc, &current_plan).await?;
    let new_plan = match body.string("service_plan_guid")? {
        Some(new) if new != current_plan => {
            let new_plan = plan_for(&cc, &user, &new, &space).await?;
            if new_plan.service_guid != plan.service_guid {
                return Err(ApiError::new("ServicePlanInvalid", &["cannot switch to a plan of another service"]));
            }
            if !plan.plan_updateable {
                return Err(ApiError::new("ServicePlanNotUpdateable", &[]));
            }
            quotas::check_service_instance(&cc.db, &space, false, !new_plan.free).await?;
            Some((new, new_plan))
        }
        _ => None,
    };
    let parameters = body.object("parameters")?.map(Value::Object);
    let what = name.clone().unwrap_or_else(|| text_column(&instance, "name").unwrap_or_default());
    if new_plan.is_none() && parameters.is_none() {
        // A new name or tags are the CC's alone; the broker is not asked.
        set.save(&cc.db, "service_instances", &guid, "ServiceInstanceNameTaken", &what).await?;
        return answer(&cc, &guid, true).await;
    }
    // The name must be free before the broker is asked; it is stored only
    // if the broker takes the update.
    let taken: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM service_instances WHERE space_guid = $1 AND name = $2 AND guid <> $3")
            .bind(&space)
            .bind(&what)
            .bind(&guid)
            .fetch_one(&cc.db)
            .await?;
    if taken > 0 {
        return Err(ApiError::new("ServiceInstanceNameTaken", &[&what]));
    }
    let target = plan.target(&guid);
    let new_plan_id = new_plan.as_ref().map(|(_, p)| p.plan_id.as_str());
    sqlx::query("UPDATE service_instances SET pending_plan_guid = $1, last_operation = $2 WHERE guid = $3")
        .bind(new_plan.as_ref().map(|(g, _)| g.clone()))
        .bind(operations::last_operation(UPDATE, IN_PROGRESS, ""))
        .bind(&guid)
        .execute(&cc.db)
        .await?;
    let updated = plan
        .broker()
        .update(&target, new_plan_id, parameters.as_ref(), params.accepts_incomplete, &user.user.guid)
        .await;
    match updated {
        Ok(outcome) => {
            set.save(&cc.db, "service_instances", &guid, "ServiceInstanceNameTaken", &what).await?;
            operations::record(&cc.db, &guid, UPDATE, &outcome, PollTiming::of(&cc.config)).await?;
            answer(&cc, &guid, matches!(outcome, Outcome::Done(_))).await
        }
        Err(failure) => {
            operations::fail(&cc.db, &guid, UPDATE, &failure.error.description).await?;
            Err(failure.error)
        }
    }
}

pub async fn delete(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    Query(params): Query<OperationParams>,
) -> ApiResult<Response> {
    let instance = writable_instance(&cc, &user, &ALL_SERVICE_INSTANCES, &guid).await?;
    if params.purge {
        // Forget it without asking the broker (an admin's way out of a broker that is gone).
        require(user.user.admin)?;
        sqlx::query("DELETE FROM service_instances WHERE guid = $1").bind(&guid).execute(&cc.db).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if !is_managed(&instance) {
        return delete_user_provided(&cc, &guid, params.recursive).await.map(IntoResponse::into_response);
    }
    not_busy(&instance)?;
    let plan = PlanBroker::load(&cc, &text_column(&instance, "service_plan_guid").unwrap_or_default()).await?;
    let target = plan.target(&guid);
    let children: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM service_bindings WHERE service_instance_guid = $1) + \
         (SELECT COUNT(*) FROM service_keys WHERE service_instance_guid = $2)",
    )
    .bind(&guid)
    .bind(&guid)
    .fetch_one(&cc.db)
    .await?;
    if children > 0 {
        if !params.recursive {
            return Err(ApiError::new(
                "AssociationNotEmpty",
                &["service_bindings or service_keys", "service instance"],
            ));
        }
        unbind_all(&cc, &plan, &target, &user.user.guid).await?;
    }
    sqlx::query("UPDATE service_instances SET last_operation = $1 WHERE guid = $2")
        .bind(operations::last_operation(DELETE, IN_PROGRESS, ""))
        .bind(&guid)
        .execute(&cc.db)
        .await?;
    match plan.broker().deprovision(&target, params.accepts_incomplete, &user.user.guid).await {
        Ok(outcome @ Outcome::Done(_)) => {
            operations::record(&cc.db, &guid, DELETE, &outcome, PollTiming::of(&cc.config)).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Ok(outcome) => {
            operations::record(&cc.db, &guid, DELETE, &outcome, PollTiming::of(&cc.config)).await?;
            answer(&cc, &guid, false).await
        }
        Err(failure) => {
            operations::fail(&cc.db, &guid, DELETE, &failure.error.description).await?;
            Err(failure.error)
        }
    }
}
