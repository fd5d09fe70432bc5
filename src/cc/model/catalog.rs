//! A broker's catalog (`GET /v2/catalog`) and the checks CF makes of it
//! before anything is stored: ids and names present and unique, every
//! service with at least one plan.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;

use crate::cc::error::ApiError;

#[derive(Debug, Deserialize)]
pub struct Catalog {
    pub services: Vec<CatalogService>,
}

#[derive(Debug, Deserialize)]
pub struct CatalogService {
    pub id: String,
    pub name: String,
    pub description: String,
    pub bindable: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub plan_updateable: bool,
    #[serde(default)]
    pub metadata: Option<Value>,
    pub plans: Vec<CatalogPlan>,
}

#[derive(Debug, Deserialize)]
pub struct CatalogPlan {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub free: Option<bool>,
    #[serde(default)]
    pub bindable: Option<bool>,
    #[serde(default)]
    pub metadata: Option<Value>,
}

impl Catalog {
    /// Reads and checks a catalog; `ServiceBrokerCatalogInvalid` names every
    /// problem.
    pub fn parse(body: &Value) -> Result<Catalog, ApiError> {
        let catalog: Catalog = serde_json::from_value(body.clone())
            .map_err(|e| ApiError::new("ServiceBrokerCatalogInvalid", &[&e.to_string()]))?;
        let problems = catalog.problems();
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(ApiError::new("ServiceBrokerCatalogInvalid", &[&problems.join("; ")]))
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let (mut ids, mut names) = (HashSet::new(), HashSet::new());
        for service in &self.services {
            let label = format!("service {:?}", service.name);
            if service.id.trim().is_empty() {
                problems.push(format!("{label}: id is empty"));
            } else if !ids.insert(&service.id) {
                problems.push(format!("{label}: id {:?} is not unique", service.id));
            }
            if service.name.trim().is_empty() {
                problems.push("a service name is empty".into());
            } else if !names.insert(&service.name) {
                problems.push(format!("{label}: name is not unique"));
            }
            if service.plans.is_empty() {
                problems.push(format!("{label}: at least one plan is required"));
            }
            let (mut plan_ids, mut plan_names) = (HashSet::new(), HashSet::new());
            for plan in &service.plans {
                if plan.id.trim().is_empty() || !plan_ids.insert(&plan.id) {
                    problems.push(format!("{label}: plan {:?} needs an id of its own", plan.name));
                }
                if plan.name.trim().is_empty() || !plan_names.insert(&plan.name) {
                    problems.push(format!("{label}: plan names must be present and unique ({:?})", plan.name));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_are_checked_as_cf_checks_them() {
        let good = serde_json::json!({"services": [{"id": "s1", "name": "db", "description": "d", "bindable": true,
            "plans": [{"id": "p1", "name": "small", "description": "d"}]}]});
        assert_eq!(Catalog::parse(&good).unwrap().services[0].plans[0].name, "small");

        let missing = serde_json::json!({"services": [{"id": "s1", "name": "db", "bindable": true, "plans": []}]});
        let e = Catalog::parse(&missing).unwrap_err();
        assert_eq!((e.code, e.name.as_str()), (270012, "ServiceBrokerCatalogInvalid"));
        assert!(e.description.contains("description"), "{}", e.description);

        let bad = serde_json::json!({"services": [
            {"id": "s1", "name": "db", "description": "d", "bindable": true, "plans": []},
            {"id": "s1", "name": "db", "description": "d", "bindable": true,
             "plans": [{"id": "p", "name": "a", "description": "d"}, {"id": "p", "name": "a", "description": "d"}]}]});
        let e = Catalog::parse(&bad).unwrap_err().description;
        for problem in ["at least one plan", "id \"s1\" is not unique", "name is not unique", "needs an id of its own"]
        {
            assert!(e.contains(problem), "{problem} in {e}");
        }
    }
}
