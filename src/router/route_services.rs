//! Route services, as gorouter runs them: a request for a route bound to a
//! route service goes to the service's url first, with
//! `X-CF-Forwarded-Url` (where it was going), `X-CF-Proxy-Signature` and
//! `X-CF-Proxy-Metadata`. The service does its work (authentication, rate
//! limiting, logging…) and sends the request on to the forwarded url with
//! both headers; the router checks the signature — its own, for that url,
//! at most [`SIGNATURE_LIFETIME`] old — and sends that request to the app.
//! Routers that share `route_services_secret` accept each other's
//! signatures; without one, each router signs with a key of its own.

use std::time::Duration;

use futures::TryStreamExt;
use http_body_util::{BodyDataStream, BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{HOST, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{ProxyBody, ResponseBody, text};

/// How long a signed request may take to come back from the route service.
pub const SIGNATURE_LIFETIME: Duration = Duration::from_secs(60);
pub const FORWARDED_URL: &str = "x-cf-forwarded-url";
pub const SIGNATURE: &str = "x-cf-proxy-signature";
pub const METADATA: &str = "x-cf-proxy-metadata";

/// What a signature vouches for.
#[derive(Serialize, Deserialize)]
struct Signed {
    forwarded_url: String,
    /// When it expires (seconds since the epoch).
    exp: u64,
}

pub struct RouteServices {
    encoding: EncodingKey,
    decoding: DecodingKey,
    client: reqwest::Client,
}

impl RouteServices {
    /// Signing with `secret`, or with a key of this router's own.
    pub fn new(secret: Option<&str>) -> RouteServices {
        let own = uuid::Uuid::new_v4().to_string();
        let secret = secret.filter(|s| !s.is_empty()).unwrap_or(&own).as_bytes();
        RouteServices {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            // Redirects are the client's to follow, as the route service sent them.
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default(),
        }
    }

    /// Whether the request comes back from a route service: signed by us,
    /// for the url it asks for, in time.
    pub fn came_back(&self, headers: &HeaderMap, url: &str) -> bool {
        let Some(signature) = headers.get(SIGNATURE).and_then(|v| v.to_str().ok()) else { return false };
        let validation = Validation::new(Algorithm::HS256);
        jsonwebtoken::decode::<Signed>(signature, &self.decoding, &validation)
            .is_ok_and(|signed| signed.claims.forwarded_url == url)
    }

    /// Sends the request to the route service at `service`, signed for
    /// `url`, and answers with what the service answers.
    pub async fn send_through(
        &self,
        mut request: Request<ProxyBody>,
        service: &str,
        url: &str,
        request_id: &str,
    ) -> Response<ResponseBody> {
        let exp = chrono::Utc::now().timestamp().max(0) as u64 + SIGNATURE_LIFETIME.as_secs();
        let signed = Signed { forwarded_url: url.to_string(), exp };
        let Ok(signature) = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &signed, &self.encoding) else {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500: the route service request could not be signed\n".into(),
            );
        };
        let headers = request.headers_mut();
        headers.remove(HOST);
        strip_hop_by_hop(headers);
        for (name, value) in [(FORWARDED_URL, url), (SIGNATURE, &signature), (METADATA, request_id)] {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        let (parts, body) = request.into_parts();
        let body = reqwest::Body::wrap_stream(BodyDataStream::new(body));
        let sent = self.client.request(parts.method, service).headers(parts.headers).body(body).send().await;
        match sent {
            Ok(answer) => {
                let mut response = Response::builder().status(answer.status());
                if let Some(headers) = response.headers_mut() {
                    *headers = answer.headers().clone();
                    strip_hop_by_hop(headers);
                }
                let stream = answer.bytes_stream().map_ok(Frame::data).map_err(|e| e.into());
                let body: ResponseBody = BodyExt::boxed_unsync(StreamBody::new(stream));
                response.body(body).unwrap_or_else(|_| failed(service))
            }
            Err(e) => {
                tracing::debug!("route service {service}: {e}");
                failed(service)
            }
        }
    }
}

/// Headers about one connection, which a proxy does not pass on (RFC 9110).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"] {
        headers.remove(name);
    }
}

/// 502 when the route service does not answer, as gorouter's.
fn failed(service: &str) -> Response<ResponseBody> {
    let mut response =
        text(StatusCode::BAD_GATEWAY, format!("502 Bad Gateway: the route service at {service} did not answer.\n"));
    response.headers_mut().insert("x-cf-routererror", HeaderValue::from_static("endpoint_failure"));
    response
}

/// The url a request asked for, as `X-CF-Forwarded-Url` carries it.
pub fn requested_url(headers: &HeaderMap, host: &str, path_and_query: &str) -> String {
    let proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("http");
    format!("{proto}://{host}{path_and_query}")
}
