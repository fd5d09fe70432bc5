//! Metadata (v3): labels and annotations on any resource, kept by the
//! resource's guid. Labels are short and selectable
//! (`label_selector=env=prod,tier in (web,api)`); annotations hold longer
//! notes. Keys are `[prefix/]name` as in Kubernetes, which CF copied.

use std::collections::HashMap;

use serde_json::{Value, json};
use sqlx::{AnyPool, Row};

use super::sql::Condition;
use crate::cc::error::{ApiError, ApiResult};

const LABEL: &str = "label";
const ANNOTATION: &str = "annotation";
/// Most labels or annotations one resource may have.
const MAX_PER_RESOURCE: usize = 100;

/// The labels and annotations of each of `guids` that has any.
pub async fn of(db: &AnyPool, guids: &[String]) -> ApiResult<HashMap<String, Value>> {
    let mut found: HashMap<String, Value> = HashMap::new();
    if guids.is_empty() {
        return Ok(found);
    }
    let marks: Vec<String> = (1..=guids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT resource_guid, kind, name, value FROM resource_metadata WHERE resource_guid IN ({}) ORDER BY name",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for guid in guids {
        query = query.bind(guid);
    }
    for row in query.fetch_all(db).await? {
        let guid: String = row.try_get("resource_guid")?;
        let kind: String = row.try_get("kind")?;
        let entry = found.entry(guid).or_insert_with(empty);
        let group = if kind == LABEL { "labels" } else { "annotations" };
        entry[group][row.try_get::<String, _>("name")?] = Value::String(row.try_get("value")?);
    }
    Ok(found)
}

/// A resource's metadata when it has none.
pub fn empty() -> Value {
    json!({"labels": {}, "annotations": {}})
}

/// Applies a request's `metadata` (`{"labels": {k: v|null}, "annotations": …}`):
/// a value sets the key, null removes it. Checked whole before anything is stored.
pub async fn update(db: &AnyPool, guid: &str, patch: &Value) -> ApiResult<()> {
    if patch.is_null() {
        return Ok(());
    }
    let groups = patch.as_object().ok_or_else(|| invalid("metadata must be an object"))?;
    let mut changes = Vec::new();
    for (group, kind) in [("labels", LABEL), ("annotations", ANNOTATION)] {
        let Some(entries) = groups.get(group).filter(|v| !v.is_null()) else { continue };
        let entries = entries.as_object().ok_or_else(|| invalid(&format!("{group} must be an object")))?;
        for (key, value) in entries {
            check_key(key)?;
            let value = match value {
                Value::Null => None,
                Value::String(text) => Some(check_value(kind, text)?),
                _ => return Err(invalid(&format!("Metadata {kind} value for '{key}' must be a string or null"))),
            };
            changes.push((kind, key.clone(), value));
        }
    }
    if let Some(extra) = groups.keys().find(|k| *k != "labels" && *k != "annotations") {
        return Err(invalid(&format!("Unknown field(s): '{extra}'")));
    }
    for (kind, name, value) in changes {
        sqlx::query("DELETE FROM resource_metadata WHERE resource_guid = $1 AND kind = $2 AND name = $3")
            .bind(guid)
            .bind(kind)
            .bind(&name)
            .execute(db)
            .await?;
        if let Some(value) = value {
            sqlx::query("INSERT INTO resource_metadata (resource_guid, kind, name, value) VALUES ($1, $2, $3, $4)")
                .bind(guid)
                .bind(kind)
                .bind(&name)
                .bind(value)
                .execute(db)
                .await?;
        }
    }
    for kind in [LABEL, ANNOTATION] {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM resource_metadata WHERE resource_guid = $1 AND kind = $2")
                .bind(guid)
                .bind(kind)
                .fetch_one(db)
                .await?;
        if count as usize > MAX_PER_RESOURCE {
            return Err(invalid(&format!("Failed to add {kind}s: exceeded the limit of {MAX_PER_RESOURCE} {kind}s")));
        }
    }
    Ok(())
}

/// Removes a deleted resource's metadata.
pub async fn forget(db: &AnyPool, guid: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM resource_metadata WHERE resource_guid = $1").bind(guid).execute(db).await?;
    Ok(())
}

fn invalid(detail: &str) -> ApiError {
    ApiError::new("UnprocessableEntity", &[detail])
}

/// `[prefix/]name`: a DNS prefix of at most 253, a name of 1–63 characters
/// of letters, digits, `-`, `_` and `.`, starting and ending alphanumeric.
fn check_key(key: &str) -> ApiResult<()> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    });
    if !prefix_ok || !is_label_text(name) || name.is_empty() {
        return Err(invalid(&format!(
            "Metadata key error: '{key}' must be at most 63 letters, digits, '-', '_' or '.', beginning and ending \
             with a letter or digit, after an optional DNS prefix and '/'"
        )));
    }
    Ok(())
}

fn check_value(kind: &str, value: &str) -> ApiResult<String> {
    let ok = if kind == LABEL { is_label_text(value) } else { value.chars().count() <= 5000 };
    if !ok {
        return Err(invalid(&format!("Metadata {kind} value error: '{value}' is not a valid {kind} value")));
    }
    Ok(value.to_string())
}

/// At most 63 of `[A-Za-z0-9-_.]`, alphanumeric at both ends (or empty).
fn is_label_text(text: &str) -> bool {
    let alnum_end = |c: Option<char>| c.is_none_or(|c| c.is_ascii_alphanumeric());
    text.len() <= 63
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && alnum_end(text.chars().next())
        && alnum_end(text.chars().last())
}

/// The condition of a `label_selector` on rows whose guid is `guid_column`:
/// requirements joined by commas, each `key`, `!key`, `key=v`, `key==v`,
/// `key!=v`, `key in (a,b)` or `key notin (a,b)`.
pub fn label_selector(guid_column: &str, selector: &str) -> ApiResult<Vec<Condition>> {
    let bad = || ApiError::new("BadQueryParameter", &[&format!("Invalid label_selector value: '{selector}'")]);
    let mut conditions = Vec::new();
    for requirement in split_requirements(selector) {
        let requirement = requirement.trim();
        let having = |name: &str, values: &[&str], negated: bool| -> ApiResult<Condition> {
            check_key(name).map_err(|_| bad())?;
            let mut sql = "SELECT resource_guid FROM resource_metadata WHERE kind = 'label' AND name = ?".to_string();
            if !values.is_empty() {
                sql.push_str(&format!(" AND value IN ({})", vec!["?"; values.len()].join(", ")));
            }
            let binds: Vec<&str> = std::iter::once(name).chain(values.iter().copied()).collect();
            let not = if negated { "NOT " } else { "" };
            Ok(Condition::raw(&format!("{guid_column} {not}IN ({sql})"), &binds))
        };
        let list = |rest: &str| -> ApiResult<Vec<String>> {
            let inner = rest.trim().strip_prefix('(').and_then(|r| r.strip_suffix(')')).ok_or_else(bad)?;
            Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
        };
        let condition = if let Some(name) = requirement.strip_prefix('!') {
            having(name.trim(), &[], true)?
        } else if let Some((name, rest)) = requirement.split_once(" notin ") {
            let values = list(rest)?;
            having(name.trim(), &values.iter().map(String::as_str).collect::<Vec<_>>(), true)?
        } else if let Some((name, rest)) = requirement.split_once(" in ") {
            let values = list(rest)?;
            having(name.trim(), &values.iter().map(String::as_str).collect::<Vec<_>>(), false)?
        } else if let Some((name, value)) = requirement.split_once("!=") {
            having(name.trim(), &[value.trim()], true)?
        } else if let Some((name, value)) = requirement.split_once("==").or_else(|| requirement.split_once('=')) {
            having(name.trim(), &[value.trim()], false)?
        } else if !requirement.is_empty() {
            having(requirement, &[], false)?
        } else {
            return Err(bad());
        };
        conditions.push(condition);
    }
    Ok(conditions)
}

/// Splits on the commas outside parentheses.
fn split_requirements(selector: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&selector[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_selectors() {
        assert!(check_key("example.org/team").is_ok());
        assert!(check_key("env").is_ok());
        assert!(check_key("-env").is_err());
        assert!(check_key("a/b/c").is_err());
        assert_eq!(split_requirements("a=b,c in (d,e),!f"), vec!["a=b", "c in (d,e)", "!f"]);
        assert_eq!(label_selector("guid", "a=b,c in (d,e),!f").unwrap().len(), 3);
        assert!(label_selector("guid", "a=b,,c").is_err());
        assert!(label_selector("guid", "x in d").is_err());
    }
}
