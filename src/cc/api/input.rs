//! What every request's input must be, whichever API version reads it:
//! a body within its endpoint's limit (past it, a CF error with 413, not
//! the HTTP library's plain text); no string holding a NUL character,
//! which no CCDB can store; and names as CCNG takes them — at most 255
//! characters, none of them a control character ("must not contain
//! escaped characters").

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use crate::cc::error::ApiError;

pub const MAX_NAME_LENGTH: usize = 255;

/// Why a name is refused, in CCNG's words after the field's name.
pub fn name_problem(name: &str) -> Option<String> {
    if name.chars().count() > MAX_NAME_LENGTH {
        return Some(format!("is too long (maximum is {MAX_NAME_LENGTH} characters)"));
    }
    name.chars().any(char::is_control).then(|| "must not contain escaped characters".to_string())
}

/// A parse error if any string in the body (a key or a value) holds a NUL.
pub fn without_nul(value: &Value) -> Result<(), ApiError> {
    fn holds_nul(value: &Value) -> bool {
        match value {
            Value::String(text) => text.contains('\0'),
            Value::Array(items) => items.iter().any(holds_nul),
            Value::Object(map) => map.iter().any(|(key, value)| key.contains('\0') || holds_nul(value)),
            _ => false,
        }
    }
    if holds_nul(value) { Err(ApiError::parse("strings must not contain NUL characters")) } else { Ok(()) }
}

/// Around every request: a path naming something with a NUL in it
/// (`/v2/apps/%00`) names nothing (404, before any lookup), and a body
/// the HTTP layer refused as too large (413, plain text) gets the CF
/// error instead. The rest of a body left unread is read and dropped
/// after the answer, as nginx's lingering close does, so a client still
/// sending it reads the answer instead of a broken connection.
pub async fn checked(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.contains("%00") || path.contains('\0') {
        return ApiError::not_found().into_response();
    }
    let request = request.map(|body| axum::body::Body::new(DrainedOnDrop(Some(body))));
    let response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && response.extensions().get::<ApiError>().is_none() {
        return ApiError::too_large().into_response();
    }
    response
}

/// How much of an unread body is read and dropped, and for how long.
const LINGER_BYTES: usize = 64 * 1024 * 1024;
const LINGER_TIME: Duration = Duration::from_secs(30);

/// A request body that, dropped before its end, is read to its end (at
/// most [`LINGER_BYTES`] within [`LINGER_TIME`]) by a task of its own.
struct DrainedOnDrop(Option<axum::body::Body>);

impl hyper::body::Body for DrainedOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        match self.0.as_mut() {
            Some(body) => Pin::new(body).poll_frame(context),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(hyper::body::Body::is_end_stream)
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.0.as_ref().map(hyper::body::Body::size_hint).unwrap_or_default()
    }
}

impl Drop for DrainedOnDrop {
    fn drop(&mut self) {
        let Some(body) = self.0.take().filter(|body| !hyper::body::Body::is_end_stream(body)) else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            let mut stream = body.into_data_stream();
            let mut read = 0;
            let drained = async {
                while let Some(Ok(chunk)) = futures::StreamExt::next(&mut stream).await {
                    read += chunk.len();
                    if read > LINGER_BYTES {
                        return;
                    }
                }
            };
            let _ = tokio::time::timeout(LINGER_TIME, drained).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_refused_when_too_long_or_holding_control_characters() {
        assert_eq!(name_problem("my-app"), None);
        assert_eq!(name_problem(&"é".repeat(255)), None, "characters, not bytes");
        assert!(name_problem(&"a".repeat(256)).unwrap().contains("maximum is 255"));
        assert!(name_problem("a\u{7}b").unwrap().contains("escaped characters"));
        assert!(name_problem("tab\there").is_some());
    }

    #[test]
    fn a_nul_anywhere_is_refused() {
        assert!(without_nul(&json!({"name": "ok", "env": {"A": ["b", 1]}})).is_ok());
        assert!(without_nul(&json!({"name": "a\u{0}b"})).is_err());
        assert!(without_nul(&json!({"env": {"A\u{0}": "b"}})).is_err());
        assert!(without_nul(&json!([["x", "y\u{0}"]])).is_err());
    }
}
