//! Which orgs may use a plan that is not public.

use super::resource::{Resource, ToOne};
use super::{ORGANIZATIONS, SERVICE_PLANS};
use crate::cc::permissions::Visibility;

pub static SERVICE_PLAN_VISIBILITIES: Resource = Resource {
    table: "service_plan_visibilities",
    path: "/v2/service_plan_visibilities",
    fields: &[],
    to_one: &[
        ToOne { name: "service_plan", resource: &SERVICE_PLANS },
        ToOne { name: "organization", resource: &ORGANIZATIONS },
    ],
    to_many: &[],
    not_found: "ServicePlanVisibilityNotFound",
    filters: &["service_plan_guid", "organization_guid"],
    scope: None,
    visibility: Visibility::InOrg("organization_guid"),
};
