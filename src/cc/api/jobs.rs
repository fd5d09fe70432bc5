//! `/v2/jobs/:guid`: background work a client polls (queued → finished or
//! failed with `error_details` in CF's error shape), including the jobs
//! of `?async=true` deletes.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sqlx::Row;

use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::{Cc, new_guid, now};

pub async fn create(cc: &Cc) -> ApiResult<String> {
    let guid = new_guid();
    sqlx::query("INSERT INTO jobs (guid, status, created_at, cc_id) VALUES ($1, $2, $3, $4)")
        .bind(&guid)
        .bind("queued")
        .bind(now())
        .bind(&cc.id)
        .execute(&cc.db)
        .await?;
    Ok(guid)
}

/// Fails the jobs this CC was running when it stopped: their work died
/// with it and stored nothing (a package is recorded only once whole).
pub async fn fail_interrupted(cc: &Cc) -> anyhow::Result<()> {
    let mut error = ApiError::new("ServerError", &[]);
    error.description = "The Cloud Controller stopped while this job ran; nothing was stored. Run it again.".into();
    let failed = sqlx::query(
        "UPDATE jobs SET status = $1, error_details = $2, updated_at = $3 WHERE cc_id = $4 AND status = $5",
    )
    .bind("failed")
    .bind(error_details(&error))
    .bind(now())
    .bind(&cc.id)
    .bind("queued")
    .execute(&cc.db)
    .await?;
    if failed.rows_affected() > 0 {
        tracing::warn!("{} job(s) interrupted by the last stop failed", failed.rows_affected());
    }
    Ok(())
}

fn error_details(e: &ApiError) -> String {
    json!({"code": e.code, "description": e.description, "error_code": format!("CF-{}", e.name)}).to_string()
}

/// Records how a job ended.
pub async fn finish(cc: &Cc, guid: &str, error: Option<ApiError>) {
    let (status, details) = match error {
        None => ("finished", None),
        Some(e) => ("failed", Some(error_details(&e))),
    };
    let result = sqlx::query("UPDATE jobs SET status = $1, error_details = $2, updated_at = $3 WHERE guid = $4")
        .bind(status)
        .bind(details)
        .bind(now())
        .bind(guid)
        .execute(&cc.db)
        .await;
    if let Err(e) = result {
        tracing::error!("recording the end of job {guid}: {e}");
    }
}

pub async fn get_json(cc: &Cc, guid: &str) -> ApiResult<Value> {
    let row = sqlx::query("SELECT * FROM jobs WHERE guid = $1")
        .bind(guid)
        .fetch_optional(&cc.db)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let status: String = row.try_get("status").unwrap_or_default();
    let created_at: String = row.try_get("created_at").unwrap_or_default();
    let mut entity = json!({"guid": guid, "status": status});
    if let Some(details) = row.try_get::<Option<String>, _>("error_details").ok().flatten() {
        entity["error"] = json!("Use of entity>error is deprecated in favor of entity>error_details.");
        entity["error_details"] = serde_json::from_str(&details).unwrap_or(Value::Null);
    }
    Ok(json!({
        "metadata": {"guid": guid, "created_at": created_at, "url": format!("/v2/jobs/{guid}")},
        "entity": entity,
    }))
}

pub async fn get(State(cc): State<Cc>, _user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    get_json(&cc, &guid).await.map(Json)
}

/// CF deletes with `?async=true` answer 202 with a job to poll. Deletes
/// here finish before they answer, so the job is already finished.
pub async fn async_deletes(State(cc): State<Cc>, request: Request, next: Next) -> Response {
    let wants_job = request.method() == Method::DELETE
        && request
            .uri()
            .query()
            .is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "async" && v == "true"));
    let response = next.run(request).await;
    if !wants_job || response.status() != StatusCode::NO_CONTENT {
        return response;
    }
    let job = async {
        let guid = create(&cc).await?;
        finish(&cc, &guid, None).await;
        get_json(&cc, &guid).await
    };
    match job.await {
        Ok(job) => (StatusCode::ACCEPTED, Json(job)).into_response(),
        Err(e) => e.into_response(),
    }
}
