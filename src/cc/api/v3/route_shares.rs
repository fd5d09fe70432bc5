//! A route's spaces in v3: the spaces it is shared with (`cf share-route`,
//! `cf unshare-route`: `/v3/routes/:guid/relationships/shared_spaces`)
//! and the space that owns it (`cf move-route`: `PATCH
//! /v3/routes/:guid/relationships/space`). The work is
//! [`crate::cc::routing`]'s.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::body::{Body, invalid};
use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::route::RouteShares;
use crate::cc::routing;
use crate::cc::v3::route::ROUTES;

/// `{"data": [{"guid": …}…], "links": {"self": …}}`.
async fn shared_spaces(cc: &Cc, route: &str) -> ApiResult<Json<Value>> {
    let spaces = RouteShares::of_route(&cc.db, route).await?;
    let data: Vec<Value> = spaces.iter().map(|guid| json!({"guid": guid})).collect();
    let href = format!("{}/v3/routes/{route}/relationships/shared_spaces", cc.config.external_url());
    Ok(Json(json!({"data": data, "links": {"self": {"href": href}}})))
}

/// `GET /v3/routes/:guid/relationships/shared_spaces`.
pub async fn list(State(cc): State<Cc>, user: CurrentUser, Path(route): Path<String>) -> ApiResult<Json<Value>> {
    ROUTES.find_for(&cc, &user.user, &route).await?;
    shared_spaces(&cc, &route).await
}

/// `POST /v3/routes/:guid/relationships/shared_spaces` `{"data": [{"guid"}…]}`.
pub async fn share(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(route): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let body = Body::parse(&bytes, &["data"])?;
    let spaces: Option<Vec<String>> = body
        .at("data")
        .and_then(Value::as_array)
        .map(|data| data.iter().map(|space| space["guid"].as_str().map(str::to_string)).collect())
        .and_then(|guids: Option<Vec<String>>| guids);
    let spaces = spaces.filter(|s| !s.is_empty()).ok_or_else(|| invalid("Data must be an array of space guids"))?;
    routing::share(&cc, &user, &route, &spaces).await?;
    shared_spaces(&cc, &route).await
}

/// `DELETE /v3/routes/:guid/relationships/shared_spaces/:space`: 204.
pub async fn unshare(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path((route, space)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    routing::unshare(&cc, &user, &route, &space).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /v3/routes/:guid/relationships/space` `{"data": {"guid"}}`: 204.
pub async fn move_to_space(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(route): Path<String>,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    let body = Body::parse(&bytes, &["data"])?;
    let space = body.string("data/guid", "Space guid")?.ok_or_else(|| invalid("Data guid can't be blank"))?;
    routing::move_to_space(&cc, &user, &route, &space).await?;
    Ok(StatusCode::NO_CONTENT)
}
