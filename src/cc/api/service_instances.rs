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

use super::body::Body;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::resource::text_column;
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{ALL_SERVICE_INSTANCES, SERVICE_INSTANCES};
use crate::cc::osb::PlanBroker;
use crate::cc::osb::operations::{self, IN_PROGRESS, PollTiming, UPDATE};
use crate::cc::osb::requests::Outcome;
use crate::cc::permissions::require;
use crate::cc::services::{
    self, Deleted, NewInstance, check_name_and_tags, is_managed, not_busy, plan_for, writable_instance,
};
use crate::cc::{Cc, quotas};

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

pub async fn create(
    State(cc): State<Cc>,
    user: CurrentUser,
    Query(params): Query<OperationParams>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = Body::parse(&bytes, "ServiceInstanceInvalid")?;
    let new = NewInstance {
        name: body.required_string("name")?,
        space: body.required_string("space_guid")?,
        plan: body.required_string("service_plan_guid")?,
        parameters: body.object("parameters")?.map(Value::Object),
        tags: body.strings("tags")?.unwrap_or_default(),
    };
    let (guid, finished) = services::provision(&cc, &user, new, params.accepts_incomplete).await?;
    answer(&cc, &guid, finished).await
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
    match services::deprovision(&cc, &user, &instance, params.recursive, params.accepts_incomplete).await? {
        Deleted::Gone => Ok(StatusCode::NO_CONTENT.into_response()),
        Deleted::InProgress => answer(&cc, &guid, false).await,
    }
}
