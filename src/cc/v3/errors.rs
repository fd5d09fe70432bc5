//! Errors in v3's shape, `{"errors":[{"code","title","detail"}]}`, from
//! the same [`ApiError`]s v2 renders. v2 names a missing thing
//! (`AppNotFound`, 100004); v3 says `CF-ResourceNotFound` (10010) with
//! "App not found", which is what v3 clients test for.

use axum::Json;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::cc::error::ApiError;

/// The v3 body of an error.
pub fn body(error: &ApiError) -> Value {
    let (code, title, detail) = match error.name.strip_suffix("NotFound") {
        Some(thing) if !thing.is_empty() && error.status.as_u16() == 404 => {
            (10010, "CF-ResourceNotFound".to_string(), format!("{} not found", words(thing)))
        }
        _ if error.name == "ServerError" => (10001, "UnknownError".to_string(), error.description.clone()),
        _ => (error.code, format!("CF-{}", error.name), error.description.clone()),
    };
    json!({"errors": [{"code": code, "title": title, "detail": detail}]})
}

/// `ServiceInstance` → "Service instance".
fn words(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Re-renders every error answered under `/v3` (handlers', extractors'
/// and unknown paths') in v3's shape, with the same status.
pub async fn in_v3_shape(request: Request, next: Next) -> Response {
    let is_v3 = request.uri().path() == "/v3" || request.uri().path().starts_with("/v3/");
    let response = next.run(request).await;
    match response.extensions().get::<ApiError>() {
        Some(error) if is_v3 => (error.status, Json(body(error))).into_response(),
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_things_are_resource_not_found() {
        let v3 = body(&ApiError::new("ServiceInstanceNotFound", &["abc"]));
        assert_eq!(
            v3["errors"][0],
            json!({"code": 10010, "title": "CF-ResourceNotFound", "detail": "Service instance not found"})
        );
        let v3 = body(&ApiError::new("NotAuthorized", &[]));
        assert_eq!(v3["errors"][0]["title"], "CF-NotAuthorized");
        assert_eq!(v3["errors"][0]["code"], 10003);
        assert_eq!(body(&ApiError::not_found())["errors"][0]["title"], "CF-NotFound");
    }
}
