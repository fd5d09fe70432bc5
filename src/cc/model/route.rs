//! Routes (host, domain, path, port) and their mappings to apps.

use super::resource::{Kind::*, Resource, ToOne, field, to_many};
use super::{APPS, SHARED_DOMAINS, SPACES};
use crate::cc::permissions::Visibility;

pub static ROUTES: Resource = Resource {
    table: "routes",
    path: "/v2/routes",
    fields: &[
        field("host", Text),
        field("path", Text),
        field("port", Int),
        field("service_instance_guid", Const("null")),
    ],
    to_one: &[ToOne { name: "domain", resource: &SHARED_DOMAINS }, ToOne { name: "space", resource: &SPACES }],
    to_many: &[
        to_many("apps", &APPS, "guid IN (SELECT app_guid FROM route_mappings WHERE route_guid = ?)"),
        to_many("route_mappings", &ROUTE_MAPPINGS, "route_guid = ?"),
    ],
    not_found: "RouteNotFound",
    filters: &["host", "domain_guid", "path", "port", "space_guid"],
    scope: None,
    visibility: Visibility::InSpace("space_guid"),
};

pub static ROUTE_MAPPINGS: Resource = Resource {
    table: "route_mappings",
    path: "/v2/route_mappings",
    fields: &[field("app_port", Int)],
    to_one: &[ToOne { name: "app", resource: &APPS }, ToOne { name: "route", resource: &ROUTES }],
    to_many: &[],
    not_found: "RouteMappingNotFound",
    filters: &["app_guid", "route_guid"],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = route_mappings.app_guid)"),
};
