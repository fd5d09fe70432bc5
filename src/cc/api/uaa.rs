//! UAA's token endpoint, `POST /oauth/token`: the password and
//! refresh_token grants for the `cf` client (empty secret, HTTP Basic or
//! form fields). Errors are OAuth2's (`{"error": …}`), not CF's.

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use crate::cc::Cc;
use crate::cc::auth::{ACCESS_TOKEN_SECONDS, authenticate, find_user};

/// The one OAuth client: the cf CLI's.
const CLIENT: &str = "cf";

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, axum::Json(json!({"error": error, "error_description": description}))).into_response()
}

/// The client credentials from `Authorization: Basic` or the form.
fn client_of(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    if let Some(basic) =
        headers.get("authorization").and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_string(), secret.to_string()));
    }
    let id = form.get("client_id")?;
    Some((id.clone(), form.get("client_secret").cloned().unwrap_or_default()))
}

pub async fn token(State(cc): State<Cc>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    match client_of(&headers, &form) {
        Some((id, secret)) if id == CLIENT && secret.is_empty() => {}
        _ => return oauth_error(StatusCode::UNAUTHORIZED, "unauthorized", "Bad credentials"),
    }
    let user = match form.get("grant_type").map(String::as_str) {
        Some("password") => {
            let (Some(username), Some(password)) = (form.get("username"), form.get("password")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "username and password are required");
            };
            match authenticate(&cc.db, username, password).await {
                Ok(Some(user)) => user,
                Ok(None) => return oauth_error(StatusCode::UNAUTHORIZED, "unauthorized", "Bad credentials"),
                Err(e) => return crate::cc::error::ApiError::from(e).into_response(),
            }
        }
        Some("refresh_token") => {
            let claims = form.get("refresh_token").and_then(|t| cc.tokens.verify(t, true));
            let Some(claims) = claims else {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "Invalid refresh token");
            };
            match find_user(&cc.db, &claims.user_id).await {
                Ok(Some(user)) => user,
                Ok(None) => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "The user no longer exists"),
                Err(e) => return crate::cc::error::ApiError::from(e).into_response(),
            }
        }
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("Unsupported grant type: {other}"),
            );
        }
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing grant type"),
    };
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    match cc.tokens.issue(&user, &grant) {
        Ok(tokens) => axum::Json(json!({
            "access_token": tokens.access_token,
            "token_type": "bearer",
            "refresh_token": tokens.refresh_token,
            "expires_in": ACCESS_TOKEN_SECONDS - 1,
            "scope": tokens.scope.join(" "),
            "jti": tokens.jti,
        }))
        .into_response(),
        Err(e) => crate::cc::error::ApiError::from(e).into_response(),
    }
}
