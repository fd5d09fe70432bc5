//! Audit events: who did what to which app, space or org, and app crashes.

use super::resource::{Kind::*, Resource, field};
use crate::cc::permissions::Visibility;

pub static EVENTS: Resource = Resource {
    table: "events",
    path: "/v2/events",
    fields: &[
        field("type", Text),
        field("actor", Text),
        field("actor_type", Text),
        field("actor_name", Text),
        field("actee", Text),
        field("actee_type", Text),
        field("actee_name", Text),
        field("timestamp", Text),
        field("metadata", Json),
        field("space_guid", Text),
        field("organization_guid", Text),
    ],
    to_one: &[],
    to_many: &[],
    not_found: "EventNotFound",
    filters: &["type", "actee", "actor", "timestamp", "space_guid", "organization_guid"],
    scope: None,
    visibility: Visibility::InSpace("space_guid"),
};
