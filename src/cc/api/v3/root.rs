//! The v3 root (`/v3`, linking the collections served), jobs, and
//! isolation segments (none: instances run on the shared DEA pool).

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use serde_json::{Value, json};

use crate::cc::Cc;
use crate::cc::api::info::V3_VERSION;
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::job::Job;
use crate::cc::v3::errors;

pub async fn root(State(cc): State<Cc>) -> Json<Value> {
    let url = cc.config.external_url();
    let mut links = serde_json::Map::new();
    links.insert("self".into(), json!({"href": format!("{url}/v3")}));
    for name in LINKED {
        links.insert(name.to_string(), json!({"href": format!("{url}/v3/{name}")}));
    }
    Json(json!({ "links": links, "version": V3_VERSION }))
}

/// The collections `/v3` links to: those served.
const LINKED: [&str; 29] = [
    "apps",
    "audit_events",
    "buildpacks",
    "builds",
    "deployments",
    "domains",
    "droplets",
    "environment_variable_groups",
    "feature_flags",
    "isolation_segments",
    "jobs",
    "organization_quotas",
    "organizations",
    "packages",
    "processes",
    "resource_matches",
    "roles",
    "routes",
    "security_groups",
    "service_brokers",
    "service_credential_bindings",
    "service_instances",
    "service_offerings",
    "service_plans",
    "space_quotas",
    "spaces",
    "stacks",
    "tasks",
    "users",
];

/// A v3 list of one page.
fn page(cc: &Cc, path: &str, resources: Vec<Value>) -> Value {
    let url = format!("{}{path}", cc.config.external_url());
    json!({
        "pagination": {
            "total_results": resources.len(),
            "total_pages": 1,
            "first": {"href": format!("{url}?page=1&per_page=50")},
            "last": {"href": format!("{url}?page=1&per_page=50")},
            "next": null,
            "previous": null,
        },
        "resources": resources,
    })
}

/// `GET /v3/jobs/:guid`.
pub async fn job(State(cc): State<Cc>, _user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Json<Value>> {
    let job = Job::find(&cc.db, &guid).await?;
    let state = match job.status.as_str() {
        "finished" => "COMPLETE",
        "failed" => "FAILED",
        _ => "PROCESSING",
    };
    let errors: Vec<Value> = job
        .error_details
        .iter()
        .map(|details| {
            let error = ApiError {
                status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                code: details["code"].as_u64().unwrap_or(10001) as u32,
                name: details["error_code"].as_str().unwrap_or("CF-UnknownError").trim_start_matches("CF-").to_string(),
                description: details["description"].as_str().unwrap_or_default().to_string(),
            };
            errors::body(&error)["errors"][0].clone()
        })
        .collect();
    Ok(Json(json!({
        "guid": job.guid,
        "created_at": job.created_at,
        "updated_at": job.updated_at.clone().unwrap_or_else(|| job.created_at.clone()),
        "operation": job.operation,
        "state": state,
        "errors": errors,
        "warnings": [],
        "links": {"self": {"href": format!("{}/v3/jobs/{guid}", cc.config.external_url())}},
    })))
}

/// `GET /v3/{apps,processes}/:guid/sidecars`: none (an instance here is
/// one wasm component).
pub async fn no_sidecars(State(cc): State<Cc>, _user: CurrentUser, OriginalUri(uri): OriginalUri) -> Json<Value> {
    Json(page(&cc, uri.path(), Vec::new()))
}

/// `GET /v3/info/deas` (wasmfoundry's, for admins: CF leaves its cells to
/// BOSH and `cfdot cells`): each DEA heard from, with the memory and disk
/// it offers and has free, and the instances it runs.
pub async fn deas(State(cc): State<Cc>, user: CurrentUser) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let deas = cc.deas.live().into_iter().map(|dea| {
        json!({
            "guid": dea.id,
            "stacks": dea.stacks,
            "memory_in_mb": {"total": dea.memory_capacity, "free": dea.available_memory},
            "disk_in_mb": {"total": dea.disk_capacity, "free": dea.available_disk},
            "instances": dea.app_id_to_count.values().sum::<u32>(),
            "apps": dea.app_id_to_count.len(),
        })
    });
    Ok(Json(page(&cc, "/v3/info/deas", deas.collect())))
}

/// `GET /v3/info/health_manager` (wasmfoundry's, for admins): which health
/// manager acts — the holder of the lease — and whether its lease is
/// current; with none current, crashed instances are not started again.
pub async fn health_manager(State(cc): State<Cc>, user: CurrentUser) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let holder = crate::lifecycle::lease::holder(&cc.db).await?;
    let now = chrono::Utc::now().timestamp_millis();
    Ok(Json(match holder {
        Some((holder, expires)) => json!({
            "holder": holder,
            "acting": expires > now,
            "lease_expires_at": chrono::DateTime::from_timestamp_millis(expires).map(|t| t.to_rfc3339()),
        }),
        None => json!({"holder": null, "acting": false, "lease_expires_at": null}),
    }))
}

/// `GET /v3/isolation_segments`: none.
pub async fn isolation_segments(State(cc): State<Cc>, _user: CurrentUser) -> Json<Value> {
    Json(page(&cc, "/v3/isolation_segments", Vec::new()))
}

/// `GET /v3/{spaces,organizations}/:guid/relationships/{isolation_segment,default_isolation_segment}`:
/// none either.
pub async fn no_isolation_segment(
    State(cc): State<Cc>,
    _user: CurrentUser,
    OriginalUri(uri): OriginalUri,
) -> Json<Value> {
    Json(json!({"data": null, "links": {"self": {"href": format!("{}{}", cc.config.external_url(), uri.path())}}}))
}
