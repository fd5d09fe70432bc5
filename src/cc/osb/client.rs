//! Requests to a broker, as the OSB API says: basic auth,
//! `X-Broker-API-Version: 2.13`, and `X-Broker-API-Originating-Identity`
//! naming the CF user who asked. A broker that cannot be reached, is too
//! slow or refuses the credentials gives CF's error for that, with its URL
//! and why (refused, reset, DNS, TLS); what its status codes mean is up to
//! each operation ([`super::requests`]).
//!
//! A CC has one HTTP client for all brokers ([`http_client`]), which keeps
//! connections open between requests. A broker may close one it holds
//! idle just as the CC sends on it: a request whose connection could not
//! be made, or broke before any answer, is sent once more on a new one
//! (OSB requests may be repeated: a broker answers a repeated provision
//! or bind as the first). Brokers served over HTTPS must have a
//! certificate the CC trusts, unless `broker_skip_ssl_validation` (CF's
//! `skip_cert_verify`) is set.

use std::time::Duration;

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cc::error::{ApiError, ApiResult};
use crate::cc::metrics::{BrokerOutcome, METRICS};
use crate::cc::model::catalog::Catalog;
use crate::config::Config;

pub const API_VERSION: &str = "2.13";

/// Where a broker is, how the CC signs in to it, and the CC's client for
/// brokers that asks it.
pub struct Broker<'a> {
    pub url: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    pub http: &'a reqwest::Client,
}

/// Longest a connection to a broker may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection to a broker is kept open unused: shorter than
/// the idle timeouts of common servers (nginx's 75 s, Go's `http.Server`
/// behind most brokers), so the CC mostly closes first.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The CC's client for brokers: its connections are reused, a broker may
/// take `broker_client_timeout_seconds` to answer, and a certificate is
/// checked unless `broker_skip_ssl_validation`.
pub fn http_client(config: &Config) -> anyhow::Result<reqwest::Client> {
    let timeout = config.broker_timeout();
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .pool_idle_timeout(IDLE_TIMEOUT)
        .danger_accept_invalid_certs(config.broker_skip_ssl_validation)
        .build()?)
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

    /// One request; `path` includes its query. Sent again once when it
    /// failed before the broker could have seen it.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>, user: &str) -> Result<Reply, NoReply> {
        let url = format!("{}{path}", self.url.trim_end_matches('/'));
        let identity = base64::engine::general_purpose::STANDARD.encode(json!({"user_id": user}).to_string());
        let mut request = self
            .http
            .request(method, &url)
            .basic_auth(self.username, Some(self.password))
            .header("X-Broker-API-Version", API_VERSION)
            .header("X-Broker-API-Originating-Identity", format!("cloudfoundry {identity}"));
        if let Some(body) = body {
            request = request.json(body);
        }
        let again = request.try_clone();
        let response = match (request.send().await, again) {
            (Err(e), Some(again)) if unseen(&e) => {
                tracing::info!("sending {url} again on a new connection: {}", cause(&e));
                METRICS.broker_request(BrokerOutcome::Retried);
                again.send().await
            }
            (sent, _) => sent,
        };
        let response = response.map_err(|e| {
            let cause = cause(&e);
            if e.is_timeout() {
                METRICS.broker_request(BrokerOutcome::Timeout);
                NoReply::Timeout(ApiError::broker(
                    "ServiceBrokerApiTimeout",
                    format!("The request to the service broker timed out: {url}"),
                ))
            } else {
                METRICS.broker_request(BrokerOutcome::Unreachable);
                NoReply::Unreachable(ApiError::broker(
                    "ServiceBrokerApiUnreachable",
                    format!("The service broker could not be reached: {url}: {cause}"),
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
            METRICS.broker_request(BrokerOutcome::Unauthorized);
            return Err(NoReply::Unreachable(ApiError::broker(
                "ServiceBrokerApiAuthenticationFailed",
                format!(
                    "Authentication failed for the service broker API. Double-check that the username and password are correct: {url}"
                ),
            )));
        }
        METRICS.broker_request(BrokerOutcome::Answered);
        let body = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
        Ok(Reply { url, status, body, text, retry_after })
    }
}

/// Whether a request failed before the broker could have acted on it: no
/// connection was made, or the connection closed or was reset before any
/// answer (a broker closing a connection it held idle as the request went
/// out). A timeout is not: the broker may still be at it.
fn unseen(error: &reqwest::Error) -> bool {
    if error.is_timeout() {
        return false;
    }
    error.is_connect()
        || sources(error).any(|source| {
            source.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_incomplete_message)
                || source.downcast_ref::<std::io::Error>().is_some_and(|e| {
                    use std::io::ErrorKind::*;
                    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
                })
        })
}

/// Why a request failed, in the words of the layers below reqwest (the
/// connection's, DNS's, TLS's): `tcp connect error: Connection refused`,
/// `invalid peer certificate: UnknownIssuer`...
fn cause(error: &reqwest::Error) -> String {
    let mut causes: Vec<String> = sources(error).map(ToString::to_string).collect();
    // Each layer may repeat the one below it.
    causes.dedup();
    if causes.is_empty() { error.to_string() } else { causes.join(": ") }
}

/// The errors beneath `error`, outermost first.
fn sources<'a>(error: &'a reqwest::Error) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(std::error::Error::source(error), |e| e.source())
}
