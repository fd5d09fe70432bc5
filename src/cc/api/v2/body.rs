//! Request bodies, read the way CF reads them: anything that is not JSON is
//! a MessageParseError (1001); a field of the wrong type is the resource's
//! own Invalid error (AppInvalid, RouteInvalid…); unknown fields are ignored.

use serde_json::{Map, Value};

use crate::cc::api::input;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::sql::{Assignments, SqlValue};

pub struct Body {
    map: Map<String, Value>,
    /// The resource's Invalid error name, e.g. `AppInvalid`.
    invalid: &'static str,
}

impl Body {
    pub fn parse(bytes: &[u8], invalid: &'static str) -> ApiResult<Body> {
        let value: Value = serde_json::from_slice(bytes).map_err(ApiError::parse)?;
        input::without_nul(&value)?;
        match value {
            Value::Object(map) => Ok(Body { map, invalid }),
            _ => Err(ApiError::parse("the body must be a JSON object")),
        }
    }

    /// The request as audit events record it: env values hidden, as CF does.
    pub fn redacted(&self) -> Value {
        let mut map = self.map.clone();
        if map.contains_key("environment_json") {
            map.insert("environment_json".into(), Value::String("[PRIVATE DATA HIDDEN]".into()));
        }
        Value::Object(map)
    }

    pub fn invalid(&self, reason: &str) -> ApiError {
        ApiError::new(self.invalid, &[reason])
    }

    /// Absent → `None`; present (even `null`) → `Some`, checked by `read`.
    fn field<T>(&self, key: &str, expected: &str, read: impl Fn(&Value) -> Option<T>) -> ApiResult<Option<Option<T>>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(value) => {
                read(value).map(|v| Some(Some(v))).ok_or_else(|| self.invalid(&format!("{key} must be {expected}")))
            }
        }
    }

    /// A string that may be set to `null` to clear it.
    pub fn nullable_string(&self, key: &str) -> ApiResult<Option<Option<String>>> {
        self.field(key, "a string", |v| v.as_str().map(str::to_string))
    }

    /// A string field; a `name` is checked as CCNG checks names.
    pub fn string(&self, key: &str) -> ApiResult<Option<String>> {
        let value = self.nullable_string(key)?.flatten();
        if let Some(problem) = value.as_deref().filter(|_| key == "name").and_then(input::name_problem) {
            return Err(self.invalid(&format!("name {problem}")));
        }
        Ok(value)
    }

    /// Reads a string field and, when the request has it, sets the column
    /// of the same name; returns it.
    pub fn set_text(&self, update: &mut Assignments, column: &'static str) -> ApiResult<Option<String>> {
        let value = self.string(column)?;
        if let Some(v) = &value {
            update.set(column, SqlValue::Text(Some(v.clone())));
        }
        Ok(value)
    }

    pub fn required_string(&self, key: &str) -> ApiResult<String> {
        self.string(key)?.filter(|s| !s.is_empty()).ok_or_else(|| self.invalid(&format!("{key} is required")))
    }

    pub fn nullable_int(&self, key: &str) -> ApiResult<Option<Option<i64>>> {
        self.field(key, "an integer", Value::as_i64)
    }

    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        Ok(self.nullable_int(key)?.flatten())
    }

    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        Ok(self.field(key, "a boolean", Value::as_bool)?.flatten())
    }

    /// A field as sent, whatever its type.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// An array of strings (e.g. guids).
    pub fn strings(&self, key: &str) -> ApiResult<Option<Vec<String>>> {
        let read = |v: &Value| v.as_array()?.iter().map(|s| s.as_str().map(str::to_string)).collect();
        Ok(self.field(key, "an array of strings", read)?.flatten())
    }

    pub fn object(&self, key: &str) -> ApiResult<Option<Map<String, Value>>> {
        Ok(self.field(key, "an object", |v| v.as_object().cloned())?.flatten())
    }
}
