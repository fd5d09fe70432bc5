//! `POST /v3/deployments` and `GET /v3/deployments/:guid`: CF's
//! zero-downtime restart. A deployment gives a started, staged app a new
//! version; its instances roll over to it one index at a time as the new
//! ones pass their health checks ([`crate::cc::rollout`]), so the app
//! never stops serving. Its state is worked out when asked: DEPLOYING until
//! every instance of its version runs, then DEPLOYED; CANCELED once a later
//! change (another deployment, a push, a stop) gave the app another version.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use sqlx::Row;

use crate::cc::app_changes::app_event;
use crate::cc::app_changes::writable_app;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::APPS;
use crate::cc::model::app::App;
use crate::cc::{Cc, new_guid, now, rollout, runner};

/// `POST /v3/deployments` `{"relationships": {"app": {"data": {"guid": …}}}}`.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let request: Value = serde_json::from_slice(&bytes).map_err(ApiError::parse)?;
    let invalid = |reason: &str| ApiError::new("UnprocessableEntity", &[reason]);
    let app_guid = request["relationships"]["app"]["data"]["guid"]
        .as_str()
        .ok_or_else(|| invalid("Relationships 'app' is required"))?
        .to_string();
    if !request["droplet"].is_null() {
        return Err(invalid("A deployment rolls out the app's current droplet; 'droplet' cannot be given"));
    }
    let app = APPS.render(&writable_app(&cc, &user, &app_guid).await?);
    let entity = &app["entity"];
    if entity["state"] != "STARTED" {
        return Err(invalid("Cannot create deployment for a STOPPED app."));
    }
    if entity["package_state"] != "STAGED" {
        return Err(invalid("Cannot create deployment for an app that is not staged."));
    }
    let (guid, version, created_at) = (new_guid(), new_guid(), now());
    sqlx::query("UPDATE apps SET version = $1, updated_at = $2 WHERE guid = $3")
        .bind(&version)
        .bind(&created_at)
        .bind(&app_guid)
        .execute(&cc.db)
        .await?;
    sqlx::query(
        "INSERT INTO deployments (guid, app_guid, version, previous_version, droplet_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&guid)
    .bind(&app_guid)
    .bind(&version)
    .bind(entity["version"].as_str())
    .bind(entity["droplet_hash"].as_str())
    .bind(&created_at)
    .execute(&cc.db)
    .await?;
    app_event(&cc, &user, "audit.app.deployment.create", &app_guid, entity, json!({"deployment_guid": guid})).await;
    let instances = entity["instances"].as_u64().unwrap_or(0) as u32;
    rollout::roll_out(&cc, &app_guid, &version, instances).await?;
    Ok((StatusCode::CREATED, Json(render(&cc, &guid).await?)).into_response())
}

/// `GET /v3/deployments/:guid`.
pub async fn show(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let app_guid: Option<String> = sqlx::query_scalar("SELECT app_guid FROM deployments WHERE guid = $1")
        .bind(&guid)
        .fetch_optional(&cc.db)
        .await?;
    let not_found = || ApiError::new("ResourceNotFound", &["Deployment not found"]);
    let app_guid = app_guid.ok_or_else(not_found)?;
    APPS.find_for(&cc.db, &app_guid, &user.user).await.map_err(|_| not_found())?;
    Ok(Json(render(&cc, &guid).await?))
}

/// The deployment as v3 shows it, its state as of now.
async fn render(cc: &Cc, guid: &str) -> ApiResult<Value> {
    let row = sqlx::query(
        "SELECT app_guid, version, previous_version, droplet_hash, created_at, updated_at FROM deployments \
         WHERE guid = $1",
    )
    .bind(guid)
    .fetch_one(&cc.db)
    .await?;
    let text = |column: &str| row.try_get::<Option<String>, _>(column).ok().flatten();
    let app_guid = text("app_guid").unwrap_or_default();
    let app = App::find(&cc.db, &app_guid).await?;
    let state = if Some(&app.version) != text("version").as_ref() || !app.is_started() {
        "CANCELED"
    } else if runner::running_instances(cc, &app).await? >= u64::from(app.instances) {
        "DEPLOYED"
    } else {
        "DEPLOYING"
    };
    let (value, reason) = match state {
        "DEPLOYING" => ("ACTIVE", Value::Null),
        finished => ("FINALIZED", json!(finished)),
    };
    let url = cc.config.external_url();
    let droplet = json!({"guid": text("droplet_hash")});
    Ok(json!({
        "guid": guid,
        "state": state,
        "status": {"value": value, "reason": reason, "details": {}},
        "strategy": "rolling",
        "droplet": droplet,
        "previous_droplet": droplet,
        "new_processes": [{"guid": app_guid, "type": "web"}],
        "revision": null,
        "created_at": text("created_at"),
        "updated_at": text("updated_at").or(text("created_at")),
        "relationships": {"app": {"data": {"guid": app_guid}}},
        "links": {
            "self": {"href": format!("{url}/v3/deployments/{guid}")},
            "app": {"href": format!("{url}/v3/apps/{app_guid}")},
        },
    }))
}
