//! Log Cache's read API, which the cf CLI v7/v8 reads app logs from
//! (`cf logs`, `cf logs --recent`, the staging log during `cf push`),
//! served by the CC from the lines it keeps ([`crate::cc::logs`]):
//! `GET /api/v1/info`, `GET /api/v1/read/:source_id` (loggregator v2
//! envelopes, `start_time`/`end_time` in ns, `envelope_types`, `limit`
//! up to 1000, `descending`) and `GET /api/v1/meta`. The source id is an
//! app's guid; only apps the user sees are read.

use axum::Json;
use axum::extract::{Path, Query, State};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::APPS;
use crate::protocol::messages::LogMessage;

/// The Log Cache version whose API (paths under `/api/v1`) this serves.
const VERSION: &str = "2.11.4";
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

pub async fn info() -> Json<Value> {
    Json(json!({"version": VERSION, "vm_uptime": "0"}))
}

#[derive(Deserialize)]
pub struct ReadQuery {
    start_time: Option<i64>,
    end_time: Option<i64>,
    limit: Option<usize>,
    #[serde(default)]
    descending: bool,
    envelope_types: Option<String>,
}

/// `GET /api/v1/read/:source_id`.
pub async fn read(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(source): Path<String>,
    Query(query): Query<ReadQuery>,
) -> ApiResult<Json<Value>> {
    APPS.find_for(&cc.db, &source, &user.user).await?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::new("BadQueryParameter", &[&format!("limit must be between 1 and {MAX_LIMIT}")]));
    }
    // Only logs are kept: a read for other envelope types finds none.
    let wants_logs = query.envelope_types.as_deref().is_none_or(|t| t.split(',').any(|t| t == "LOG" || t == "ANY"));
    let (start, end) = (query.start_time.unwrap_or(0), query.end_time.unwrap_or(i64::MAX));
    let mut lines: Vec<LogMessage> = if wants_logs {
        cc.logs.recent(&source).into_iter().filter(|l| l.timestamp >= start && l.timestamp < end).collect()
    } else {
        Vec::new()
    };
    lines.sort_by_key(|l| l.timestamp);
    // The `limit` lines nearest the start (or, descending, the end), in that order.
    let batch: Vec<Value> = if query.descending {
        lines.iter().rev().take(limit).map(envelope).collect()
    } else {
        lines.iter().take(limit).map(envelope).collect()
    };
    Ok(Json(json!({"envelopes": {"batch": batch}})))
}

/// A line as a loggregator v2 log envelope.
fn envelope(line: &LogMessage) -> Value {
    // v2's dropsonde called app output `APP`; loggregator v2 names the process.
    let source_type = if line.source_type == "APP" { "APP/PROC/WEB" } else { line.source_type.as_str() };
    json!({
        "timestamp": line.timestamp.to_string(),
        "source_id": line.app_id,
        "instance_id": line.source_instance,
        "tags": {"source_type": source_type},
        "log": {
            "payload": base64::engine::general_purpose::STANDARD.encode(line.message.as_bytes()),
            "type": if line.message_type == "ERR" { "ERR" } else { "OUT" },
        },
    })
}

/// `GET /api/v1/meta`: per app the user sees, how many lines are kept.
pub async fn meta(State(cc): State<Cc>, user: CurrentUser) -> ApiResult<Json<Value>> {
    let mut out = Map::new();
    let conditions: Vec<_> = APPS.visibility.condition(&user.user).into_iter().collect();
    for guid in APPS.guids(&cc.db, &conditions).await? {
        let lines = cc.logs.recent(&guid);
        let (Some(oldest), Some(newest)) = (lines.first(), lines.last()) else { continue };
        out.insert(
            guid.clone(),
            json!({
                "count": lines.len().to_string(),
                "expired": "0",
                "oldest_timestamp": oldest.timestamp.to_string(),
                "newest_timestamp": newest.timestamp.to_string(),
            }),
        );
    }
    Ok(Json(json!({"meta": out})))
}
