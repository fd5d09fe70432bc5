//! Signing in to the console. The username and password go to UAA's
//! password grant (through [`Api`], as `cf login` sends them); the refresh
//! token it answers is kept in an HttpOnly, SameSite=Strict cookie scoped
//! to `/console` (Secure when the CC serves TLS). Each console request
//! exchanges it for an access token, so a role taken away, a user deleted
//! or locked out counts from the next page on. Signing out clears it.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use serde_json::Value;

use super::Console;
use super::api::Api;

const COOKIE: &str = "wf_console";

/// The signed-in user of a console request.
pub struct Session {
    /// An access token for the API, fresh for this request.
    pub token: String,
    pub user_name: String,
    pub admin: bool,
}

impl Session {
    /// The user whose refresh token `headers` carry, if it is still good.
    pub async fn of(api: &Api, headers: &HeaderMap) -> Option<Session> {
        let refresh = cookie(headers, COOKIE)?;
        let answer = api.token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await.ok()?;
        let token = answer["access_token"].as_str()?.to_string();
        let claims = claims(&token)?;
        let admin = claims["scope"].as_array()?.iter().any(|s| s == crate::cc::auth::ADMIN_SCOPE);
        Some(Session { user_name: claims["user_name"].as_str()?.to_string(), admin, token })
    }
}

/// A request not signed in goes to the sign-in page.
impl FromRequestParts<Console> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Session, Response> {
        Session::of(&console.api, &parts.headers).await.ok_or_else(|| Redirect::to("/console/login").into_response())
    }
}

/// The `Set-Cookie` value that keeps `refresh_token` (or, with None,
/// clears it).
pub fn cookie_keeping(refresh_token: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match refresh_token {
        Some(token) => format!(
            "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            crate::cc::auth::REFRESH_TOKEN_SECONDS
        ),
        None => format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('=').map(str::to_string))
        .filter(|value| !value.is_empty())
}

/// The claims of a token the CC just issued (read, not verified: the API
/// verifies it on every call).
fn claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}
