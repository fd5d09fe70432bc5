//! The audit trail (`/v2/events`): every change a user makes to an app,
//! route, space or org is recorded as CF names it (`audit.app.create`,
//! `audit.app.start`, `audit.space.delete-request`…), and so is every crash
//! (`app.crash`, acted by the app itself).

use serde_json::Value;
use sqlx::AnyPool;

use super::Record;
use super::resource::{Kind::*, Resource, field};
use super::space::Space;
use crate::cc::auth::User;
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

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

/// What an event is about.
pub struct Actee<'a> {
    pub guid: &'a str,
    /// app, route, space or organization.
    pub kind: &'a str,
    pub name: &'a str,
    /// Where it lives ("" for an org's own events).
    pub space_guid: &'a str,
    pub organization_guid: &'a str,
}

/// Who did it.
pub enum Actor<'a> {
    User(&'a User),
    /// The app itself (crashes).
    App {
        guid: &'a str,
        name: &'a str,
    },
}

/// Records an event. A failure to record is logged, never fails the change.
pub async fn record(db: &AnyPool, kind: &str, actor: Actor<'_>, actee: &Actee<'_>, metadata: Value) {
    let (actor_guid, actor_type, actor_name) = match actor {
        Actor::User(user) => (user.guid.as_str(), "user", user.username.as_str()),
        Actor::App { guid, name } => (guid, "app", name),
    };
    let stamp = now();
    let result = sqlx::query(
        "INSERT INTO events (guid, type, actor, actor_type, actor_name, actee, actee_type, actee_name, timestamp, metadata, \
         space_guid, organization_guid, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(new_guid())
    .bind(kind)
    .bind(actor_guid)
    .bind(actor_type)
    .bind(actor_name)
    .bind(actee.guid)
    .bind(actee.kind)
    .bind(actee.name)
    .bind(&stamp)
    .bind(metadata.to_string())
    .bind(actee.space_guid)
    .bind(actee.organization_guid)
    .bind(&stamp)
    .execute(db)
    .await;
    if let Err(e) = result {
        tracing::error!("recording event {kind}: {e}");
    }
}

/// The org a space belongs to, for the events of what lives in it.
pub async fn org_of_space(db: &AnyPool, space_guid: &str) -> String {
    Space::find(db, space_guid).await.map(|space| space.organization_guid).unwrap_or_default()
}
