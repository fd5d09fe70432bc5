//! `/v2/jobs/:guid`: background work a client polls (queued → finished or
//! failed with `error_details` in CF's error shape), including the jobs
//! of `?async=true` deletes.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::job::Job;

/// A job in v2's envelope.
pub fn render(job: &Job) -> Value {
    let guid = &job.guid;
    let mut entity = json!({"guid": guid, "status": job.status});
    if let Some(details) = &job.error_details {
        entity["error"] = json!("Use of entity>error is deprecated in favor of entity>error_details.");
        entity["error_details"] = details.clone();
    }
    json!({
        "metadata": {"guid": guid, "created_at": job.created_at, "url": format!("/v2/jobs/{guid}")},
        "entity": entity,
    })
}

pub async fn get(State(cc): State<Cc>, _user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(render(&Job::find(&cc.db, &guid).await?)))
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
        let guid = Job::create(&cc.db, &cc.id, "delete").await?;
        Job::finish(&cc.db, &guid, None).await;
        ApiResult::Ok(render(&Job::find(&cc.db, &guid).await?))
    };
    match job.await {
        Ok(job) => (StatusCode::ACCEPTED, Json(job)).into_response(),
        Err(e) => e.into_response(),
    }
}
