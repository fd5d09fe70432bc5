//! Droplets (v3): what staging a package made, stored under its SHA1, with
//! the buildpack that made it and the start command it detected.

use super::resource::{Kind::*, Resource, field};
use crate::cc::permissions::Visibility;

pub static DROPLETS: Resource = Resource {
    table: "droplets",
    path: "/v3/droplets",
    fields: &[field("state", Text), field("sha1", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "DropletNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = droplets.app_guid)"),
};
