//! UAA's token endpoint, `POST /oauth/token`: the password and
//! refresh_token grants for the `cf` client (empty secret, HTTP Basic or
//! form fields), with UAA's account lockout ([`lockout`]); and the SCIM
//! user endpoints the cf CLI calls (create, find, delete, unlock). Errors
//! are OAuth2's and SCIM's (`{"error": …}`), not CF's.

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use crate::cc::Cc;
use crate::cc::api::input;
use crate::cc::auth::{ACCESS_TOKEN_SECONDS, CurrentUser, User, authenticate, find_user};
use crate::cc::error::ApiResult;
use crate::cc::model::lockout::{self, LockoutPolicy};

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
            match password_login(&cc, username, password).await {
                Ok(Ok(user)) => user,
                Ok(Err(refused)) => return refused,
                Err(e) => return e.into_response(),
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

/// The user these credentials are, or the answer refusing them: a locked
/// account is refused before its password is checked, and a wrong
/// password counts towards the lockout.
async fn password_login(cc: &Cc, username: &str, password: &str) -> ApiResult<Result<User, Response>> {
    // No user's name or password holds a NUL (nor could the CCDB look one up).
    if username.contains('\0') || password.contains('\0') {
        return Ok(Err(oauth_error(StatusCode::UNAUTHORIZED, "unauthorized", "Bad credentials")));
    }
    if lockout::is_locked(&cc.db, username).await? {
        return Ok(Err(oauth_error(StatusCode::UNAUTHORIZED, "unauthorized", LOCKED)));
    }
    match authenticate(&cc.db, username, password).await? {
        Some(user) => {
            lockout::succeeded(&cc.db, username).await?;
            Ok(Ok(user))
        }
        None => {
            lockout::failed(&cc.db, username, LockoutPolicy::of(&cc.config)).await?;
            Ok(Err(oauth_error(StatusCode::UNAUTHORIZED, "unauthorized", "Bad credentials")))
        }
    }
}

/// UAA's words for a locked account.
const LOCKED: &str = "Your account has been locked because of too many failed attempts to login.";

fn scim_error(status: StatusCode, error: &str, message: &str) -> Response {
    (status, axum::Json(json!({"error": error, "message": message}))).into_response()
}

/// UAA's `POST /Users` (SCIM), as `cf create-user` calls it; admins only.
pub async fn create_user(State(cc): State<Cc>, user: CurrentUser, body: axum::body::Bytes) -> Response {
    if !user.user.admin {
        return scim_error(StatusCode::FORBIDDEN, "access_denied", "Only admins may create users");
    }
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return scim_error(StatusCode::BAD_REQUEST, "invalid_scim_resource", "The body must be a JSON SCIM user");
    };
    let username = request["userName"].as_str().unwrap_or_default().trim();
    let password = request["password"].as_str().unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        return scim_error(StatusCode::BAD_REQUEST, "invalid_password", "userName and password are required");
    }
    if let Some(problem) = input::name_problem(username) {
        return scim_error(StatusCode::BAD_REQUEST, "invalid_scim_resource", &format!("userName {problem}"));
    }
    if password.contains('\0') {
        return scim_error(StatusCode::BAD_REQUEST, "invalid_password", "The password must not contain NUL characters");
    }
    match crate::cc::auth::create_user(&cc.db, username, password, false).await {
        Ok(created) => (
            StatusCode::CREATED,
            axum::Json(json!({
                "id": created.guid,
                "userName": created.username,
                "emails": [{"value": created.email, "primary": true}],
                "active": true,
                "verified": true,
                "origin": "uaa",
                "zoneId": "uaa",
                "schemas": ["urn:scim:schemas:core:1.0"],
                "meta": {"version": 0, "created": crate::cc::now(), "lastModified": crate::cc::now()},
            })),
        )
            .into_response(),
        Err(e)
            if e.downcast_ref::<sqlx::Error>()
                .and_then(|d| d.as_database_error())
                .is_some_and(|d| d.is_unique_violation()) =>
        {
            scim_error(
                StatusCode::CONFLICT,
                "scim_resource_already_exists",
                &format!("Username already in use: {username}"),
            )
        }
        Err(e) => crate::cc::error::ApiError::from(e).into_response(),
    }
}

/// UAA's `GET /Users?filter=userName eq "…"` (SCIM), as the cf CLI looks
/// users up by name; admins only.
pub async fn find_users(
    State(cc): State<Cc>,
    user: CurrentUser,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    if !user.user.admin {
        return scim_error(StatusCode::FORBIDDEN, "access_denied", "Only admins may list users");
    }
    // The one filter clients send: userName eq "name" (operators are case-insensitive).
    let wanted = query.get("filter").and_then(|f| {
        let (field, rest) = f.trim().split_once(' ')?;
        let (op, value) = rest.trim().split_once(' ')?;
        (field.eq_ignore_ascii_case("userName") && op.eq_ignore_ascii_case("eq"))
            .then(|| value.trim().trim_matches('"').to_string())
    });
    if wanted.as_deref().is_some_and(|name| name.contains('\0')) {
        return scim_error(StatusCode::BAD_REQUEST, "invalid_filter", "The filter must not contain NUL characters");
    }
    let logins = match crate::cc::model::user::logins(&cc.db, wanted.as_deref()).await {
        Ok(logins) => logins,
        Err(e) => return e.into_response(),
    };
    let resources: Vec<serde_json::Value> =
        logins.iter().map(|login| json!({"id": login.guid, "userName": login.username, "origin": "uaa"})).collect();
    axum::Json(json!({
        "resources": resources,
        "startIndex": 1,
        "itemsPerPage": resources.len().max(1),
        "totalResults": resources.len(),
        "schemas": ["urn:scim:schemas:core:1.0"],
    }))
    .into_response()
}

/// UAA's `DELETE /Users/:id` (admins): the login goes, and every role with it.
pub async fn delete_user(
    State(cc): State<Cc>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    if !user.user.admin {
        return scim_error(StatusCode::FORBIDDEN, "access_denied", "Only admins may delete users");
    }
    if id == user.user.guid {
        return scim_error(StatusCode::BAD_REQUEST, "invalid_request", "Admins cannot delete themselves");
    }
    let deleted = crate::cc::membership::delete_login(&cc, &user, &id);
    match deleted.await {
        Ok(Some(name)) => {
            axum::Json(json!({"id": id, "userName": name, "origin": "uaa", "schemas": ["urn:scim:schemas:core:1.0"]}))
                .into_response()
        }
        Ok(None) => scim_error(StatusCode::NOT_FOUND, "scim_resource_not_found", &format!("User {id} does not exist")),
        Err(e) => e.into_response(),
    }
}

/// UAA's `PATCH /Users/:id/status` `{"locked": false}` (admins): unlocks an
/// account locked by failed logins. As in UAA, an account cannot be locked
/// this way.
pub async fn user_status(
    State(cc): State<Cc>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if !user.user.admin {
        return scim_error(StatusCode::FORBIDDEN, "access_denied", "Only admins may change a user's status");
    }
    let Ok(status) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return scim_error(StatusCode::BAD_REQUEST, "invalid_scim_resource", "The body must be a JSON user status");
    };
    match status.get("locked") {
        Some(serde_json::Value::Bool(false)) => {}
        Some(serde_json::Value::Bool(true)) => {
            let why = "Cannot set user account to locked. User accounts only become locked through exceeding the \
                       allowed failed login attempts.";
            return scim_error(StatusCode::BAD_REQUEST, "invalid_scim_resource", why);
        }
        _ => return scim_error(StatusCode::BAD_REQUEST, "invalid_scim_resource", "locked must be false"),
    }
    match lockout::unlock(&cc.db, &id).await {
        Ok(true) => axum::Json(json!({"locked": false})).into_response(),
        Ok(false) => scim_error(StatusCode::NOT_FOUND, "scim_resource_not_found", &format!("User {id} does not exist")),
        Err(e) => e.into_response(),
    }
}
