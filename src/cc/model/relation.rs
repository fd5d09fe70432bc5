//! Relations between resources, loaded for a whole page at once: for each
//! parent guid, the first rows of a to-many relation. A relation's SQL
//! condition of one of two shapes (a column naming the parent, or a join
//! table between them) is one query for every parent, a window keeping
//! each parent's first rows; any other is one query per parent.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::resource::Resource;
use super::sql::Condition;
use crate::cc::error::ApiResult;

impl Resource {
    /// For each parent guid, its first `max` rows of this resource meeting
    /// `condition` (whose `?` stands for the parent's guid), oldest first.
    pub async fn first_children(
        &self,
        db: &AnyPool,
        condition: &str,
        parents: &[String],
        max: i64,
    ) -> ApiResult<Vec<Vec<AnyRow>>> {
        let Some(link) = Link::parse(condition) else {
            let mut all = Vec::with_capacity(parents.len());
            for parent in parents {
                all.push(
                    self.select(db, &[Condition::raw(condition, &[parent])], &format!("ORDER BY id LIMIT {max}"))
                        .await?,
                );
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
             WHERE inline_rank <= {max} ORDER BY id"
        );
        let mut query = sqlx::query(&sql);
        for parent in parents {
            query = query.bind(parent);
        }
        let mut by_parent: HashMap<String, Vec<AnyRow>> = HashMap::new();
        for row in query.fetch_all(db).await? {
            let parent = row.try_get::<Option<String>, _>("inline_parent").ok().flatten().unwrap_or_default();
            by_parent.entry(parent).or_default().push(row);
        }
        Ok(parents.iter().map(|parent| by_parent.remove(parent).unwrap_or_default()).collect())
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
