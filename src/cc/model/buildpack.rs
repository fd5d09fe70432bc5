//! Admin buildpacks: the buildpack components staging tries, in order of
//! position.

use super::resource::{Kind::*, Resource, field};
use crate::cc::permissions::Visibility;

pub static BUILDPACKS: Resource = Resource {
    table: "buildpacks",
    path: "/v2/buildpacks",
    fields: &[
        field("name", Text),
        field("stack", Text),
        field("position", Int),
        field("enabled", Bool),
        field("locked", Bool),
        field("filename", Text),
    ],
    to_one: &[],
    to_many: &[],
    not_found: "NotFound",
    filters: &["name", "stack", "position", "enabled"],
    scope: None,
    visibility: Visibility::Everyone,
};
