//! The console's only way into the platform: the CC's own HTTP API —
//! v3, UAA's token endpoint and Log Cache — called in process through the
//! router `cf` reaches, with the signed-in user's token. What a page shows
//! and what a button does pass the same permission checks, limits and
//! errors as the API, because they are API requests.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

/// The API answers at most this much to one console call (a page of 100
/// resources is far less); more is refused rather than held.
const MAX_ANSWER: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct Api {
    router: Router,
}

/// What went wrong, in the API's words: its status and its error's detail.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub detail: String,
}

impl Api {
    pub fn new(router: Router) -> Api {
        Api { router }
    }

    /// `method path` with `token`, a JSON body if given; the answer's JSON
    /// (null when it has none), or the API's refusal.
    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Result<Value, Refused> {
        let mut request =
            Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("bearer {token}"));
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).map_err(internal)?).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Result<Value, Refused> {
        self.call(Method::GET, path, token, None).await
    }

    /// `POST /oauth/token` as the cf client, with `form` (a grant).
    pub async fn token(&self, form: &[(&str, &str)]) -> Result<Value, Refused> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = Request::builder()
            .method(Method::POST)
            .uri("/oauth/token")
            // The cf client: its id with an empty secret, as the CLI sends it.
            .header(header::AUTHORIZATION, "Basic Y2Y6")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .map_err(internal)?;
        self.send(request).await
    }

    async fn send(&self, request: Request<Body>) -> Result<Value, Refused> {
        let response = self.router.clone().oneshot(request).await.map_err(internal)?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER).await.map_err(internal)?;
        let json: Value =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        if status.is_success() {
            return Ok(json);
        }
        Err(Refused { status, detail: detail(&json).unwrap_or_else(|| status.to_string()) })
    }
}

/// The message of an error in any of the API's shapes: v3's `errors`,
/// v2's `description`, UAA's `error_description`.
fn detail(json: &Value) -> Option<String> {
    let text = json["errors"][0]["detail"]
        .as_str()
        .or_else(|| json["description"].as_str())
        .or_else(|| json["error_description"].as_str())?;
    Some(text.to_string())
}

/// A failure of the console's own (not the API's): a 500 saying what.
pub fn internal(error: impl std::fmt::Display) -> Refused {
    Refused { status: StatusCode::INTERNAL_SERVER_ERROR, detail: error.to_string() }
}
