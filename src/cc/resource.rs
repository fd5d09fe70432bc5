//! The v2 resource model, once for every resource.
//!
//! A resource declares its table, its entity fields and its relations
//! ([`Resource`]); from that alone this module renders the
//! `{metadata, entity}` envelope with every `*_url` link, fetches one by
//! guid with the resource's own NotFound error, and lists with CF's
//! pagination, `q` filters and ordering. Handlers add only what is special
//! about their resource.

use serde_json::{Map, Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::error::{ApiError, ApiResult};
use super::query::{Condition, ListParams};

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Int,
    Bool,
    /// Stored as JSON text, rendered as JSON.
    Json,
    /// Not stored: always this JSON value (fields CF shows that mean nothing here).
    Const(&'static str),
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
}

pub const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

/// A to-one relation: the entity has `<name>_guid` and `<name>_url`.
#[derive(Debug)]
pub struct ToOne {
    pub name: &'static str,
    /// The related resource's collection, e.g. `/v2/spaces`.
    pub path: &'static str,
}

#[derive(Debug)]
pub struct Resource {
    pub table: &'static str,
    /// The collection path, e.g. `/v2/apps`.
    pub path: &'static str,
    pub fields: &'static [Field],
    pub to_one: &'static [ToOne],
    /// To-many relations, linked as `<path>/<guid>/<name>`.
    pub to_many: &'static [&'static str],
    /// The CF error for an unknown guid, e.g. `AppNotFound`.
    pub not_found: &'static str,
    /// Entity fields clients may filter and order on with `q`.
    pub filters: &'static [&'static str],
    /// A condition every row of this resource meets (e.g. shared domains are
    /// the domains without an owning organization).
    pub scope: Option<&'static str>,
}

impl Resource {
    pub fn url(&self, guid: &str) -> String {
        format!("{}/{guid}", self.path)
    }

    /// The full `{metadata, entity}` envelope of one row.
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
                Some(g) => json!(format!("{}/{g}", relation.path)),
                None => Value::Null,
            };
            entity.insert(guid_field, related);
            entity.insert(format!("{}_url", relation.name), url);
        }
        for name in self.to_many {
            entity.insert(format!("{name}_url"), json!(format!("{}/{guid}/{name}", self.path)));
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

    /// One row by guid, or this resource's NotFound error.
    pub async fn find(&self, db: &AnyPool, guid: &str) -> ApiResult<AnyRow> {
        let scope = self.scope.map(|s| format!(" AND {s}")).unwrap_or_default();
        let sql = format!("SELECT * FROM {} WHERE guid = $1{scope}", self.table);
        sqlx::query(&sql).bind(guid).fetch_optional(db).await?.ok_or_else(|| ApiError::new(self.not_found, &[guid]))
    }

    pub async fn get(&self, db: &AnyPool, guid: &str) -> ApiResult<Value> {
        Ok(self.render(&self.find(db, guid).await?))
    }

    /// A page of this collection. `fixed` narrows it for nested collections
    /// (`/v2/spaces/:guid/apps`); `base_path` is where page links point.
    pub async fn list(
        &self,
        db: &AnyPool,
        params: &ListParams,
        fixed: Vec<Condition>,
        base_path: &str,
    ) -> ApiResult<Value> {
        let mut conditions = fixed;
        conditions.extend(params.conditions(self)?);
        let mut binds = Vec::new();
        let mut clauses: Vec<String> = self.scope.iter().map(|s| s.to_string()).collect();
        for condition in &conditions {
            clauses.push(condition.to_sql(&mut binds));
        }
        let where_sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };

        let count_sql = format!("SELECT COUNT(*) FROM {}{where_sql}", self.table);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total = count.fetch_one(db).await?;

        let order_column = params.order_by(self)?;
        let direction = params.direction();
        let per_page = params.results_per_page as i64;
        let offset = (params.page as i64 - 1) * per_page;
        let page_sql = format!(
            "SELECT * FROM {}{where_sql} ORDER BY {order_column} {direction}, id {direction} LIMIT {per_page} OFFSET {offset}",
            self.table
        );
        let mut page = sqlx::query(&page_sql);
        for b in &binds {
            page = page.bind(b.clone());
        }
        let rows = page.fetch_all(db).await?;

        let total_pages = (total + per_page - 1) / per_page;
        let link = |page: u32| json!(format!("{base_path}?{}", params.link_query(page)));
        Ok(json!({
            "total_results": total,
            "total_pages": total_pages,
            "prev_url": if params.page > 1 { link(params.page - 1) } else { Value::Null },
            "next_url": if (params.page as i64) < total_pages { link(params.page + 1) } else { Value::Null },
            "resources": rows.iter().map(|row| self.render(row)).collect::<Vec<_>>(),
        }))
    }
}

/// Reads one column as JSON, by its declared kind. SQLite hands booleans
/// back as integers, so both are accepted.
fn column(row: &AnyRow, name: &str, kind: Kind) -> Value {
    match kind {
        Kind::Text => row.try_get::<Option<String>, _>(name).ok().flatten().map(Value::String).unwrap_or(Value::Null),
        Kind::Int => row.try_get::<Option<i64>, _>(name).ok().flatten().map(Value::from).unwrap_or(Value::Null),
        Kind::Bool => match row.try_get::<Option<bool>, _>(name) {
            Ok(v) => v.map(Value::Bool).unwrap_or(Value::Null),
            Err(_) => {
                row.try_get::<Option<i64>, _>(name).ok().flatten().map(|v| Value::Bool(v != 0)).unwrap_or(Value::Null)
            }
        },
        Kind::Json => row
            .try_get::<Option<String>, _>(name)
            .ok()
            .flatten()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null),
        Kind::Const(value) => serde_json::from_str(value).unwrap_or(Value::Null),
    }
}
