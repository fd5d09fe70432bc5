//! The read-only routes every resource gets from its declaration alone:
//! its list, one member, and each served to-many relation
//! (`/v2/spaces/:guid/apps`) — all limited to what the user may see.

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::resource::Resource;
use crate::cc::model::sql::Condition;
use crate::cc::v2::list_params::ListParams;

/// Adds `GET <path>`, `GET <path>/{guid}` and the nested lists.
pub fn routes(router: Router<Cc>, resource: &'static Resource) -> Router<Cc> {
    routes_with_members(router, resource, resource)
}

/// As [`routes`], but members (and their nested lists) are found among the
/// rows of `members`: CF lists only brokered service instances at
/// `/v2/service_instances` but finds user-provided ones there too.
pub fn routes_with_members(
    mut router: Router<Cc>,
    resource: &'static Resource,
    members: &'static Resource,
) -> Router<Cc> {
    router = router
        .route(
            resource.path,
            get(move |State(cc): State<Cc>, CurrentUser { user }: CurrentUser, RawQuery(query): RawQuery| async move {
                let params = ListParams::parse(query.as_deref())?;
                resource.list(&cc.db, &user, &params, vec![], resource.path).await.map(Json)
            }),
        )
        .route(
            &format!("{}/{{guid}}", resource.path),
            get(
                move |State(cc): State<Cc>,
                      CurrentUser { user }: CurrentUser,
                      Path(guid): Path<String>,
                      RawQuery(query): RawQuery| async move {
                    let params = ListParams::parse(query.as_deref())?;
                    let row = members.find_for(&cc.db, &guid, &user).await?;
                    let mut one = members.render_all(&cc.db, &[row], params.inline_relations_depth).await?;
                    ApiResult::Ok(Json(one.remove(0)))
                },
            ),
        );
    for relation in resource.to_many.iter().filter(|r| r.always_empty) {
        router = router.route(
            &format!("{}/{{guid}}/{}", resource.path, relation.name),
            get(move |State(cc): State<Cc>, CurrentUser { user }: CurrentUser, Path(guid): Path<String>| async move {
                members.find_for(&cc.db, &guid, &user).await?;
                ApiResult::Ok(Json(
                    json!({"total_results": 0, "total_pages": 1, "prev_url": null, "next_url": null, "resources": []}),
                ))
            }),
        );
    }
    for relation in resource.to_many {
        let Some(child) = relation.resource else { continue };
        let (name, condition) = (relation.name, relation.condition);
        router = router.route(
            &format!("{}/{{guid}}/{name}", resource.path),
            get(
                move |State(cc): State<Cc>,
                      CurrentUser { user }: CurrentUser,
                      Path(guid): Path<String>,
                      RawQuery(query): RawQuery| async move {
                    members.find_for(&cc.db, &guid, &user).await?;
                    let params = ListParams::parse(query.as_deref())?;
                    let base = format!("{}/{guid}/{name}", resource.path);
                    child.list(&cc.db, &user, &params, vec![Condition::raw(condition, &[&guid])], &base).await.map(Json)
                },
            ),
        );
    }
    router
}

/// 201 Created with the resource and its Location, as CF answers creates and updates.
pub async fn created(resource: &Resource, cc: &Cc, guid: &str) -> ApiResult<Response> {
    let value = resource.get(&cc.db, guid).await?;
    Ok((StatusCode::CREATED, [("location", resource.url(guid))], Json(value)).into_response())
}
