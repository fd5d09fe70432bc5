//! `/v3/service_instances` and `/v3/service_credential_bindings`: what the
//! cf CLI v7's `create-service`, `create-user-provided-service`,
//! `delete-service`, `bind-service`, `unbind-service` and the service-key
//! commands send. A user-provided instance, or a binding to one, is made
//! at once (201; deleted: 204); a brokered one's work is a job (202 with
//! `Location`), which follows the broker when it answers asynchronously.
//! The work is the services layer's ([`crate::cc::services`]).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::apps::{accepted_job, finished_job};
use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::Record;
use crate::cc::model::credential_binding::CredentialBinding;
use crate::cc::model::job::Job;
use crate::cc::model::service_instance::ServiceInstance;
use crate::cc::model::sql::{Assignments, SqlValue};
use crate::cc::model::{ALL_SERVICE_INSTANCES, metadata};
use crate::cc::service_updates::{ManagedUpdate, update_managed, update_user_provided};
use crate::cc::services::{self, Deleted, NewInstance, writable_instance};
use crate::cc::v3::{SERVICE_CREDENTIAL_BINDINGS, SERVICE_INSTANCES};

/// A string list field (`tags`), if given.
fn strings(body: &Body, field: &str) -> ApiResult<Option<Vec<String>>> {
    match body.at(field) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(|| invalid(&format!("{field} must be strings"))))
            .collect::<ApiResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(invalid(&format!("{field} must be an array of strings"))),
    }
}

/// A user-provided instance's syslog drain and route service urls, if given.
fn user_provided_urls(body: &Body, fields: &mut Assignments) -> ApiResult<()> {
    for column in ["syslog_drain_url", "route_service_url"] {
        if let Some(url) = body.string(column, column)? {
            if column == "route_service_url" {
                services::check_route_service_url(&url)?;
            }
            fields.set(column, SqlValue::Text(Some(url)));
        }
    }
    Ok(())
}

/// `POST /v3/service_instances`: managed (a job) or user-provided (201).
pub async fn create_instance(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(
        &bytes,
        &[
            "type",
            "name",
            "relationships",
            "parameters",
            "tags",
            "credentials",
            "syslog_drain_url",
            "route_service_url",
            "metadata",
        ],
    )?;
    let name = body.string("name", "Name")?.ok_or_else(|| invalid("Name can't be blank"))?;
    let space = body
        .string("relationships/space/data/guid", "Space guid")?
        .ok_or_else(|| invalid("Relationships space can't be blank"))?;
    let tags = strings(&body, "tags")?;
    match body.string("type", "Type")?.as_deref() {
        Some("managed") => {
            let plan = body
                .string("relationships/service_plan/data/guid", "Service plan guid")?
                .ok_or_else(|| invalid("Relationships service_plan can't be blank"))?;
            let parameters = body.at("parameters").cloned();
            if parameters.as_ref().is_some_and(|p| !p.is_object()) {
                return Err(invalid("Parameters must be an object"));
            }
            let new = NewInstance { name, space, plan, parameters, tags: tags.unwrap_or_default() };
            let (guid, finished) = services::provision(&cc, &user, new, true).await?;
            metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
            let job = Job::create(&cc.db, &cc.id, "service_instance.create").await?;
            if finished {
                Job::finish(&cc.db, &job, None).await;
            } else {
                services::follow_in_job(cc.clone(), job.clone(), guid);
            }
            Ok(accepted_job(&cc, &job))
        }
        Some("user-provided") => {
            let mut fields = Assignments::default();
            if let Some(credentials) = body.at("credentials") {
                if !credentials.is_object() {
                    return Err(invalid("Credentials must be an object"));
                }
                fields.set("credentials", SqlValue::Text(Some(credentials.to_string())));
            }
            if let Some(tags) = tags {
                services::check_name_and_tags(Some(&name), Some(&tags))?;
                fields.set("tags", SqlValue::Text(Some(json!(tags).to_string())));
            }
            user_provided_urls(&body, &mut fields)?;
            let guid = services::create_user_provided(&cc, &user, &name, &space, fields).await?;
            metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
            let shown = SERVICE_INSTANCES.show(&cc, &user.user, &guid, None).await?;
            Ok((StatusCode::CREATED, Json(shown)).into_response())
        }
        _ => Err(invalid("Type must be one of 'managed', 'user-provided'")),
    }
}

/// `PATCH /v3/service_instances/:guid` (`cf update-service`, `cf
/// rename-service`, `cf update-user-provided-service`): 200 with the
/// instance when the CC alone changes it, else a job (202) following the
/// broker's update.
pub async fn update_instance(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let instance = writable_instance(&cc, &user, &ALL_SERVICE_INSTANCES, &guid).await?;
    let managed = instance.managed;
    let allowed: &[&str] = if managed {
        &["name", "tags", "parameters", "relationships", "metadata", "maintenance_info"]
    } else {
        &["name", "tags", "credentials", "syslog_drain_url", "route_service_url", "metadata"]
    };
    let body = Body::parse(&bytes, allowed)?;
    let name = body.string("name", "Name")?;
    let tags = strings(&body, "tags")?;
    let mut finished = true;
    if managed {
        let parameters = body.at("parameters").cloned();
        if parameters.as_ref().is_some_and(|p| !p.is_object()) {
            return Err(invalid("Parameters must be an object"));
        }
        let plan = body.string("relationships/service_plan/data/guid", "Service plan guid")?;
        let update = ManagedUpdate { name, tags, plan, parameters };
        finished = update_managed(&cc, &user, &instance, update, true).await?;
    } else {
        let mut fields = Assignments::default();
        if let Some(name) = &name {
            fields.set("name", SqlValue::Text(Some(name.clone())));
        }
        if let Some(credentials) = body.at("credentials") {
            if !credentials.is_object() {
                return Err(invalid("Credentials must be an object"));
            }
            fields.set("credentials", SqlValue::Text(Some(credentials.to_string())));
        }
        if let Some(tags) = tags {
            services::check_name_and_tags(name.as_deref(), Some(&tags))?;
            fields.set("tags", SqlValue::Text(Some(json!(tags).to_string())));
        }
        user_provided_urls(&body, &mut fields)?;
        update_user_provided(&cc, &guid, fields, name.as_deref()).await?;
    }
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    if !managed || finished && body.at("parameters").is_none() && body.at("relationships").is_none() {
        return Ok(Json(SERVICE_INSTANCES.show(&cc, &user.user, &guid, None).await?).into_response());
    }
    let job = Job::create(&cc.db, &cc.id, "service_instance.update").await?;
    if finished {
        Job::finish(&cc.db, &job, None).await;
    } else {
        services::follow_in_job(cc.clone(), job.clone(), guid);
    }
    Ok(accepted_job(&cc, &job))
}

/// `DELETE /v3/service_instances/:guid`: its bindings and keys go first.
pub async fn delete_instance(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    let instance = writable_instance(&cc, &user, &ALL_SERVICE_INSTANCES, &guid).await?;
    let managed = instance.managed;
    let deleted = services::deprovision(&cc, &user, &instance, true, true).await?;
    metadata::forget(&cc.db, &guid).await?;
    if !managed {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let job = Job::create(&cc.db, &cc.id, "service_instance.delete").await?;
    match deleted {
        Deleted::Gone => Job::finish(&cc.db, &job, None).await,
        Deleted::InProgress => services::follow_in_job(cc.clone(), job.clone(), guid),
    }
    Ok(accepted_job(&cc, &job))
}

/// `POST /v3/service_credential_bindings`: `app` (bind-service) or `key`
/// (create-service-key); 201 for a user-provided instance, else a job.
pub async fn create_binding(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&bytes, &["type", "name", "relationships", "parameters", "metadata"])?;
    let instance_guid = body
        .string("relationships/service_instance/data/guid", "Service instance guid")?
        .ok_or_else(|| invalid("Relationships service_instance can't be blank"))?;
    let name = body.string("name", "Name")?;
    let parameters = body.at("parameters").cloned();
    if parameters.as_ref().is_some_and(|p| !p.is_object()) {
        return Err(invalid("Parameters must be an object"));
    }
    let instance = ServiceInstance::find_among(&cc.db, &ALL_SERVICE_INSTANCES, &instance_guid, &user.user).await?;
    let guid = match body.string("type", "Type")?.as_deref() {
        Some("app") => {
            let app = body
                .string("relationships/app/data/guid", "App guid")?
                .ok_or_else(|| invalid("Relationships app can't be blank"))?;
            services::bind(&cc, &user, &app, &instance_guid, name, parameters).await?
        }
        Some("key") => {
            let name = name.ok_or_else(|| invalid("Name can't be blank"))?;
            services::create_key(&cc, &user, &instance_guid, &name, parameters).await?
        }
        _ => return Err(invalid("Type must be one of 'app', 'key'")),
    };
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    if !instance.managed {
        let shown = SERVICE_CREDENTIAL_BINDINGS.show(&cc, &user.user, &guid, None).await?;
        return Ok((StatusCode::CREATED, Json(shown)).into_response());
    }
    finished_job(&cc, "service_bindings.create").await
}

/// `DELETE /v3/service_credential_bindings/:guid`: 204, or a job for a brokered instance's.
pub async fn delete_binding(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    let binding = CredentialBinding::find_for(&cc.db, &guid, &user.user).await?;
    let instance =
        ServiceInstance::find_among(&cc.db, &ALL_SERVICE_INSTANCES, &binding.service_instance_guid, &user.user).await?;
    if binding.is_key {
        services::delete_key(&cc, &user, &guid).await?;
    } else {
        services::unbind(&cc, &user, &guid).await?;
    }
    metadata::forget(&cc.db, &guid).await?;
    if !instance.managed {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    finished_job(&cc, "service_bindings.delete").await
}

/// `GET /v3/service_credential_bindings/:guid/details`: its credentials
/// (a space developer's to read).
pub async fn binding_details(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<Json<Value>> {
    let binding = CredentialBinding::find_for(&cc.db, &guid, &user.user).await?;
    writable_instance(&cc, &user, &ALL_SERVICE_INSTANCES, &binding.service_instance_guid).await?;
    Ok(Json(json!({"credentials": binding.credentials_json()})))
}
