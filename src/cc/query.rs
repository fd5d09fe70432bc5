//! CF's list query language: `q=field:value` (also `IN`, `>`, `<`, `>=`,
//! `<=`; several `q`s, or `;`-joined filters, are ANDed), `page`,
//! `results-per-page` (1–100), `order-by`, `order-direction`, and
//! `inline-relations-depth` (0–2).

use super::error::{ApiError, ApiResult};
use super::resource::{Kind, Resource};

/// One SQL condition with `?` placeholders and its values, bound in order.
#[derive(Debug, Clone)]
pub struct Condition {
    sql: String,
    binds: Vec<String>,
}

impl Condition {
    /// `column = value`.
    pub fn eq(column: &str, value: &str) -> Condition {
        Condition { sql: format!("{column} = ?"), binds: vec![value.to_string()] }
    }

    /// Any condition; `sql` must not contain user input, only `?`s for it.
    pub fn raw(sql: &str, binds: &[&str]) -> Condition {
        Condition { sql: sql.to_string(), binds: binds.iter().map(|b| b.to_string()).collect() }
    }

    /// The SQL with numbered placeholders, appending its values to `binds`.
    pub fn to_sql(&self, binds: &mut Vec<String>) -> String {
        let mut out = String::new();
        let mut values = self.binds.iter();
        for (i, part) in self.sql.split('?').enumerate() {
            if i > 0 {
                binds.push(values.next().cloned().unwrap_or_default());
                out.push_str(&format!("${}", binds.len()));
            }
            out.push_str(part);
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct ListParams {
    pub page: u32,
    pub results_per_page: u32,
    filters: Vec<String>,
    order_by: Option<String>,
    descending: bool,
    pub inline_relations_depth: u32,
}

impl ListParams {
    pub fn parse(raw_query: Option<&str>) -> ApiResult<ListParams> {
        let mut params = ListParams {
            page: 1,
            results_per_page: 50,
            filters: Vec::new(),
            order_by: None,
            descending: false,
            inline_relations_depth: 0,
        };
        let bad = |what: &str| ApiError::new("BadQueryParameter", &[what]);
        for (key, value) in url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes()) {
            match key.as_ref() {
                "q" => params.filters.extend(value.split(';').filter(|f| !f.is_empty()).map(str::to_string)),
                "page" => params.page = value.parse().ok().filter(|p| *p >= 1).ok_or_else(|| bad("page"))?,
                "results-per-page" => {
                    params.results_per_page =
                        value.parse().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| bad("results-per-page"))?
                }
                "order-direction" => {
                    params.descending = match value.as_ref() {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(bad("order-direction")),
                    }
                }
                "order-by" => params.order_by = Some(value.into_owned()),
                "inline-relations-depth" => {
                    params.inline_relations_depth =
                        value.parse().ok().filter(|d| *d <= 2).ok_or_else(|| bad("inline-relations-depth"))?
                }
                _ => {}
            }
        }
        Ok(params)
    }

    /// The `q` filters as SQL conditions, checked against what the resource allows.
    pub fn conditions(&self, resource: &Resource) -> ApiResult<Vec<Condition>> {
        self.filters.iter().map(|filter| parse_filter(resource, filter)).collect()
    }

    pub fn order_by(&self, resource: &Resource) -> ApiResult<&str> {
        match self.order_by.as_deref() {
            None | Some("id") => Ok("id"),
            Some(field) if resource.filters.contains(&field) => Ok(field),
            Some(field) => Err(ApiError::new("OrderByParameterInvalid", &[field])),
        }
    }

    pub fn direction(&self) -> &'static str {
        if self.descending { "DESC" } else { "ASC" }
    }

    /// The query string of the same list at another page (for prev/next_url).
    pub fn link_query(&self, page: u32) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        out.append_pair("order-direction", if self.descending { "desc" } else { "asc" });
        if let Some(order_by) = &self.order_by {
            out.append_pair("order-by", order_by);
        }
        out.append_pair("page", &page.to_string());
        out.append_pair("results-per-page", &self.results_per_page.to_string());
        for filter in &self.filters {
            out.append_pair("q", filter);
        }
        if self.inline_relations_depth > 0 {
            out.append_pair("inline-relations-depth", &self.inline_relations_depth.to_string());
        }
        out.finish()
    }
}

/// Operators, longest first so `>=` is not read as `>`.
const OPERATORS: [(&str, &str); 6] = [(" IN ", "IN"), (">=", ">="), ("<=", "<="), (">", ">"), ("<", "<"), (":", "=")];

fn parse_filter(resource: &Resource, filter: &str) -> ApiResult<Condition> {
    let bad = || ApiError::new("BadQueryParameter", &[filter]);
    let (field, op, value) = OPERATORS
        .iter()
        .filter_map(|(token, op)| filter.find(token).map(|at| (at, token, op)))
        .min_by_key(|(at, _, _)| *at)
        .map(|(at, token, op)| (&filter[..at], *op, &filter[at + token.len()..]))
        .ok_or_else(bad)?;
    let field = field.trim();
    if !resource.filters.contains(&field) {
        return Err(bad());
    }
    let kind = resource.fields.iter().find(|f| f.name == field).map(|f| f.kind);
    if matches!(kind, Some(Kind::Bool)) {
        // Booleans are compared as booleans (SQLite keeps them as 0 and 1).
        let literal = match (op, value.trim()) {
            ("=", "true") => "TRUE",
            ("=", "false") => "FALSE",
            _ => return Err(bad()),
        };
        return Ok(Condition::raw(&format!("{field} = {literal}"), &[]));
    }
    let is_int = matches!(kind, Some(Kind::Int));
    let placeholder = if is_int { "CAST(? AS BIGINT)" } else { "?" };
    if op == "IN" {
        let values: Vec<&str> = value.split(',').collect();
        let placeholders = vec![placeholder; values.len()].join(", ");
        return Ok(Condition::raw(&format!("{field} IN ({placeholders})"), &values));
    }
    if is_int && value.parse::<i64>().is_err() {
        return Err(bad());
    }
    Ok(Condition::raw(&format!("{field} {op} {placeholder}"), &[value]))
}

/// A value bound into SQL with its own type, so PostgreSQL sees integers
/// and booleans as such.
#[derive(Debug, Clone)]
pub enum SqlValue {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
}

/// The `SET` list of an UPDATE, built from whichever fields a request changed.
#[derive(Debug, Default)]
pub struct Assignments {
    columns: Vec<&'static str>,
    values: Vec<SqlValue>,
}

impl Assignments {
    pub fn set(&mut self, column: &'static str, value: SqlValue) {
        self.columns.push(column);
        self.values.push(value);
    }

    /// Stamps `updated_at` and runs the update; a clash with another row's
    /// unique name is the resource's `taken` error about `what`.
    pub async fn save(
        mut self,
        db: &sqlx::AnyPool,
        table: &str,
        guid: &str,
        taken: &str,
        what: &str,
    ) -> super::error::ApiResult<()> {
        self.set("updated_at", SqlValue::Text(Some(super::now())));
        self.execute(db, table, guid).await.map_err(|e| super::error::taken_or(e, taken, what))
    }

    /// Runs `UPDATE table SET … WHERE guid = guid`.
    pub async fn execute(self, db: &sqlx::AnyPool, table: &str, guid: &str) -> Result<(), sqlx::Error> {
        if self.columns.is_empty() {
            return Ok(());
        }
        let sets: Vec<String> = self.columns.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
        let sql = format!("UPDATE {table} SET {} WHERE guid = ${}", sets.join(", "), self.columns.len() + 1);
        let mut query = sqlx::query(&sql);
        for value in self.values {
            query = match value {
                SqlValue::Text(v) => query.bind(v),
                SqlValue::Int(v) => query.bind(v),
                SqlValue::Bool(v) => query.bind(v),
            };
        }
        query.bind(guid.to_string()).execute(db).await?;
        Ok(())
    }
}
