//! The one error type of the CC API, rendered as CF's v2 error body
//! `{"code":N,"description":"…","error_code":"CF-Name"}` with the HTTP status
//! CF uses. Codes, names, statuses and messages come from CF's own
//! errors-v2.yml, embedded, so every error a handler raises is CF's.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub name: String,
    pub description: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Deserialize)]
struct ErrorDef {
    name: String,
    http_code: u16,
    message: String,
}

fn definitions() -> &'static HashMap<String, (u32, ErrorDef)> {
    static DEFS: OnceLock<HashMap<String, (u32, ErrorDef)>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let by_code: HashMap<u32, ErrorDef> =
            serde_yaml::from_str(include_str!("errors-v2.yml")).expect("errors-v2.yml is valid");
        let mut by_name: HashMap<String, (u32, ErrorDef)> =
            by_code.into_iter().map(|(code, def)| (def.name.clone(), (code, def))).collect();
        // Things only v3 has, which CCNG reports as ResourceNotFound (10010).
        for thing in [
            "Package",
            "Build",
            "Droplet",
            "Role",
            "Task",
            "Process",
            "ServiceCredentialBinding",
            "Revision",
            "Deployment",
            "ServiceRouteBinding",
        ] {
            let name = format!("{thing}NotFound");
            let message = format!("The {} could not be found: %s", thing.to_ascii_lowercase());
            by_name.insert(name.clone(), (10010, ErrorDef { name, http_code: 404, message }));
        }
        by_name
    })
}

impl ApiError {
    /// The CF error called `name`, its message's `%s`s filled from `args` in order.
    pub fn new(name: &str, args: &[&str]) -> ApiError {
        let Some((code, def)) = definitions().get(name) else {
            tracing::error!("unknown CF error name {name}");
            return ApiError::server_error();
        };
        let mut description = String::new();
        let mut args = args.iter();
        let mut parts = def.message.split("%s").peekable();
        while let Some(part) = parts.next() {
            description.push_str(part);
            if parts.peek().is_some() {
                description.push_str(args.next().copied().unwrap_or(""));
            }
        }
        ApiError {
            status: StatusCode::from_u16(def.http_code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: *code,
            name: def.name.clone(),
            description,
        }
    }

    pub fn server_error() -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: 10001,
            name: "ServerError".into(),
            description: "Server error".into(),
        }
    }

    /// A failure talking to a service broker, as CF reports them: not in
    /// errors-v2.yml but raised by its broker client with code 10001 and 502
    /// (ServiceBrokerApiUnreachable, ServiceBrokerApiTimeout,
    /// ServiceBrokerApiAuthenticationFailed, ServiceBrokerBadResponse,
    /// ServiceBrokerResponseMalformed).
    pub fn broker(name: &str, description: String) -> ApiError {
        ApiError { status: StatusCode::BAD_GATEWAY, code: 10001, name: name.into(), description }
    }

    /// A request body past its limit. CF's nginx answers these before the
    /// CC sees them, so errors-v2.yml has no entry: this is one in CF's
    /// shape, with HTTP's status.
    pub fn too_large() -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: 10001,
            name: "RequestEntityTooLarge".into(),
            description: "The request body is larger than this endpoint accepts".into(),
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new("NotFound", &[])
    }

    pub fn parse(reason: impl std::fmt::Display) -> ApiError {
        ApiError::new("MessageParseError", &[&reason.to_string()])
    }
}

/// Rendered in v2's shape; the response carries the error itself too, so
/// that the v3 API renders it in its own (`crate::cc::v3::errors`).
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "code": self.code,
            "description": self.description,
            "error_code": format!("CF-{}", self.name),
        });
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Unexpected failures (database down, blobstore unreachable) are logged
/// with their cause and answered as CF's ServerError, never a panic.
impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        tracing::error!("server error: {error:#}");
        ApiError::server_error()
    }
}

/// Maps a unique-constraint violation to the resource's Taken error
/// (AppNameTaken, RouteHostTaken…); other database errors stay server errors.
pub fn taken_or(error: sqlx::Error, taken: &str, what: &str) -> ApiError {
    match error.as_database_error() {
        Some(db) if db.is_unique_violation() => ApiError::new(taken, &[what]),
        _ => ApiError::from(error),
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::from(anyhow::Error::from(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_come_from_cf_definitions() {
        let e = ApiError::new("AppNotFound", &["abc"]);
        assert_eq!((e.code, e.status.as_u16()), (100004, 404));
        assert_eq!(e.description, "The app could not be found: abc");
        let e = ApiError::new("InvalidAuthToken", &[]);
        assert_eq!((e.code, e.status.as_u16()), (1000, 401));
    }
}
