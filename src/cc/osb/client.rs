//! Requests to a broker, as the OSB API says: basic auth,
//! `X-Broker-API-Version: 2.13`, and `X-Broker-API-Originating-Identity`
//! naming the CF user who asked. A broker that cannot be reached, is too
//! slow or refuses the credentials gives CF's error for that, with its URL;
//! what its status codes mean is up to each operation ([`super::requests`]).

use std::time::Duration;

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::catalog::Catalog;

pub const API_VERSION: &str = "2.13";

/// Where a broker is, how the CC signs in to it, and how long it may take
/// to answer (`broker_client_timeout_seconds`).
pub struct Broker<'a> {
    pub url: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    pub timeout: Duration,
}

/// A broker's answer: its status, its body as a JSON object when it was
/// one, and how long it asked the CC to wait before polling again.
pub struct Reply {
    pub url: String,
    pub status: StatusCode,
    pub body: Option<serde_json::Map<String, Value>>,
    pub text: String,
    pub retry_after: Option<Duration>,
}

/// Why a request got no answer at all.
pub enum NoReply {
    /// Too slow: the broker may still be doing it.
    Timeout(ApiError),
    Unreachable(ApiError),
}

impl NoReply {
    pub fn error(self) -> ApiError {
        match self {
            NoReply::Timeout(e) | NoReply::Unreachable(e) => e,
        }
    }
}

/// A broker URL as CF accepts it: http(s), a host, no credentials in it.
pub fn check_url(url: &str) -> ApiResult<()> {
    let parsed = url::Url::parse(url).map_err(|_| ApiError::new("ServiceBrokerUrlInvalid", &[url]))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ApiError::new("ServiceBrokerUrlInvalid", &[url]));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ApiError::new("ServiceBrokerUrlBasicAuthNotSupported", &[]));
    }
    Ok(())
}

impl Reply {
    /// CF's error for an answer the operation did not expect: a 4xx is the
    /// broker rejecting the request, anything else a bad response; the
    /// message is the broker's own `description` when it gave one.
    pub fn unexpected(&self) -> ApiError {
        let (url, status) = (&self.url, self.status);
        let body: String = self.text.chars().take(1000).collect();
        let (name, generic) = if status.is_client_error() {
            (
                "ServiceBrokerRequestRejected",
                format!("The service broker rejected the request to {url}. Status Code: {status}, Body: {body}"),
            )
        } else {
            (
                "ServiceBrokerBadResponse",
                format!(
                    "The service broker returned an invalid response for the request to {url}. Status Code: {status}, Body: {body}"
                ),
            )
        };
        let description = self.description().map(|d| format!("Service broker error: {d}"));
        let mut error = ApiError::broker(name, description.unwrap_or(generic));
        if status == StatusCode::CONFLICT {
            error.status = axum::http::StatusCode::CONFLICT;
        }
        error
    }

    /// The error for a success status whose body was not a JSON object.
    pub fn malformed(&self) -> ApiError {
        ApiError::broker(
            "ServiceBrokerResponseMalformed",
            format!(
                "The service broker returned an invalid response for the request to {}: expected valid JSON object in body",
                self.url
            ),
        )
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.body.as_ref()?.get(name)?.as_str()
    }

    fn description(&self) -> Option<&str> {
        self.field("description").filter(|d| !d.is_empty())
    }
}

impl Broker<'_> {
    /// `GET /v2/catalog`, checked.
    pub async fn catalog(&self, user_guid: &str) -> ApiResult<Catalog> {
        let reply = self.send(Method::GET, "/v2/catalog", None, user_guid).await.map_err(NoReply::error)?;
        if !reply.status.is_success() {
            return Err(reply.unexpected());
        }
        let body = reply.body.clone().ok_or_else(|| reply.malformed())?;
        Catalog::parse(&Value::Object(body))
    }

    /// One request; `path` includes its query.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>, user: &str) -> Result<Reply, NoReply> {
        let url = format!("{}{path}", self.url.trim_end_matches('/'));
        let identity = base64::engine::general_purpose::STANDARD.encode(json!({"user_id": user}).to_string());
        let mut request = reqwest::Client::new()
            .request(method, &url)
            .basic_auth(self.username, Some(self.password))
            .header("X-Broker-API-Version", API_VERSION)
            .header("X-Broker-API-Originating-Identity", format!("cloudfoundry {identity}"))
            .timeout(self.timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                NoReply::Timeout(ApiError::broker(
                    "ServiceBrokerApiTimeout",
                    format!("The request to the service broker timed out: {url}"),
                ))
            } else {
                NoReply::Unreachable(ApiError::broker(
                    "ServiceBrokerApiUnreachable",
                    format!("The service broker could not be reached: {url}"),
                ))
            }
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        if status == StatusCode::UNAUTHORIZED {
            return Err(NoReply::Unreachable(ApiError::broker(
                "ServiceBrokerApiAuthenticationFailed",
                format!(
                    "Authentication failed for the service broker API. Double-check that the username and password are correct: {url}"
                ),
            )));
        }
        let body = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
        Ok(Reply { url, status, body, text, retry_after })
    }
}
