//! v3 request bodies: JSON objects whose unknown fields are refused, and
//! whose wrong values are UnprocessableEntity (422) naming the field, as
//! CF's v3 message classes answer.

use serde_json::{Map, Value};

use crate::cc::api::input;
use crate::cc::error::{ApiError, ApiResult};

pub struct Body(pub Map<String, Value>);

pub fn invalid(detail: &str) -> ApiError {
    ApiError::new("UnprocessableEntity", &[detail])
}

impl Body {
    /// The body, taking only `allowed` fields.
    pub fn parse(bytes: &[u8], allowed: &[&str]) -> ApiResult<Body> {
        let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(bytes).map_err(|e| ApiError::new("MessageParseError", &[&e.to_string()]))?
        };
        input::without_nul(&value)?;
        let Value::Object(map) = value else {
            return Err(ApiError::new("MessageParseError", &["the body must be a JSON object"]));
        };
        let unknown: Vec<String> =
            map.keys().filter(|k| !allowed.contains(&k.as_str())).map(|k| format!("'{k}'")).collect();
        if !unknown.is_empty() {
            return Err(invalid(&format!("Unknown field(s): {}", unknown.join(", "))));
        }
        Ok(Body(map))
    }

    /// The value at a `/`-separated path, if there is one and it is not null.
    pub fn at(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('/');
        let mut value = self.0.get(parts.next()?)?;
        for part in parts {
            value = value.get(part)?;
        }
        Some(value).filter(|v| !v.is_null())
    }

    /// A string field, if given; `Label` names it in the error. A `name`
    /// is checked as CCNG checks names.
    pub fn string(&self, path: &str, label: &str) -> ApiResult<Option<String>> {
        match self.at(path) {
            None => Ok(None),
            Some(Value::String(s)) => match input::name_problem(s).filter(|_| path == "name") {
                Some(problem) => Err(invalid(&format!("{label} {problem}"))),
                None => Ok(Some(s.clone())),
            },
            Some(_) => Err(invalid(&format!("{label} must be a string"))),
        }
    }

    /// An integer field of at least `min`, if given.
    pub fn int(&self, path: &str, label: &str, min: i64) -> ApiResult<Option<i64>> {
        match self.at(path) {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) if n >= min => Ok(Some(n)),
                Some(_) => Err(invalid(&format!("{label} must be greater than or equal to {min}"))),
                None => Err(invalid(&format!("{label} must be an integer"))),
            },
        }
    }

    /// A JSON object of string values (environment variables), as JSON text.
    pub fn env(&self, path: &str) -> ApiResult<Option<Map<String, Value>>> {
        match self.at(path) {
            None => Ok(None),
            Some(Value::Object(vars)) => {
                if let Some((key, _)) =
                    vars.iter().find(|(k, _)| k.starts_with("VCAP_") || k.is_empty() || k.as_str() == "PORT")
                {
                    return Err(invalid(&format!(
                        "Environment variables cannot start with VCAP_ or be PORT or empty: {key}"
                    )));
                }
                Ok(Some(vars.clone()))
            }
            Some(_) => Err(invalid("Environment variables must be an object")),
        }
    }
}
