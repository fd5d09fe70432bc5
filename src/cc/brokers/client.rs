//! Requests to a broker, as the OSB API says: basic auth,
//! `X-Broker-API-Version: 2.13`, and `X-Broker-API-Originating-Identity`
//! naming the CF user who asked. A broker that cannot be reached, is too
//! slow, refuses the credentials, fails, or answers something other than a
//! JSON object gives CF's error for that, with its URL and status.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::catalog::Catalog;
use crate::cc::error::{ApiError, ApiResult};

pub const API_VERSION: &str = "2.13";
/// How long a broker may take to answer (CF's `broker_client_timeout_seconds`).
const TIMEOUT: Duration = Duration::from_secs(60);

/// Where a broker is and how the CC signs in to it.
pub struct Broker<'a> {
    pub url: &'a str,
    pub username: &'a str,
    pub password: &'a str,
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

impl Broker<'_> {
    /// `GET /v2/catalog`, checked.
    pub async fn catalog(&self, user_guid: &str) -> ApiResult<Catalog> {
        Catalog::parse(&self.get("/v2/catalog", user_guid).await?)
    }

    async fn get(&self, path: &str, user_guid: &str) -> ApiResult<Value> {
        let url = format!("{}{path}", self.url.trim_end_matches('/'));
        let identity = base64::engine::general_purpose::STANDARD.encode(json!({"user_id": user_guid}).to_string());
        let response = reqwest::Client::new()
            .get(&url)
            .basic_auth(self.username, Some(self.password))
            .header("X-Broker-API-Version", API_VERSION)
            .header("X-Broker-API-Originating-Identity", format!("cloudfoundry {identity}"))
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    ApiError::broker(
                        "ServiceBrokerApiTimeout",
                        format!("The request to the service broker timed out: {url}"),
                    )
                } else {
                    ApiError::broker(
                        "ServiceBrokerApiUnreachable",
                        format!("The service broker could not be reached: {url}"),
                    )
                }
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(ApiError::broker(
                "ServiceBrokerApiAuthenticationFailed",
                format!(
                    "Authentication failed for the service broker API. Double-check that the username and password are correct: {url}"
                ),
            ));
        }
        if !status.is_success() {
            let body: String = text.chars().take(1000).collect();
            return Err(ApiError::broker(
                "ServiceBrokerBadResponse",
                format!(
                    "The service broker returned an invalid response for the request to {url}. Status Code: {status}, Body: {body}"
                ),
            ));
        }
        serde_json::from_str::<Value>(&text).ok().filter(Value::is_object).ok_or_else(|| {
            ApiError::broker(
                "ServiceBrokerResponseMalformed",
                format!("The service broker returned an invalid response for the request to {url}: expected valid JSON object in body"),
            )
        })
    }
}
