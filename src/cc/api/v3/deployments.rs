//! `/v3/deployments`: CF's rolling and canary deployments (`cf push
//! --strategy rolling|canary`, `cf restart --strategy …`, `cf
//! continue-deployment`, `cf cancel-deployment`, `cf rollback`). The
//! request is checked here; the deployments service
//! ([`crate::cc::deployments`]) does the work and the updater moves each
//! along; [`DEPLOYMENTS`] renders them.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::Value;

use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::deployments::{self, DeploymentRequest};
use crate::cc::error::ApiResult;
use crate::cc::model::deployment::{CANARY, MAX_CANARY_STEPS, STRATEGIES, WebScale};
use crate::cc::model::metadata;
use crate::cc::v3::DEPLOYMENTS;

/// The options a deployment takes (a log rate limit is not one: instances
/// here have none).
const OPTIONS: [&str; 5] = ["max_in_flight", "canary", "web_instances", "memory_in_mb", "disk_in_mb"];

/// `POST /v3/deployments` `{"relationships": {"app": {"data": {"guid": …}}},
/// "droplet"|"revision": {"guid": …}, "strategy", "options": {"max_in_flight",
/// "web_instances", "memory_in_mb", "disk_in_mb", "canary": {"steps":
/// [{"instance_weight": …}]}}}`.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = Body::parse(&bytes, &["relationships", "droplet", "revision", "strategy", "options", "metadata"])?;
    let app_guid = body
        .string("relationships/app/data/guid", "App guid")?
        .ok_or_else(|| invalid("Relationships 'app' is required"))?;
    let strategy = body.string("strategy", "Strategy")?.unwrap_or_else(|| STRATEGIES[0].to_string());
    if !STRATEGIES.contains(&strategy.as_str()) {
        return Err(invalid(&format!("Strategy '{strategy}' is not a supported deployment strategy")));
    }
    if let Some(Value::Object(options)) = body.at("options")
        && let Some(unknown) = options.keys().find(|key| !OPTIONS.contains(&key.as_str()))
    {
        return Err(invalid(&format!("Unknown field(s): '{unknown}'")));
    }
    let max_in_flight = body.int("options/max_in_flight", "Max in flight", 1)?.unwrap_or(1);
    // The cf CLI v8 sends `"canary": {"steps": null}` with any option.
    let steps = body.at("options/canary/steps").filter(|steps| steps.as_array().is_none_or(|s| !s.is_empty()));
    if steps.is_some() && strategy != CANARY {
        return Err(invalid("Canary steps are only valid for the 'canary' deployment strategy"));
    }
    let canary_steps = canary_steps(steps)?;
    let count = |path: &str, label: &str| body.int(path, label, 1).map(|n| n.map(|n| n as u64));
    let web = WebScale {
        instances: count("options/web_instances", "Web instances")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        memory_in_mb: count("options/memory_in_mb", "Memory in mb")?,
        disk_in_mb: count("options/disk_in_mb", "Disk in mb")?,
    };
    let request = DeploymentRequest {
        app_guid,
        droplet_guid: body.string("droplet/guid", "Droplet guid")?,
        revision_guid: body.string("revision/guid", "Revision guid")?,
        strategy,
        max_in_flight: u32::try_from(max_in_flight).unwrap_or(u32::MAX),
        canary_steps,
        web,
    };
    let guid = deployments::create(&cc, &user, request).await?;
    metadata::update(&cc.db, &guid, body.at("metadata").unwrap_or(&Value::Null)).await?;
    Ok((StatusCode::CREATED, Json(DEPLOYMENTS.show(&cc, &user.user, &guid, None).await?)))
}

/// A canary's steps: 1 to [`MAX_CANARY_STEPS`] instance weights, each a
/// percentage above the one before.
fn canary_steps(steps: Option<&Value>) -> ApiResult<Vec<u32>> {
    let Some(steps) = steps else { return Ok(Vec::new()) };
    let steps = steps
        .as_array()
        .filter(|s| (1..=MAX_CANARY_STEPS).contains(&s.len()))
        .ok_or_else(|| invalid(&format!("Canary steps must be an array of 1 to {MAX_CANARY_STEPS} steps")))?;
    let mut weights = Vec::new();
    for step in steps {
        let weight = step["instance_weight"].as_u64().filter(|w| (1..=100).contains(w));
        let weight = weight.ok_or_else(|| invalid("Canary step instance_weight must be an integer from 1 to 100"))?;
        if weights.last().is_some_and(|last| u64::from(*last) >= weight) {
            return Err(invalid("Canary steps must be sorted in ascending order"));
        }
        weights.push(weight as u32);
    }
    Ok(weights)
}

/// `GET /v3/deployments[?app_guids=…&status_values=…]`.
pub async fn list(State(cc): State<Cc>, user: CurrentUser, RawQuery(query): RawQuery) -> ApiResult<Json<Value>> {
    DEPLOYMENTS.list(&cc, &user.user, query.as_deref(), vec![], DEPLOYMENTS.path).await.map(Json)
}

/// `GET /v3/deployments/:guid`.
pub async fn show(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    DEPLOYMENTS.show(&cc, &user.user, &guid, query.as_deref()).await.map(Json)
}

/// `POST /v3/deployments/:guid/actions/cancel`.
pub async fn cancel(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    deployments::cancel(&cc, &user, &guid).await?;
    DEPLOYMENTS.show(&cc, &user.user, &guid, None).await.map(Json)
}

/// `POST /v3/deployments/:guid/actions/continue`.
pub async fn continue_deployment(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<Json<Value>> {
    deployments::continue_deployment(&cc, &user, &guid).await?;
    DEPLOYMENTS.show(&cc, &user.user, &guid, None).await.map(Json)
}
