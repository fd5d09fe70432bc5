//! Revisions (v3): what an app ran as — its droplet, environment variables
//! and web command — recorded when a started app rolls out with one of
//! them changed (a plain restart makes none, as in CF), numbered per app
//! from 1. The newest is the one deployed while the app runs; `cf
//! rollback` deploys an older one again, as a new revision. An app keeps
//! its [`KEPT_PER_APP`] newest.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::app::App;
use super::resource::{Kind::*, Record, Resource, field, text_column};
use crate::cc::error::ApiResult;
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

pub static REVISIONS: Resource = Resource {
    table: "revisions",
    path: "/v3/revisions",
    fields: &[field("version", Int), field("description", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "RevisionNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = revisions.app_guid)"),
};

/// Revisions kept per app (CCNG's `max_retained_revisions_per_app`).
pub const KEPT_PER_APP: i64 = 100;

/// What a revision holds, to deploy it again.
pub struct Revision {
    pub app_guid: String,
    pub version: i64,
    pub droplet_guid: Option<String>,
    pub droplet_hash: Option<String>,
    pub environment_json: String,
    pub command: Option<String>,
}

impl Record for Revision {
    const RESOURCE: &'static Resource = &REVISIONS;

    fn from_row(row: &AnyRow) -> Revision {
        Revision {
            app_guid: text_column(row, "app_guid").unwrap_or_default(),
            version: row.try_get("version").unwrap_or(0),
            droplet_guid: text_column(row, "droplet_guid"),
            droplet_hash: text_column(row, "droplet_hash"),
            environment_json: text_column(row, "environment_json").unwrap_or_else(|| "{}".into()),
            command: text_column(row, "command").filter(|c| !c.is_empty()),
        }
    }
}

impl Revision {
    /// Gives its app what it ran: its droplet, environment and command.
    pub async fn restore(&self, db: &AnyPool) -> ApiResult<()> {
        sqlx::query(
            "UPDATE apps SET droplet_guid = $1, droplet_hash = $2, environment_json = $3, command = $4, \
             package_state = 'STAGED', updated_at = $5 WHERE guid = $6",
        )
        .bind(&self.droplet_guid)
        .bind(&self.droplet_hash)
        .bind(&self.environment_json)
        .bind(&self.command)
        .bind(now())
        .bind(&self.app_guid)
        .execute(db)
        .await?;
        Ok(())
    }

    /// The app's newest revision, if it has one.
    pub async fn latest(db: &AnyPool, app: &str) -> ApiResult<Option<Revision>> {
        let row = sqlx::query("SELECT * FROM revisions WHERE app_guid = $1 ORDER BY version DESC LIMIT 1")
            .bind(app)
            .fetch_optional(db)
            .await?;
        Ok(row.as_ref().map(Revision::from_row))
    }

    /// Records what the app runs as now, if its droplet, environment or
    /// command differ from its newest revision's; `why` describes it (else
    /// the change found).
    pub async fn record(db: &AnyPool, app: &App, why: Option<String>) -> ApiResult<()> {
        let latest = Revision::latest(db, &app.guid).await?;
        let description = match (&latest, why) {
            (_, Some(why)) => why,
            (None, None) => "Initial revision.".to_string(),
            (Some(latest), None) => {
                let mut changes = Vec::new();
                if latest.droplet_hash != app.droplet_hash {
                    changes.push("New droplet deployed.");
                }
                if latest.environment_json != app.environment_json {
                    changes.push("New environment variables deployed.");
                }
                if latest.command != app.command {
                    changes.push("Custom start command updated.");
                }
                if changes.is_empty() {
                    return Ok(());
                }
                changes.join(" ")
            }
        };
        let version = latest.map_or(1, |latest| latest.version + 1);
        sqlx::query(
            "INSERT INTO revisions (guid, app_guid, version, droplet_guid, droplet_hash, environment_json, command, \
             description, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_guid())
        .bind(&app.guid)
        .bind(version)
        .bind(&app.droplet_guid)
        .bind(&app.droplet_hash)
        .bind(&app.environment_json)
        .bind(&app.command)
        .bind(description)
        .bind(now())
        .execute(db)
        .await?;
        sqlx::query("DELETE FROM revisions WHERE app_guid = $1 AND version <= $2")
            .bind(&app.guid)
            .bind(version - KEPT_PER_APP)
            .execute(db)
            .await?;
        Ok(())
    }
}
