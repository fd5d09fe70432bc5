//! An app's revisions (`cf revisions`): `/v3/apps/:guid/revisions`, the
//! one deployed now (`…/revisions/deployed`: the newest, while the app
//! runs), and a revision's environment variables. Deploying one again is a
//! deployment's (`cf rollback`: [`super::deployments`]).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::Record;
use crate::cc::model::app::App;
use crate::cc::model::revision::Revision;
use crate::cc::model::sql::Condition;
use crate::cc::v3::revision::REVISIONS;

/// `GET /v3/apps/:guid/revisions/deployed`: the newest, while the app runs.
pub async fn deployed(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(app): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let started = App::find_for(&cc.db, &app, &user.user).await?.is_started();
    let newest = Condition::raw("version = (SELECT MAX(version) FROM revisions r WHERE r.app_guid = ?)", &[&app]);
    let mut conditions = vec![Condition::eq("app_guid", &app), newest];
    if !started {
        conditions.push(Condition::raw("1 = 0", &[]));
    }
    let path = format!("/v3/apps/{app}/revisions/deployed");
    Ok(Json(REVISIONS.list(&cc, &user.user, query.as_deref(), conditions, &path).await?))
}

/// `GET /v3/revisions/:guid/environment_variables`.
pub async fn environment_variables(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
) -> ApiResult<Json<Value>> {
    let revision = Revision::find_for(&cc.db, &guid, &user.user).await?;
    let variables: Value = serde_json::from_str(&revision.environment_json).unwrap_or_else(|_| json!({}));
    let url = cc.config.external_url();
    Ok(Json(json!({
        "var": variables,
        "links": {
            "self": {"href": format!("{url}/v3/revisions/{guid}/environment_variables")},
            "revision": {"href": format!("{url}/v3/revisions/{guid}")},
        },
    })))
}
