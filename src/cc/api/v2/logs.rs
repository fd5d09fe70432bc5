//! An app's logs through the CC: `GET /v2/apps/:guid/logs` (recent lines,
//! JSON) and `GET /v2/apps/:guid/logs/stream` (live, one JSON line per log
//! line) — what loggregator's recent and stream endpoints gave CF clients.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use futures::StreamExt;
use serde_json::Value;
use tokio_stream::wrappers::BroadcastStream;

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::APPS;

pub async fn recent(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    APPS.find_for(&cc.db, &guid, &user.user).await?;
    Ok(Json(serde_json::to_value(cc.logs.recent(&guid)).map_err(anyhow::Error::from)?))
}

pub async fn stream(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    APPS.find_for(&cc.db, &guid, &user.user).await?;
    let lines = BroadcastStream::new(cc.logs.subscribe()).filter_map(move |line| {
        let guid = guid.clone();
        async move {
            let line = line.ok().filter(|l| l.app_id == guid)?;
            let mut text = serde_json::to_string(&line).ok()?;
            text.push('\n');
            Some(Ok::<_, std::convert::Infallible>(text))
        }
    });
    Ok(Response::builder()
        .header("content-type", "application/x-ndjson")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(lines))
        .map_err(anyhow::Error::from)?)
}
