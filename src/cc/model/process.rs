//! Processes: how an app runs, one per process type — instances, memory,
//! disk, command and health check. An app's `web` process is the app's own
//! row (its guid is the app's, as CCNG gives an app made through v2); its
//! other types (a Procfile's `worker: …`, a manifest's `processes:`) are
//! rows of `processes`, each with its own guid, the key its instances run
//! under on the DEAs. Both read as one table:
//! [`crate::lifecycle::desired::EVERY_PROCESS`].
//!
//! Staging reports the droplet's process types; an app gets a process for
//! each new type (no instances until scaled, as in CF), and loses those
//! its droplet no longer has, unless the user gave them a command.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::app::App;
use super::resource::{Kind::*, Record, Resource, field, text_column};
use super::sql::{Assignments, Condition, SqlValue};
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};
use crate::lifecycle::desired::EVERY_PROCESS;
use crate::protocol::MAX_PROCESS_TYPES;

pub static PROCESSES: Resource = Resource {
    table: EVERY_PROCESS,
    path: "/v3/processes",
    fields: &[field("type", Text), field("instances", Int)],
    to_one: &[],
    to_many: &[],
    not_found: "ProcessNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("space_guid"),
};

pub const WEB: &str = "web";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub guid: String,
    pub app_guid: String,
    pub kind: String,
    /// The user's command.
    pub command: Option<String>,
    /// The droplet's command for this type.
    pub detected_command: Option<String>,
    pub instances: u32,
    pub memory_mb: u64,
    pub disk_quota_mb: u64,
    pub health_check_type: Option<String>,
    pub health_check_timeout: Option<u64>,
    pub health_check_http_endpoint: Option<String>,
    /// The app's: its version, and whether it is started and staged.
    pub version: String,
    pub started: bool,
    pub staged: bool,
    /// While a deployment rolls the app out step by step: how many of its
    /// indices run `version` (see [`crate::cc::deployments`]).
    pub rolled_out: Option<u32>,
}

/// What a change to a process sets (None: left as it is).
#[derive(Debug, Default)]
pub struct ProcessChanges {
    pub instances: Option<i64>,
    pub memory: Option<i64>,
    pub disk_quota: Option<i64>,
    pub command: Option<Option<String>>,
    pub health_check_type: Option<String>,
    pub health_check_timeout: Option<Option<i64>>,
    pub health_check_http_endpoint: Option<Option<String>>,
}

impl Record for Process {
    const RESOURCE: &'static Resource = &PROCESSES;

    fn from_row(row: &AnyRow) -> Process {
        let text = |column: &str| text_column(row, column).filter(|value| !value.is_empty());
        let count = |column: &str| row.try_get::<Option<i64>, _>(column).ok().flatten().map(|n| n.max(0) as u64);
        Process {
            guid: text("guid").unwrap_or_default(),
            app_guid: text("app_guid").unwrap_or_default(),
            kind: text("type").unwrap_or_default(),
            command: text("command"),
            detected_command: text("detected_command"),
            instances: count("instances").unwrap_or(0) as u32,
            memory_mb: count("memory").unwrap_or(0),
            disk_quota_mb: count("disk_quota").unwrap_or(0),
            health_check_type: text("health_check_type"),
            health_check_timeout: count("health_check_timeout"),
            health_check_http_endpoint: text("health_check_http_endpoint"),
            version: text("version").unwrap_or_default(),
            started: text("state").as_deref() == Some("STARTED"),
            staged: text("package_state").as_deref() == Some("STAGED"),
            rolled_out: count("rolled_out_instances").map(|n| n as u32),
        }
    }
}

impl Process {
    /// How many of its indices (from 0) run its app's version now.
    pub fn reached(&self) -> u32 {
        self.rolled_out.map_or(self.instances, |rolled_out| rolled_out.min(self.instances))
    }

    /// The app's web process (its own row).
    pub fn is_web(&self) -> bool {
        self.guid == self.app_guid
    }

    /// The command its instances run: the user's, else the droplet's.
    pub fn effective_command(&self) -> Option<String> {
        self.command.clone().or_else(|| self.detected_command.clone())
    }

    /// The process by guid, if there is one.
    pub async fn find_optional(db: &AnyPool, guid: &str) -> ApiResult<Option<Process>> {
        Ok(PROCESSES.find_optional(db, guid).await?.as_ref().map(Process::from_row))
    }

    /// The app's process of type `kind`, if it has one.
    pub async fn of_type(db: &AnyPool, app: &str, kind: &str) -> ApiResult<Option<Process>> {
        let conditions = [Condition::eq("app_guid", app), Condition::eq("type", kind)];
        Ok(PROCESSES.select(db, &conditions, "").await?.first().map(Process::from_row))
    }

    /// Every process of the app, web last.
    pub async fn of_app(db: &AnyPool, app: &str) -> ApiResult<Vec<Process>> {
        let conditions = [Condition::eq("app_guid", app)];
        let order = "ORDER BY CASE WHEN type = 'web' THEN 1 ELSE 0 END, type";
        Ok(PROCESSES.select(db, &conditions, order).await?.iter().map(Process::from_row).collect())
    }

    /// The app's processes other than web.
    pub async fn others_of_app(db: &AnyPool, app: &str) -> ApiResult<Vec<Process>> {
        let conditions = [Condition::eq("app_guid", app), Condition::raw("type <> ?", &[WEB])];
        Ok(PROCESSES.select(db, &conditions, "ORDER BY type").await?.iter().map(Process::from_row).collect())
    }

    /// Adds a process of type `kind` (not web) to the app, with no
    /// instances and the web process's memory and disk; its guid.
    pub async fn create(db: &AnyPool, app: &App, kind: &str) -> ApiResult<String> {
        let existing = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM processes WHERE app_guid = $1")
            .bind(&app.guid)
            .fetch_one(db)
            .await?;
        if existing as usize + 1 >= MAX_PROCESS_TYPES {
            let detail = format!("An app may have {MAX_PROCESS_TYPES} process types at most");
            return Err(ApiError::new("UnprocessableEntity", &[&detail]));
        }
        let guid = new_guid();
        let at = now();
        sqlx::query(
            "INSERT INTO processes (guid, app_guid, type, memory, disk_quota, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&guid)
        .bind(&app.guid)
        .bind(kind)
        .bind(app.memory_mb as i64)
        .bind(app.disk_quota_mb as i64)
        .bind(&at)
        .execute(db)
        .await?;
        Ok(guid)
    }

    /// Stores a change of a process other than web (the web process is
    /// the app's row: [`crate::cc::app_changes`]).
    pub async fn update(db: &AnyPool, guid: &str, changes: &ProcessChanges) -> ApiResult<()> {
        let mut set = Assignments::default();
        for (column, value) in
            [("instances", changes.instances), ("memory", changes.memory), ("disk_quota", changes.disk_quota)]
        {
            if let Some(value) = value {
                set.set(column, SqlValue::Int(Some(value)));
            }
        }
        if let Some(command) = &changes.command {
            set.set("command", SqlValue::Text(command.clone()));
        }
        if let Some(kind) = &changes.health_check_type {
            set.set("health_check_type", SqlValue::Text(Some(kind.clone())));
        }
        if let Some(timeout) = changes.health_check_timeout {
            set.set("health_check_timeout", SqlValue::Int(timeout));
        }
        if let Some(endpoint) = &changes.health_check_http_endpoint {
            set.set("health_check_http_endpoint", SqlValue::Text(endpoint.clone()));
        }
        set.save(db, "processes", guid, "ProcessNotFound", guid).await
    }

    /// Records the droplet's process types for the app (`types`: type →
    /// command): the other processes get their droplet's commands, new types
    /// a process each, and types the droplet no longer has go unless the
    /// user gave them a command.
    pub async fn record_types(db: &AnyPool, app: &App, types: &BTreeMap<String, String>) -> ApiResult<()> {
        for process in Process::others_of_app(db, &app.guid).await? {
            let detected = types.get(&process.kind);
            if detected.is_none() && process.command.is_none() {
                sqlx::query("DELETE FROM processes WHERE guid = $1").bind(&process.guid).execute(db).await?;
                continue;
            }
            sqlx::query("UPDATE processes SET detected_command = $1 WHERE guid = $2")
                .bind(detected)
                .bind(&process.guid)
                .execute(db)
                .await?;
        }
        for (kind, command) in types.iter().filter(|(kind, _)| kind.as_str() != WEB) {
            if Process::of_type(db, &app.guid, kind).await?.is_none() {
                let guid = Process::create(db, app, kind).await?;
                sqlx::query("UPDATE processes SET detected_command = $1 WHERE guid = $2")
                    .bind(command)
                    .bind(&guid)
                    .execute(db)
                    .await?;
            }
        }
        Ok(())
    }
}
