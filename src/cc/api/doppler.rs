//! Loggregator's doppler endpoints, as the cf CLI v6 reads app logs:
//! `/apps/:guid/stream` (a websocket of dropsonde `Envelope`s, which `cf
//! push` tails while staging and `cf logs` follows) and
//! `/apps/:guid/recentlogs` (`cf logs --recent`, multipart/x-protobuf).
//! `/v2/info` advertises the CC itself as `doppler_logging_endpoint`.
//!
//! The envelopes are encoded by hand: two small protobuf messages.

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::RecvError;

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::APPS;
use crate::protocol::messages::LogMessage;

/// Separates the parts of a recent-logs answer.
const BOUNDARY: &str = "wasmfoundry-recent-logs";

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint_field(out: &mut Vec<u8>, field: u64, value: u64) {
    varint(out, field << 3);
    varint(out, value);
}

/// A dropsonde `Envelope` (eventType LogMessage) carrying one log line.
pub fn envelope(line: &LogMessage) -> Vec<u8> {
    let mut message = Vec::new();
    bytes_field(&mut message, 1, line.message.as_bytes());
    varint_field(&mut message, 2, if line.message_type == "ERR" { 2 } else { 1 });
    varint_field(&mut message, 3, line.timestamp as u64);
    bytes_field(&mut message, 4, line.app_id.as_bytes());
    bytes_field(&mut message, 5, line.source_type.as_bytes());
    bytes_field(&mut message, 6, line.source_instance.as_bytes());
    let mut envelope = Vec::new();
    bytes_field(&mut envelope, 1, b"wasmfoundry");
    varint_field(&mut envelope, 2, 5);
    varint_field(&mut envelope, 6, line.timestamp as u64);
    bytes_field(&mut envelope, 8, &message);
    envelope
}

/// `GET /apps/:guid/stream` (websocket): the app's log lines as they come.
pub async fn stream(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    APPS.find_for(&cc.db, &guid, &user.user).await?;
    let lines = cc.logs.subscribe();
    Ok(upgrade.on_upgrade(move |socket| follow(socket, lines, guid)))
}

async fn follow(mut socket: WebSocket, mut lines: tokio::sync::broadcast::Receiver<LogMessage>, app: String) {
    loop {
        tokio::select! {
            line = lines.recv() => match line {
                Ok(line) if line.app_id == app => {
                    if socket.send(Message::Binary(envelope(&line).into())).await.is_err() {
                        return;
                    }
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// `GET /apps/:guid/recentlogs`: the recent lines, one envelope a part.
pub async fn recent(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    APPS.find_for(&cc.db, &guid, &user.user).await?;
    let mut body = Vec::new();
    for line in cc.logs.recent(&guid) {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n\r\n").as_bytes());
        body.extend_from_slice(&envelope(&line));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let content_type = format!("multipart/x-protobuf; boundary={BOUNDARY}");
    Ok(([("content-type", content_type)], Body::from(body)).into_response())
}
