//! The v3 shape of any resource, from its declaration alone
//! ([`V3Resource`]): one row as `{guid, created_at, updated_at, …fields,
//! relationships, metadata, links}`; a page as `{pagination, resources,
//! included}` with first/last/next/previous links; `include=` following
//! relationships (`space.organization`) in one query per level, not per row.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::list_params::ListParams;
use super::resource::{Source, V3Resource};
use crate::cc::Cc;
use crate::cc::auth::User;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::metadata;
use crate::cc::model::resource::{Kind, bool_column, text_column};
use crate::cc::model::sql::Condition;

impl V3Resource {
    /// One row, with its metadata if it has any.
    pub fn render(&self, base_url: &str, row: &AnyRow, metadata: Option<&Value>) -> Value {
        let guid = text_column(row, "guid").unwrap_or_default();
        let mut out = json!({
            "guid": guid,
            "created_at": text_column(row, "created_at"),
            "updated_at": text_column(row, "updated_at").or_else(|| text_column(row, "created_at")),
        });
        for field in self.fields {
            let value = match &field.value {
                Source::Column(column, kind) => column_value(row, column, *kind),
                Source::Const(json) => serde_json::from_str(json).unwrap_or(Value::Null),
                Source::Row(from) => from(row),
            };
            set_dotted(&mut out, field.name, value);
        }
        if !self.relationships.is_empty() {
            let relationships: Map<String, Value> = self
                .relationships
                .iter()
                .map(|r| {
                    let data = text_column(row, r.column).map_or(Value::Null, |guid| json!({"guid": guid}));
                    (r.name.to_string(), json!({"data": data}))
                })
                .collect();
            out["relationships"] = Value::Object(relationships);
        }
        if self.metadata {
            out["metadata"] = metadata.cloned().unwrap_or_else(metadata::empty);
        }
        let mut links = Map::new();
        links.insert("self".into(), json!({"href": format!("{base_url}{}/{guid}", self.path)}));
        for link in self.links {
            let mut href = json!({"href": format!("{base_url}{}", fill(link.href, row))});
            if let Some(method) = link.method {
                href["method"] = json!(method);
            }
            links.insert(link.name.to_string(), href);
        }
        out["links"] = Value::Object(links);
        out
    }

    /// Rows rendered, their metadata read in one query.
    pub async fn render_rows(&self, cc: &Cc, rows: &[AnyRow]) -> ApiResult<Vec<Value>> {
        let base_url = cc.config.external_url();
        let metadata = if self.metadata {
            let guids: Vec<String> = rows.iter().filter_map(|r| text_column(r, "guid")).collect();
            metadata::of(&cc.db, &guids).await?
        } else {
            HashMap::new()
        };
        let mut rendered: Vec<Value> = rows
            .iter()
            .map(|row| {
                let guid = text_column(row, "guid").unwrap_or_default();
                self.render(&base_url, row, metadata.get(&guid))
            })
            .collect();
        if let Some(extend) = self.extend {
            extend(cc, rows, &mut rendered).await?;
        }
        Ok(rendered)
    }

    /// One row `user` sees, or this resource's NotFound.
    pub async fn find_for(&self, cc: &Cc, user: &User, guid: &str) -> ApiResult<AnyRow> {
        self.model.find_for(&cc.db, guid, user).await
    }

    /// `GET <path>/:guid[?include=…]`.
    pub async fn show(&self, cc: &Cc, user: &User, guid: &str, raw_query: Option<&str>) -> ApiResult<Value> {
        let params = ListParams::parse(raw_query, self)?;
        let row = self.find_for(cc, user, guid).await?;
        let mut one = self.render_rows(cc, std::slice::from_ref(&row)).await?.remove(0);
        if !params.include.is_empty() {
            one["included"] = self.included(cc, user, &[row], &params.include).await?;
        }
        Ok(one)
    }

    /// A page of what `user` sees, narrowed by `fixed` (for nested lists
    /// such as `/v3/apps/:guid/processes`); page links point at `path`.
    pub async fn list(
        &self,
        cc: &Cc,
        user: &User,
        raw_query: Option<&str>,
        fixed: Vec<Condition>,
        path: &str,
    ) -> ApiResult<Value> {
        let params = ListParams::parse(raw_query, self)?;
        let mut conditions = fixed;
        conditions.extend(self.model.visibility.condition(user));
        conditions.extend(params.conditions().iter().cloned());
        let total = self.model.count(&cc.db, &conditions).await?;
        let rows = self.model.select(&cc.db, &conditions, &params.tail()).await?;
        let mut resources = self.render_rows(cc, &rows).await?;
        for resource in &mut resources {
            for field in self.hidden_in_lists {
                set_dotted(resource, field, json!("[PRIVATE DATA HIDDEN IN LISTS]"));
            }
        }

        let per_page = params.per_page as i64;
        let total_pages = ((total + per_page - 1) / per_page).max(1);
        let url = format!("{}{path}", cc.config.external_url());
        let link = |page: i64| json!({"href": format!("{url}?{}", params.link_query(page as u32))});
        let page = params.page as i64;
        let mut out = json!({
            "pagination": {
                "total_results": total,
                "total_pages": total_pages,
                "first": link(1),
                "last": link(total_pages),
                "next": if page < total_pages { link(page + 1) } else { Value::Null },
                "previous": if page > 1 && page <= total_pages + 1 { link(page - 1) } else { Value::Null },
            },
            "resources": resources,
        });
        if !params.include.is_empty() {
            out["included"] = self.included(cc, user, &rows, &params.include).await?;
        }
        Ok(out)
    }

    /// `included` for `rows`: each include path followed level by level.
    async fn included(&self, cc: &Cc, user: &User, rows: &[AnyRow], paths: &[String]) -> ApiResult<Value> {
        let mut included: Map<String, Value> = Map::new();
        let mut seen: HashMap<&str, Vec<String>> = HashMap::new();
        for path in paths {
            let (mut resource, mut parents): (&V3Resource, Vec<AnyRow>) = (self, rows.to_vec());
            for name in path.split('.') {
                let relationship = resource.relationships.iter().find(|r| r.name == name).ok_or_else(|| {
                    ApiError::new("BadQueryParameter", &[&format!("Invalid included resource: '{path}'")])
                })?;
                let mut guids: Vec<String> =
                    parents.iter().filter_map(|r| text_column(r, relationship.column)).collect();
                guids.sort_unstable();
                guids.dedup();
                let related = relationship.resource;
                let found = if guids.is_empty() {
                    Vec::new()
                } else {
                    let marks = vec!["?"; guids.len()].join(", ");
                    let refs: Vec<&str> = guids.iter().map(String::as_str).collect();
                    let mut conditions = vec![Condition::raw(&format!("guid IN ({marks})"), &refs)];
                    conditions.extend(related.model.visibility.condition(user));
                    related.model.select(&cc.db, &conditions, "ORDER BY id").await?
                };
                let already = seen.entry(related.plural).or_default();
                let fresh: Vec<AnyRow> = found
                    .iter()
                    .filter(|row| {
                        let guid: String = row.try_get("guid").unwrap_or_default();
                        !already.contains(&guid) && {
                            already.push(guid);
                            true
                        }
                    })
                    .cloned()
                    .collect();
                let rendered = related.render_rows(cc, &fresh).await?;
                let list = included.entry(related.plural).or_insert_with(|| json!([]));
                list.as_array_mut().expect("included lists are arrays").extend(rendered);
                resource = related;
                parents = found;
            }
        }
        Ok(Value::Object(included))
    }
}

/// Sets `name` (dotted) in `out`, making the objects on the way.
fn set_dotted(out: &mut Value, name: &str, value: Value) {
    let mut at = out;
    let mut parts = name.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            at[part] = value;
            return;
        }
        if !at[part].is_object() {
            at[part] = json!({});
        }
        at = &mut at[part];
    }
}

/// `href` with `{guid}` and `{<column>}` filled from the row.
fn fill(href: &str, row: &AnyRow) -> String {
    let mut out = String::new();
    let mut rest = href;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else { break };
        out.push_str(&text_column(row, &rest[open + 1..open + close]).unwrap_or_default());
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// One column as JSON, by its kind.
pub fn column_value(row: &AnyRow, name: &str, kind: Kind) -> Value {
    match kind {
        Kind::Text => text_column(row, name).map_or(Value::Null, Value::String),
        Kind::Int => row.try_get::<Option<i64>, _>(name).ok().flatten().map_or(Value::Null, Value::from),
        Kind::Bool => bool_column(row, name).map_or(Value::Null, Value::Bool),
        Kind::Json => text_column(row, name).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null),
        Kind::Const(json) => serde_json::from_str(json).unwrap_or(Value::Null),
    }
}
