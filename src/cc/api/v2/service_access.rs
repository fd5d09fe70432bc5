//! Who may use which plan (`cf enable-service-access`,
//! `disable-service-access`, `service-access`): a plan is public (every
//! org) or made visible to chosen orgs by a
//! `/v2/service_plan_visibilities` row. Admins decide; the marketplace
//! shows each user what their orgs may use.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::body::Body;
use super::collection::created;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::{SERVICE_PLAN_VISIBILITIES, SERVICE_PLANS};
use crate::cc::permissions::require;
use crate::cc::{Cc, service_brokers};

/// `PUT /v2/service_plans/:guid` (admins): make a plan public or not.
pub async fn update_plan(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(guid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    require(user.user.admin)?;
    SERVICE_PLANS.find(&cc.db, &guid).await?;
    let body = Body::parse(&bytes, "ServicePlanInvalid")?;
    if let Some(public) = body.bool("public")? {
        service_brokers::set_public(&cc, &guid, public).await?;
    }
    created(&SERVICE_PLANS, &cc, &guid).await
}

/// `POST /v2/service_plan_visibilities` (admins): a plan for one org.
pub async fn create(State(cc): State<Cc>, user: CurrentUser, bytes: Bytes) -> ApiResult<Response> {
    require(user.user.admin)?;
    let body = Body::parse(&bytes, "ServicePlanVisibilityInvalid")?;
    let plan = body.required_string("service_plan_guid")?;
    let org = body.required_string("organization_guid")?;
    let guid = service_brokers::show_to_org(&cc, &plan, &org).await?;
    created(&SERVICE_PLAN_VISIBILITIES, &cc, &guid).await
}

/// `DELETE /v2/service_plan_visibilities/:guid` (admins).
pub async fn delete(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<StatusCode> {
    require(user.user.admin)?;
    SERVICE_PLAN_VISIBILITIES.find(&cc.db, &guid).await?;
    SERVICE_PLAN_VISIBILITIES.delete(&cc.db, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}
