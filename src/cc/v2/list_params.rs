//! CF's list query language: `q=field:value` (also `IN`, `>`, `<`, `>=`,
//! `<=`; several `q`s, or `;`-joined filters, are ANDed), `page`,
//! `results-per-page` (1–100), `order-by`, `order-direction`, and
//! `inline-relations-depth` (0–2); and a DELETE's `recursive=true`.

use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::resource::{Kind, Resource};
use crate::cc::model::sql::Condition;

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
            if key.contains('\0') || value.contains('\0') {
                return Err(bad("a parameter holds a NUL character"));
            }
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

/// Whether the query asks to delete what a resource contains, too.
pub fn recursive(query: Option<&str>) -> bool {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).any(|(k, v)| k == "recursive" && v == "true")
}
