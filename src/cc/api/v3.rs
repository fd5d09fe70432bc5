//! The slice of CF's v3 API that cf CLI v6 consults beside v2: the `/v3`
//! link map, apps by name (push looks up an existing app's buildpacks), and
//! isolation segments (none: instances run on the shared DEA pool);
//! deployments live in [`super::deployments`]. The advertised v3 version
//! keeps v6 clients on v2 for everything else.

use axum::Json;
use axum::extract::{OriginalUri, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::info::V3_VERSION;
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::APPS;
use crate::cc::model::sql::Condition;

pub async fn root(State(cc): State<Cc>) -> Json<Value> {
    let url = cc.config.external_url();
    Json(json!({ "links": {
        "self": {"href": format!("{url}/v3")},
        "apps": {"href": format!("{url}/v3/apps")},
        "deployments": {"href": format!("{url}/v3/deployments")},
        "isolation_segments": {"href": format!("{url}/v3/isolation_segments")},
        "spaces": {"href": format!("{url}/v3/spaces")},
        "organizations": {"href": format!("{url}/v3/organizations")},
    }, "version": V3_VERSION }))
}

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

#[derive(Deserialize)]
pub struct AppsQuery {
    #[serde(default)]
    names: String,
    #[serde(default)]
    space_guids: String,
}

/// `GET /v3/apps?names=…&space_guids=…`: apps as v3 shows them.
pub async fn apps(State(cc): State<Cc>, user: CurrentUser, Query(query): Query<AppsQuery>) -> ApiResult<Json<Value>> {
    let mut conditions = Vec::new();
    for (column, list) in [("name", &query.names), ("space_guid", &query.space_guids)] {
        let values: Vec<&str> = list.split(',').filter(|v| !v.is_empty()).collect();
        if !values.is_empty() {
            let marks = vec!["?"; values.len()].join(", ");
            conditions.push(Condition::raw(&format!("{column} IN ({marks})"), &values));
        }
    }
    conditions.extend(APPS.visibility.condition(&user.user));
    let rows = APPS.select(&cc.db, &conditions, "ORDER BY id LIMIT 50").await?;
    let url = cc.config.external_url();
    let resources = rows
        .iter()
        .map(|row| {
            let v2 = APPS.render(row);
            let (guid, e) = (&v2["metadata"]["guid"], &v2["entity"]);
            let buildpacks: Vec<&Value> = e["buildpack"].as_str().map(|_| &e["buildpack"]).into_iter().collect();
            json!({
                "guid": guid,
                "name": e["name"],
                "state": e["state"],
                "created_at": v2["metadata"]["created_at"],
                "updated_at": v2["metadata"]["updated_at"],
                "lifecycle": {"type": "buildpack", "data": {"buildpacks": buildpacks, "stack": crate::protocol::STACK}},
                "relationships": {"space": {"data": {"guid": e["space_guid"]}}},
                "links": {"self": {"href": format!("{url}/v3/apps/{}", guid.as_str().unwrap_or_default())}},
            })
        })
        .collect();
    Ok(Json(page(&cc, "/v3/apps", resources)))
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
