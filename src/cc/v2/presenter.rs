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
        let Some(link) = Link::parse(condition) else {
            let mut all = Vec::with_capacity(parents.len());
            for parent in parents {
                let rows = self
                    .select(db, &[Condition::raw(condition, &[parent])], &format!("ORDER BY id LIMIT {MAX_INLINE}"))
                    .await?;
                all.push(self.render_all(db, &rows, depth).await?);
            }
            return Ok(all);
        };
        let table = self.table;
        let list: Vec<String> = (1..=parents.len()).map(|i| format!("${i}")).collect();
        let list = list.join(", ");
        let (parent, from) = match link {
            Link::Column(column) => {
                (format!("{table}.{column}"), format!("{table} WHERE {table}.{column} IN ({list})"))
            }
            Link::Through { column, child, join, parent, filters } => (
                format!("through.{parent}"),
                format!(
                    "{table} JOIN {join} through ON {table}.{column} = through.{child} WHERE through.{parent} IN ({list}){}",
                    filters.iter().map(|(c, v)| format!(" AND through.{c} = '{v}'")).collect::<String>()
                ),
            ),
        };
        let scope: String = self.scope.iter().map(|s| format!(" AND {s}")).collect();
        let sql = format!(
            "SELECT * FROM (SELECT {table}.*, {parent} AS inline_parent, ROW_NUMBER() OVER \
             (PARTITION BY {parent} ORDER BY {table}.id) AS inline_rank FROM {from}{scope}) ranked \
             WHERE inline_rank <= {MAX_INLINE} ORDER BY id"
        );
        let mut query = sqlx::query(&sql);
        for parent in parents {
            query = query.bind(parent);
        }
        let rows = query.fetch_all(db).await?;
        let rendered = self.render_all(db, &rows, depth).await?;
        let mut by_parent: HashMap<String, Vec<Value>> = HashMap::new();
        for (row, value) in rows.iter().zip(rendered) {
            let parent = row.try_get::<Option<String>, _>("inline_parent").ok().flatten().unwrap_or_default();
            by_parent.entry(parent).or_default().push(value);
        }
        Ok(parents.iter().map(|parent| by_parent.remove(parent).unwrap_or_default()).collect())
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
        let (where_sql, binds) = self.where_clause(&conditions);
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

/// How a to-many relation's rows meet their parent, in the two shapes
/// whose children a whole page can fetch at once.
#[derive(Debug, PartialEq)]
enum Link<'a> {
    /// `column = ?`
    Column(&'a str),
    /// `column IN (SELECT child FROM join WHERE parent = ?[ AND c = 'v']…)`:
    /// through a join table.
    Through { column: &'a str, child: &'a str, join: &'a str, parent: &'a str, filters: Vec<(&'a str, &'a str)> },
}

impl<'a> Link<'a> {
    fn parse(condition: &'a str) -> Option<Link<'a>> {
        let name =
            |s: &'a str| Some(s).filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        if let Some(column) = condition.strip_suffix(" = ?") {
            return name(column).map(Link::Column);
        }
        let (column, rest) = condition.split_once(" IN (SELECT ")?;
        let (child, rest) = rest.split_once(" FROM ")?;
        let (join, rest) = rest.split_once(" WHERE ")?;
        let (parent, rest) = rest.split_once(" = ?")?;
        let mut conjuncts = rest.strip_suffix(')')?.split(" AND ");
        if conjuncts.next() != Some("") {
            return None;
        }
        let filters = conjuncts
            .map(|filter| {
                let (column, value) = filter.split_once(" = ")?;
                let value = value.strip_prefix('\'')?.strip_suffix('\'')?;
                Some((name(column)?, name(value)?))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Link::Through {
            column: name(column)?,
            child: name(child)?,
            join: name(join)?,
            parent: name(parent)?,
            filters,
        })
    }
}

#[cfg(test)]
mod link_tests {
    use super::Link;

    #[test]
    fn the_shapes_a_page_fetches_at_once() {
        assert_eq!(Link::parse("space_guid = ?"), Some(Link::Column("space_guid")));
        assert_eq!(
            Link::parse("guid IN (SELECT user_guid FROM space_roles WHERE space_guid = ? AND role = 'developers')"),
            Some(Link::Through {
                column: "guid",
                child: "user_guid",
                join: "space_roles",
                parent: "space_guid",
                filters: vec![("role", "developers")],
            })
        );
        assert!(matches!(
            Link::parse("guid IN (SELECT route_guid FROM route_mappings WHERE app_guid = ?)"),
            Some(Link::Through { filters, .. }) if filters.is_empty()
        ));
        assert_eq!(
            Link::parse(
                "service_broker_guid IN (SELECT guid FROM service_brokers WHERE space_guid IS NULL OR space_guid = ?)"
            ),
            None
        );
        assert_eq!(Link::parse("guid IN (SELECT a FROM b WHERE c = ? OR 1 = 1)"), None);
        assert_eq!(Link::parse("guid IN (SELECT a FROM b WHERE c = ? OR d = 'e' AND f = 'g')"), None);
    }
}
