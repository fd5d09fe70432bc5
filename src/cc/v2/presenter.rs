//! The v2 envelope of any resource, from its declaration alone: one row
//! as `{metadata, entity}` with every `*_url` link (and, with
//! `inline-relations-depth`, the related resources themselves), and a
//! page of a collection with CF's pagination, `q` filters and ordering.
//! Handlers add only what is special about their resource.

use std::collections::HashMap;

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::list_params::ListParams;
use crate::cc::auth::User;
use crate::cc::error::ApiResult;
use crate::cc::model::resource::{Kind, Resource, bool_column, text_column};
use crate::cc::model::sql::Condition;

/// Related resources inlined per row at most (CF's cap on inlined lists).
const MAX_INLINE: i64 = 50;

/// `column IN (…)` of `values`.
fn in_list(column: &str, values: &[&str]) -> Condition {
    let marks = vec!["?"; values.len()].join(", ");
    Condition::raw(&format!("{column} IN ({marks})"), values)
}

impl Resource {
    /// The `{metadata, entity}` envelope of one row, with links only.
    pub fn render(&self, row: &AnyRow) -> Value {
        let guid: String = row.try_get("guid").unwrap_or_default();
        let mut entity = Map::new();
        for field in self.fields {
            entity.insert(field.name.to_string(), column(row, field.name, field.kind));
        }
        for relation in self.to_one {
            let guid_field = format!("{}_guid", relation.name);
            let related = column(row, &guid_field, Kind::Text);
            let url = match related.as_str() {
                Some(g) => json!(relation.resource.url(g)),
                None => Value::Null,
            };
            entity.insert(guid_field, related);
            entity.insert(format!("{}_url", relation.name), url);
        }
        for relation in self.to_many {
            entity.insert(format!("{}_url", relation.name), json!(format!("{}/{guid}/{}", self.path, relation.name)));
        }
        json!({
            "metadata": {
                "guid": guid,
                "url": self.url(&guid),
                "created_at": column(row, "created_at", Kind::Text),
                "updated_at": column(row, "updated_at", Kind::Text),
            },
            "entity": entity,
        })
    }

    /// The envelopes of `rows` with related resources inlined `depth`
    /// levels deep: one query per relation for all the rows, not one per row.
    pub fn render_all<'a>(
        &'a self,
        db: &'a AnyPool,
        rows: &'a [AnyRow],
        depth: u32,
    ) -> BoxFuture<'a, ApiResult<Vec<Value>>> {
        Box::pin(async move {
            let mut values: Vec<Value> = rows.iter().map(|row| self.render(row)).collect();
            if depth == 0 || rows.is_empty() {
                return Ok(values);
            }
            for relation in self.to_one {
                let column = format!("{}_guid", relation.name);
                let related: Vec<Option<String>> =
                    rows.iter().map(|row| row.try_get::<Option<String>, _>(column.as_str()).ok().flatten()).collect();
                let mut wanted: Vec<&str> = related.iter().flatten().map(String::as_str).collect();
                wanted.sort_unstable();
                wanted.dedup();
                if wanted.is_empty() {
                    continue;
                }
                let found = relation.resource.select(db, &[in_list("guid", &wanted)], "").await?;
                let rendered = relation.resource.render_all(db, &found, depth - 1).await?;
                let by_guid: HashMap<String, Value> = found
                    .iter()
                    .map(|row| row.try_get::<String, _>("guid").unwrap_or_default())
                    .zip(rendered)
                    .collect();
                for (value, related) in values.iter_mut().zip(&related) {
                    if let Some(inlined) = related.as_ref().and_then(|guid| by_guid.get(guid)) {
                        value["entity"][relation.name] = inlined.clone();
                    }
                }
            }
            let guids: Vec<String> = rows.iter().map(|row| row.try_get("guid").unwrap_or_default()).collect();
            for relation in self.to_many {
                let Some(resource) = relation.resource else { continue };
                let children = resource.children_of(db, relation.condition, &guids, depth - 1).await?;
                for (value, children) in values.iter_mut().zip(children) {
                    value["entity"][relation.name] = Value::Array(children);
                }
            }
            Ok(values)
        })
    }

    /// For each parent guid, its first [`MAX_INLINE`] rows of this resource
    /// meeting `condition` (whose `?` stands for the parent's guid),
    /// rendered. A condition of a [`Link`]'s shape is one query for all
    /// the parents (a window keeps each parent's first rows); any other,
    /// one query per parent.
    async fn children_of(
        &self,
        db: &AnyPool,
        condition: &str,
        parents: &[String],
        depth: u32,
    ) -> ApiResult<Vec<Vec<Value>>> {
        let mut rendered = Vec::with_capacity(parents.len());
        for rows in self.first_children(db, condition, parents, MAX_INLINE).await? {
            rendered.push(self.render_all(db, &rows, depth).await?);
        }
        Ok(rendered)
    }

    pub async fn get(&self, db: &AnyPool, guid: &str) -> ApiResult<Value> {
        Ok(self.render(&self.find(db, guid).await?))
    }

    /// A page of what `user` sees of this collection. `fixed` narrows it for
    /// nested collections (`/v2/spaces/:guid/apps`); `base_path` is where
    /// page links point.
    pub async fn list(
        &self,
        db: &AnyPool,
        user: &User,
        params: &ListParams,
        fixed: Vec<Condition>,
        base_path: &str,
    ) -> ApiResult<Value> {
        let mut conditions = fixed;
        conditions.extend(self.visibility.condition(user));
        conditions.extend(params.conditions(self)?);
        let total = self.count(db, &conditions).await?;

        let order_column = params.order_by(self)?;
        let direction = params.direction();
        let per_page = params.results_per_page as i64;
        let offset = (params.page as i64 - 1) * per_page;
        let tail = format!("ORDER BY {order_column} {direction}, id {direction} LIMIT {per_page} OFFSET {offset}");
        let rows = self.select(db, &conditions, &tail).await?;
        let resources = self.render_all(db, &rows, params.inline_relations_depth).await?;

        let total_pages = (total + per_page - 1) / per_page;
        let link = |page: u32| json!(format!("{base_path}?{}", params.link_query(page)));
        Ok(json!({
            "total_results": total,
            "total_pages": total_pages,
            "prev_url": if params.page > 1 { link(params.page - 1) } else { Value::Null },
            "next_url": if (params.page as i64) < total_pages { link(params.page + 1) } else { Value::Null },
            "resources": resources,
        }))
    }
}

/// Reads one column as JSON, by its declared kind. SQLite hands booleans
/// back as integers, so both are accepted.
fn column(row: &AnyRow, name: &str, kind: Kind) -> Value {
    match kind {
        Kind::Text => text_column(row, name).map(Value::String).unwrap_or(Value::Null),
        Kind::Int => row.try_get::<Option<i64>, _>(name).ok().flatten().map(Value::from).unwrap_or(Value::Null),
        Kind::Bool => bool_column(row, name).map(Value::Bool).unwrap_or(Value::Null),
        Kind::Json => row
            .try_get::<Option<String>, _>(name)
            .ok()
            .flatten()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null),
        Kind::Const(value) => serde_json::from_str(value).unwrap_or(Value::Null),
    }
}
