//! Updating a service instance, whichever API asks (`cf update-service`,
//! `cf rename-service`, `cf update-user-provided-service`; v2's `PUT`, v3's
//! `PATCH`), as CCNG's ServiceInstanceUpdateManaged / UserProvided do. A
//! new name or tags are the CC's alone; a new plan (of the same service,
//! if the plan may change) or parameters go to the broker first, and the
//! new name is stored only if the broker takes the update — at once, or
//! followed while `last_operation` says how it goes. A user-provided
//! instance's bindings carry its new credentials, as in CF.

use serde_json::{Value, json};

use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult};
use super::model::service::PlanBroker;
use super::model::service_binding::ServiceBinding;
use super::model::service_instance::ServiceInstance;
use super::model::service_operation::{self, UPDATE};
use super::model::sql::{Assignments, SqlValue};
use super::osb::operations::{self, PollTiming};
use super::osb::requests::Outcome;
use super::services::{check_name_and_tags, plan_for};
use super::{Cc, quotas};

/// What an update of a brokered instance asks (None: left as it is).
#[derive(Default)]
pub struct ManagedUpdate {
    pub name: Option<String>,
    pub tags: Option<Vec<String>>,
    pub plan: Option<String>,
    pub parameters: Option<Value>,
}

/// Updates a brokered instance (the caller checked the user may); whether
/// it finished (else the broker goes on, and the CC follows it).
pub async fn update_managed(
    cc: &Cc,
    user: &CurrentUser,
    instance: &ServiceInstance,
    update: ManagedUpdate,
    accepts_incomplete: bool,
) -> ApiResult<bool> {
    instance.not_busy()?;
    let (guid, space) = (&instance.guid, &instance.space_guid);
    check_name_and_tags(update.name.as_deref(), update.tags.as_deref())?;
    let mut set = Assignments::default();
    if let Some(name) = &update.name {
        set.set("name", SqlValue::Text(Some(name.clone())));
    }
    if let Some(tags) = &update.tags {
        set.set("tags", SqlValue::Text(Some(json!(tags).to_string())));
    }
    let current_plan = instance.service_plan_guid.clone().unwrap_or_default();
    let plan = PlanBroker::find(&cc.db, &current_plan).await?;
    let new_plan = match update.plan {
        Some(new) if new != current_plan => {
            let new_plan = plan_for(cc, user, &new, space).await?;
            if new_plan.service_guid != plan.service_guid {
                return Err(ApiError::new("ServicePlanInvalid", &["cannot switch to a plan of another service"]));
            }
            if !plan.plan_updateable {
                return Err(ApiError::new("ServicePlanNotUpdateable", &[]));
            }
            quotas::check_service_instance(&cc.db, space, false, !new_plan.free).await?;
            Some((new, new_plan))
        }
        _ => None,
    };
    let name = update.name.clone().unwrap_or_else(|| instance.name.clone());
    if new_plan.is_none() && update.parameters.is_none() {
        set.save(&cc.db, "service_instances", guid, "ServiceInstanceNameTaken", &name).await?;
        return Ok(true);
    }
    // The name must be free before the broker is asked.
    if ServiceInstance::name_taken(&cc.db, space, &name, guid).await? {
        return Err(ApiError::new("ServiceInstanceNameTaken", &[&name]));
    }
    let target = plan.target(guid);
    let new_plan_id = new_plan.as_ref().map(|(_, p)| p.plan_id.as_str());
    service_operation::begin(&cc.db, guid, UPDATE, new_plan.as_ref().map(|(g, _)| g.as_str())).await?;
    let updated = plan
        .broker(cc)
        .update(&target, new_plan_id, update.parameters.as_ref(), accepts_incomplete, &user.user.guid)
        .await;
    match updated {
        Ok(outcome) => {
            set.save(&cc.db, "service_instances", guid, "ServiceInstanceNameTaken", &name).await?;
            operations::record(&cc.db, guid, UPDATE, &outcome, PollTiming::of(&cc.config)).await?;
            Ok(matches!(outcome, Outcome::Done(_)))
        }
        Err(failure) => {
            service_operation::fail(&cc.db, guid, UPDATE, &failure.error.description).await?;
            Err(failure.error)
        }
    }
}

/// Stores a user-provided instance's new fields (`name`: its new name, for
/// the error if taken) and gives its bindings its credentials.
pub async fn update_user_provided(cc: &Cc, guid: &str, fields: Assignments, name: Option<&str>) -> ApiResult<()> {
    fields.save(&cc.db, "service_instances", guid, "ServiceInstanceNameTaken", name.unwrap_or_default()).await?;
    ServiceBinding::take_instance_credentials(&cc.db, guid).await
}
