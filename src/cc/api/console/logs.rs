//! An app's logs, live, as the page's Server-Sent Events: its recent
//! lines, then each new one within a second, read from Log Cache's API
//! (as `cf logs` reads it) with the user's token. Each event's id is its
//! line's timestamp, so a browser that reconnects (it does by itself)
//! goes on from the last line it had, with a fresh token.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use base64::Engine;
use futures::Stream;
use serde_json::Value;

use super::Console;
use super::session::Session;

/// How often Log Cache is read while the page is open.
const POLL: Duration = Duration::from_secs(1);
/// Lines shown when the page opens.
const RECENT: usize = 200;

pub async fn follow(
    State(console): State<Console>,
    session: Session,
    Path(guid): Path<String>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let after: Option<i64> = headers.get("last-event-id").and_then(|v| v.to_str().ok()?.parse().ok());
    let state = Some((console, session.token, guid, after));
    let lines = futures::stream::unfold(state, |state| async move {
        let (console, token, guid, after) = state?;
        if after.is_some() {
            tokio::time::sleep(POLL).await;
        }
        let query = match after {
            Some(last) => format!("start_time={}&limit=1000", last + 1),
            None => format!("descending=true&limit={RECENT}"),
        };
        let path = format!("/api/v1/read/{guid}?envelope_types=LOG&{query}");
        // A token gone stale (or access taken away) ends the stream; the
        // browser reconnects as whoever is signed in then.
        let read = console.api.get(&path, &token).await.ok()?;
        let mut envelopes: Vec<&Value> = read.pointer("/envelopes/batch")?.as_array()?.iter().collect();
        envelopes.sort_by_key(|e| timestamp(e));
        let last = envelopes.last().map(|e| timestamp(e)).or(after).or(Some(0));
        let events: Vec<Result<Event, Infallible>> =
            envelopes.iter().map(|e| Ok(Event::default().id(timestamp(e).to_string()).data(line(e)))).collect();
        Some((futures::stream::iter(events), Some((console, token, guid, last))))
    });
    Sse::new(futures::StreamExt::flatten(lines)).keep_alive(KeepAlive::default())
}

fn timestamp(envelope: &Value) -> i64 {
    envelope["timestamp"].as_str().and_then(|t| t.parse().ok()).unwrap_or(0)
}

/// `2026-12-06T10:00:00.123Z [APP/PROC/WEB/0] OUT the line`, as `cf logs` shows it.
fn line(envelope: &Value) -> String {
    let payload = envelope.pointer("/log/payload").and_then(Value::as_str).unwrap_or_default();
    let message = base64::engine::general_purpose::STANDARD.decode(payload).unwrap_or_default();
    let at = chrono::DateTime::from_timestamp_nanos(timestamp(envelope))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let source = envelope.pointer("/tags/source_type").and_then(Value::as_str).unwrap_or("APP");
    let instance = envelope["instance_id"].as_str().unwrap_or_default();
    let stream = envelope.pointer("/log/type").and_then(Value::as_str).unwrap_or("OUT");
    // A line is one event: its own newlines would split it.
    let text = String::from_utf8_lossy(&message).replace(['\r', '\n'], " ");
    format!("{at} [{source}/{instance}] {stream} {text}")
}
