//! `/v3/deployments`: CF's rolling deployments (`cf restart --strategy
//! rolling`, `cf push --strategy rolling`). A deployment gives a started,
//! staged app a new version — of its current droplet, or of the droplet
//! the request names — and its instances roll over to it one index at a
//! time as the new ones pass their health checks ([`crate::cc::rollout`]),
//! so the app never stops serving. Its state is worked out when asked:
//! DEPLOYING until every instance of its version runs, then DEPLOYED;
//! CANCELED once a later change (another deployment, a push, a stop, a
//! cancel) gave the app another version. Cancelling rolls the previous
//! droplet back out.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
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
use crate::cc::model::revision::Revision;
use crate::cc::{Cc, new_guid, now, rollout, runner};

/// `POST /v3/deployments` `{"relationships": {"app": {"data": {"guid": …}}}}`.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    let request: Value = serde_json::from_slice(&bytes).map_err(ApiError::parse)?;
    let invalid = |reason: &str| ApiError::new("UnprocessableEntity", &[reason]);
    let app_guid = request["relationships"]["app"]["data"]["guid"]
        .as_str()
        .ok_or_else(|| invalid("Relationships 'app' is required"))?
        .to_string();
    let stored = writable_app(&cc, &user, &app_guid).await?;
    let previous_droplet: Option<String> = stored.try_get("droplet_guid")?;
    let previous_hash: Option<String> = stored.try_get("droplet_hash")?;
    // `cf rollback --version N`: the revision's droplet, environment and command.
    let mut why = None;
    if let Some(revision) = request["revision"]["guid"].as_str() {
        let revision = Revision::find(&cc.db, revision).await.map_err(|_| invalid("The revision does not exist"))?;
        let belongs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revisions WHERE guid = $1 AND app_guid = $2")
            .bind(request["revision"]["guid"].as_str())
            .bind(&app_guid)
            .fetch_one(&cc.db)
            .await?;
        if belongs == 0 || revision.droplet_hash.is_none() {
            return Err(invalid("The revision must be one of the app's, with a droplet"));
        }
        sqlx::query(
            "UPDATE apps SET droplet_guid = $1, droplet_hash = $2, environment_json = $3, command = $4, \
             package_state = 'STAGED' WHERE guid = $5",
        )
        .bind(&revision.droplet_guid)
        .bind(&revision.droplet_hash)
        .bind(&revision.environment_json)
        .bind(&revision.command)
        .bind(&app_guid)
        .execute(&cc.db)
        .await?;
        why = Some(format!("Rolled back to revision {}.", revision.version));
    } else if let Some(droplet) = request["droplet"]["guid"].as_str() {
        let sha1: Option<Option<String>> =
            sqlx::query_scalar("SELECT sha1 FROM droplets WHERE guid = $1 AND app_guid = $2 AND state = $3")
                .bind(droplet)
                .bind(&app_guid)
                .bind("STAGED")
                .fetch_optional(&cc.db)
                .await?;
        let sha1 = sha1.ok_or_else(|| {
            invalid("Unable to assign current droplet. Ensure the droplet exists and belongs to this app.")
        })?;
        sqlx::query("UPDATE apps SET droplet_guid = $1, droplet_hash = $2, package_state = $3 WHERE guid = $4")
            .bind(droplet)
            .bind(sha1)
            .bind("STAGED")
            .bind(&app_guid)
            .execute(&cc.db)
            .await?;
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
    let droplet: Option<String> =
        sqlx::query_scalar("SELECT droplet_guid FROM apps WHERE guid = $1").bind(&app_guid).fetch_one(&cc.db).await?;
    sqlx::query(
        "INSERT INTO deployments (guid, app_guid, version, previous_version, droplet_hash, created_at, droplet_guid, \
         previous_droplet_guid, previous_droplet_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&guid)
    .bind(&app_guid)
    .bind(&version)
    .bind(entity["version"].as_str())
    .bind(entity["droplet_hash"].as_str())
    .bind(&created_at)
    .bind(droplet)
    .bind(previous_droplet)
    .bind(previous_hash)
    .execute(&cc.db)
    .await?;
    app_event(&cc, &user, "audit.app.deployment.create", &app_guid, entity, json!({"deployment_guid": guid})).await;
    rollout::roll_out_app(&cc, &App::find(&cc.db, &app_guid).await?, why).await?;
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
        "SELECT app_guid, version, previous_version, droplet_guid, previous_droplet_guid, created_at, updated_at \
         FROM deployments WHERE guid = $1",
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
    let droplet = |column: &str| text(column).map_or(Value::Null, |guid| json!({"guid": guid}));
    Ok(json!({
        "guid": guid,
        "state": state,
        "status": {"value": value, "reason": reason, "details": {}},
        "strategy": "rolling",
        "droplet": droplet("droplet_guid"),
        "previous_droplet": droplet("previous_droplet_guid"),
        "new_processes": [{"guid": app_guid, "type": "web"}],
        "revision": null,
        "created_at": text("created_at"),
        "updated_at": text("updated_at").or(text("created_at")),
        "relationships": {"app": {"data": {"guid": app_guid}}},
        "links": {
            "self": {"href": format!("{url}/v3/deployments/{guid}")},
            "app": {"href": format!("{url}/v3/apps/{app_guid}")},
            "cancel": {"href": format!("{url}/v3/deployments/{guid}/actions/cancel"), "method": "POST"},
        },
    }))
}

/// `GET /v3/deployments[?app_guids=…]`: newest first within a page's order,
/// with `status_values` and `states` applied to the state as of now.
pub async fn list(State(cc): State<Cc>, user: CurrentUser, RawQuery(query): RawQuery) -> ApiResult<Json<Value>> {
    let (mut apps, mut statuses, mut states) = (Vec::new(), Vec::new(), Vec::new());
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let values = value.split(',').map(str::to_string);
        match key.as_ref() {
            "app_guids" => apps.extend(values),
            "status_values" => statuses.extend(values),
            "states" => states.extend(values),
            "order_by" | "per_page" | "page" => {}
            other => {
                return Err(ApiError::new("BadQueryParameter", &[&format!("Unknown query parameter(s): '{other}'")]));
            }
        }
    }
    let mut guids: Vec<String> = Vec::new();
    let rows =
        sqlx::query("SELECT guid, app_guid FROM deployments ORDER BY id DESC LIMIT 1000").fetch_all(&cc.db).await?;
    for row in rows {
        let app: String = row.try_get("app_guid")?;
        if (apps.is_empty() || apps.contains(&app)) && APPS.find_for(&cc.db, &app, &user.user).await.is_ok() {
            guids.push(row.try_get("guid")?);
        }
    }
    let mut resources = Vec::new();
    for guid in guids {
        let deployment = render(&cc, &guid).await?;
        let status_ok = statuses.is_empty() || statuses.iter().any(|s| deployment["status"]["value"] == s.as_str());
        let state_ok = states.is_empty() || states.iter().any(|s| deployment["state"] == s.as_str());
        if status_ok && state_ok {
            resources.push(deployment);
        }
    }
    let url = format!("{}/v3/deployments", cc.config.external_url());
    Ok(Json(json!({
        "pagination": {
            "total_results": resources.len(), "total_pages": 1,
            "first": {"href": format!("{url}?page=1")}, "last": {"href": format!("{url}?page=1")},
            "next": null, "previous": null,
        },
        "resources": resources,
    })))
}

/// `POST /v3/deployments/:guid/actions/cancel`: rolls the droplet the
/// deployment replaced back out, as a new version.
pub async fn cancel(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let not_found = || ApiError::new("ResourceNotFound", &["Deployment not found"]);
    let row = sqlx::query(
        "SELECT app_guid, version, previous_droplet_guid, previous_droplet_hash FROM deployments WHERE guid = $1",
    )
    .bind(&guid)
    .fetch_optional(&cc.db)
    .await?
    .ok_or_else(not_found)?;
    let app_guid: String = row.try_get("app_guid")?;
    writable_app(&cc, &user, &app_guid).await.map_err(|e| if e.status == 404 { not_found() } else { e })?;
    if render(&cc, &guid).await?["state"] != "DEPLOYING" {
        return Err(ApiError::new("UnprocessableEntity", &["Cannot cancel a deployment that is not deploying"]));
    }
    let version = new_guid();
    sqlx::query("UPDATE apps SET version = $1, droplet_guid = $2, droplet_hash = COALESCE($3, droplet_hash), updated_at = $4 WHERE guid = $5")
        .bind(&version)
        .bind(row.try_get::<Option<String>, _>("previous_droplet_guid")?)
        .bind(row.try_get::<Option<String>, _>("previous_droplet_hash")?)
        .bind(now())
        .bind(&app_guid)
        .execute(&cc.db)
        .await?;
    let app = App::find(&cc.db, &app_guid).await?;
    let entity = APPS.render(&APPS.find(&cc.db, &app_guid).await?)["entity"].clone();
    app_event(&cc, &user, "audit.app.deployment.cancel", &app_guid, &entity, json!({"deployment_guid": guid})).await;
    rollout::roll_out_app(&cc, &app, None).await?;
    Ok(Json(render(&cc, &guid).await?))
}
