//! v3's list query parameters, checked against the resource's
//! declaration: `page`, `per_page` (1–5000), `order_by` (`-` for
//! descending), the resource's filters (comma-separated values),
//! `label_selector`, `include`, `fields[…]` (whose resources are
//! included whole) and `created_ats`/`updated_ats`. Anything
//! else is CF's BadQueryParameter, as CF answers it.

use super::resource::V3Resource;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::metadata;
use crate::cc::model::sql::Condition;

const MAX_PER_PAGE: u32 = 5000;

pub struct ListParams {
    pub page: u32,
    pub per_page: u32,
    order_column: &'static str,
    descending: bool,
    pub include: Vec<String>,
    conditions: Vec<Condition>,
    /// The parameters other than paging, for the page links.
    kept: Vec<(String, String)>,
}

impl ListParams {
    pub fn parse(raw_query: Option<&str>, resource: &V3Resource) -> ApiResult<ListParams> {
        let mut params = ListParams {
            page: 1,
            per_page: 50,
            order_column: "created_at",
            descending: false,
            include: Vec::new(),
            conditions: Vec::new(),
            kept: Vec::new(),
        };
        let bad = |detail: String| ApiError::new("BadQueryParameter", &[&detail]);
        let mut unknown = Vec::new();
        for (key, value) in url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()) {
            let (key, value) = (key.into_owned(), value.into_owned());
            if key.contains('\0') || value.contains('\0') {
                return Err(bad("a parameter holds a NUL character".into()));
            }
            match key.as_str() {
                "page" => {
                    params.page = value
                        .parse()
                        .ok()
                        .filter(|p| *p >= 1)
                        .ok_or_else(|| bad("Page must be greater than 0".into()))?
                }
                "per_page" => {
                    params.per_page = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                        .ok_or_else(|| bad(format!("Per page must be between 1 and {MAX_PER_PAGE}")))?
                }
                "order_by" => {
                    let (descending, field) = match value.strip_prefix('-') {
                        Some(field) => (true, field),
                        None => (false, value.strip_prefix('+').unwrap_or(&value)),
                    };
                    params.order_column = ["created_at", "updated_at"]
                        .into_iter()
                        .chain(resource.order_by.iter().copied())
                        .find(|f| *f == field)
                        .ok_or_else(|| {
                            bad(format!("Order by can only be: 'created_at', 'updated_at'{}", {
                                resource.order_by.iter().map(|f| format!(", '{f}'")).collect::<String>()
                            }))
                        })?;
                    params.descending = descending;
                }
                "include" => {
                    for path in value.split(',').filter(|p| !p.is_empty()) {
                        if !includable(resource, path) {
                            return Err(bad(format!("Invalid included resource: '{path}'")));
                        }
                        params.include.push(path.to_string());
                    }
                }
                "label_selector" if resource.metadata => {
                    params.conditions.extend(metadata::label_selector("guid", &value)?);
                }
                "created_ats" | "updated_ats" => {
                    let column = key.trim_end_matches('s');
                    let values: Vec<&str> = value.split(',').collect();
                    let marks = vec!["?"; values.len()].join(", ");
                    params.conditions.push(Condition::raw(&format!("{column} IN ({marks})"), &values));
                }
                // Fields of related resources (`fields[service_offering.service_broker]=name,guid`):
                // the resources are included, whole.
                _ if key.starts_with("fields[") && key.ends_with(']') => {
                    let path = &key["fields[".len()..key.len() - 1];
                    if !includable(resource, path) {
                        return Err(bad(format!("Invalid fields parameter: '{path}'")));
                    }
                    params.include.push(path.to_string());
                }
                _ => match resource.filters.iter().find(|f| f.param == key) {
                    Some(filter) => {
                        let values: Vec<&str> = value.split(',').collect();
                        let marks = vec!["?"; values.len()].join(", ");
                        params.conditions.push(Condition::raw(&filter.sql.replace("LIST", &marks), &values));
                    }
                    None => unknown.push(key.clone()),
                },
            }
            if !matches!(key.as_str(), "page" | "per_page") {
                params.kept.push((key, value));
            }
        }
        if !unknown.is_empty() {
            let names: Vec<String> = unknown.iter().map(|k| format!("'{k}'")).collect();
            return Err(bad(format!("Unknown query parameter(s): {}", names.join(", "))));
        }
        Ok(params)
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// `ORDER BY … LIMIT … OFFSET …` of this page.
    pub fn tail(&self) -> String {
        let direction = if self.descending { "DESC" } else { "ASC" };
        let offset = (self.page as u64 - 1) * self.per_page as u64;
        format!("ORDER BY {} {direction}, id {direction} LIMIT {} OFFSET {offset}", self.order_column, self.per_page)
    }

    /// The query string of the same list at `page`.
    pub fn link_query(&self, page: u32) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        out.append_pair("page", &page.to_string());
        out.append_pair("per_page", &self.per_page.to_string());
        for (key, value) in &self.kept {
            out.append_pair(key, value);
        }
        out.finish()
    }
}

/// Whether `path` (`space`, `space.organization`) follows relationships of `resource`.
pub fn includable(resource: &V3Resource, path: &str) -> bool {
    let mut at = resource;
    for name in path.split('.') {
        match at.relationships.iter().find(|r| r.name == name) {
            Some(relationship) => at = relationship.resource,
            None => return false,
        }
    }
    true
}
