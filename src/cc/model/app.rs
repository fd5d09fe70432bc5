//! Apps: what a user pushed and how it should run (instances, memory,
//! disk, command, health check, state), and its package and droplet.

use serde_json::{Map, Value};
use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::deployment::WebScale;
use super::resource::{Kind, Kind::*, Record, Resource, ToOne, field, text_column, to_many};
use super::sql::{Assignments, Condition, SqlValue};
use super::{EVENTS, ROUTE_MAPPINGS, ROUTES, SERVICE_BINDINGS, SPACES, STACKS};
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

pub static APPS: Resource = Resource {
    table: "apps",
    path: "/v2/apps",
    fields: &[
        field("name", Text),
        field("production", Bool),
        field("buildpack", Text),
        field("detected_buildpack", Text),
        field("detected_buildpack_guid", Text),
        field("environment_json", Kind::Json),
        field("memory", Int),
        field("instances", Int),
        field("disk_quota", Int),
        field("state", Text),
        field("version", Text),
        field("command", Text),
        field("console", Const("false")),
        field("debug", Const("null")),
        field("staging_task_id", Text),
        field("package_state", Text),
        field("health_check_http_endpoint", Text),
        field("health_check_type", Text),
        field("health_check_timeout", Int),
        field("staging_failed_reason", Text),
        field("staging_failed_description", Text),
        field("diego", Const("false")),
        field("docker_image", Text),
        field("docker_credentials", Const(r#"{"username":null,"password":null}"#)),
        field("package_updated_at", Text),
        field("detected_start_command", Text),
        field("enable_ssh", Bool),
        field("ports", Const("null")),
    ],
    to_one: &[ToOne { name: "space", resource: &SPACES }, ToOne { name: "stack", resource: &STACKS }],
    to_many: &[
        to_many("routes", &ROUTES, "guid IN (SELECT route_guid FROM route_mappings WHERE app_guid = ?)"),
        to_many("events", &EVENTS, "actee = ?"),
        to_many("service_bindings", &SERVICE_BINDINGS, "app_guid = ?"),
        to_many("route_mappings", &ROUTE_MAPPINGS, "app_guid = ?"),
    ],
    not_found: "AppNotFound",
    filters: &["name", "space_guid", "stack_guid", "state", "package_state", "instances", "memory", "created_at"],
    scope: None,
    visibility: Visibility::InSpace("space_guid"),
};

/// An app as stored: what the CC acts on when it stages, starts, scales
/// and stops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub guid: String,
    pub name: String,
    pub space_guid: String,
    /// `STARTED` or `STOPPED`.
    pub state: String,
    /// `PENDING`, `STAGED` or `FAILED`.
    pub package_state: String,
    /// Changes whenever what an instance runs changes (a restart).
    pub version: String,
    pub instances: u32,
    pub memory_mb: u64,
    pub disk_quota_mb: u64,
    pub command: Option<String>,
    pub buildpack: Option<String>,
    /// The user's environment, a JSON object.
    pub environment_json: String,
    pub health_check_type: Option<String>,
    pub health_check_http_endpoint: Option<String>,
    pub health_check_timeout: Option<u64>,
    /// The SHA1 of the uploaded package, and of the droplet staged from it.
    pub package_hash: Option<String>,
    pub droplet_hash: Option<String>,
    /// The current droplet (v3), once staged.
    pub droplet_guid: Option<String>,
    /// The command its droplet starts with (staging found it).
    pub detected_start_command: Option<String>,
    /// When bits were last uploaded (None: never).
    pub package_updated_at: Option<String>,
}

/// What a new app is made with.
pub struct NewApp {
    pub name: String,
    pub space_guid: String,
    pub stack_guid: String,
    pub memory_mb: i64,
    pub instances: i64,
    pub disk_quota_mb: i64,
    pub state: String,
    pub command: Option<String>,
    pub buildpack: Option<String>,
    pub environment_json: String,
    pub health_check_type: String,
    pub health_check_timeout: Option<i64>,
    pub health_check_http_endpoint: Option<String>,
    pub production: bool,
    pub enable_ssh: bool,
}

impl Record for App {
    const RESOURCE: &'static Resource = &APPS;

    fn from_row(row: &AnyRow) -> App {
        let text = |column: &str| text_column(row, column).filter(|value| !value.is_empty());
        let count =
            |column: &str| sqlx::Row::try_get::<Option<i64>, _>(row, column).ok().flatten().map(|n| n.max(0) as u64);
        App {
            guid: text("guid").unwrap_or_default(),
            name: text("name").unwrap_or_default(),
            space_guid: text("space_guid").unwrap_or_default(),
            state: text("state").unwrap_or_default(),
            package_state: text("package_state").unwrap_or_default(),
            version: text("version").unwrap_or_default(),
            instances: count("instances").unwrap_or(0) as u32,
            memory_mb: count("memory").unwrap_or(0),
            disk_quota_mb: count("disk_quota").unwrap_or(0),
            command: text("command"),
            buildpack: text("buildpack"),
            environment_json: text("environment_json").unwrap_or_else(|| "{}".into()),
            health_check_type: text("health_check_type"),
            health_check_http_endpoint: text("health_check_http_endpoint"),
            health_check_timeout: count("health_check_timeout"),
            package_hash: text("package_hash"),
            droplet_hash: text("droplet_hash"),
            droplet_guid: text("droplet_guid"),
            detected_start_command: text("detected_start_command"),
            package_updated_at: text("package_updated_at"),
        }
    }
}

impl App {
    /// Stores a new app (its first version) and returns its guid; a name
    /// its space has already is the database's unique-constraint error.
    pub async fn insert(db: &AnyPool, new: NewApp) -> Result<String, sqlx::Error> {
        let guid = new_guid();
        sqlx::query(
            "INSERT INTO apps (guid, name, space_guid, stack_guid, memory, instances, disk_quota, state, version, command, \
             buildpack, environment_json, health_check_type, health_check_timeout, health_check_http_endpoint, production, \
             enable_ssh, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(&guid)
        .bind(new.name)
        .bind(new.space_guid)
        .bind(new.stack_guid)
        .bind(new.memory_mb)
        .bind(new.instances)
        .bind(new.disk_quota_mb)
        .bind(new.state)
        .bind(new_guid())
        .bind(new.command)
        .bind(new.buildpack)
        .bind(new.environment_json)
        .bind(new.health_check_type)
        .bind(new.health_check_timeout)
        .bind(new.health_check_http_endpoint)
        .bind(new.production)
        .bind(new.enable_ssh)
        .bind(now())
        .execute(db)
        .await?;
        Ok(guid)
    }

    /// Deletes the app, its route mappings (its routes stay), packages,
    /// builds, droplets, tasks, revisions and other process types.
    pub async fn delete(db: &AnyPool, guid: &str) -> ApiResult<()> {
        for table in ["route_mappings", "builds", "droplets", "packages", "tasks", "revisions", "processes"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE app_guid = $1")).bind(guid).execute(db).await?;
        }
        sqlx::query("DELETE FROM apps WHERE guid = $1").bind(guid).execute(db).await?;
        Ok(())
    }

    /// Makes the app's droplet (of its own, STAGED) the one its instances
    /// run from their next start, with the start command it has.
    pub async fn set_current_droplet(db: &AnyPool, guid: &str, droplet: &str) -> ApiResult<()> {
        let row = sqlx::query(
            "SELECT sha1, start_command FROM droplets WHERE guid = $1 AND app_guid = $2 AND state = 'STAGED'",
        )
        .bind(droplet)
        .bind(guid)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| {
            let detail = "Unable to assign current droplet. Ensure the droplet exists and belongs to this app.";
            ApiError::new("UnprocessableEntity", &[detail])
        })?;
        sqlx::query(
            "UPDATE apps SET droplet_guid = $1, droplet_hash = $2, detected_start_command = COALESCE($3, \
             detected_start_command), package_state = 'STAGED', updated_at = $4 WHERE guid = $5",
        )
        .bind(droplet)
        .bind(text_column(&row, "sha1"))
        .bind(text_column(&row, "start_command"))
        .bind(now())
        .bind(guid)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Scales the web process to what a deployment asks (its instances
    /// take it from their next start; the caller checked the quotas).
    pub async fn scale_web(db: &AnyPool, guid: &str, web: WebScale) -> ApiResult<()> {
        let mut set = Assignments::default();
        let values =
            [("instances", web.instances.map(u64::from)), ("memory", web.memory_in_mb), ("disk_quota", web.disk_in_mb)];
        for (column, value) in values {
            if let Some(value) = value {
                set.set(column, SqlValue::Int(Some(value as i64)));
            }
        }
        set.save(db, "apps", guid, "AppNotFound", guid).await
    }

    /// Gives the app a new version (a restart), of which `rolled_out`
    /// indices run at first (None: all); returns it.
    pub async fn new_version(db: &AnyPool, guid: &str, rolled_out: Option<u32>) -> ApiResult<String> {
        let version = new_guid();
        sqlx::query("UPDATE apps SET version = $1, rolled_out_instances = $2, updated_at = $3 WHERE guid = $4")
            .bind(&version)
            .bind(rolled_out.map(i64::from))
            .bind(now())
            .bind(guid)
            .execute(db)
            .await?;
        Ok(version)
    }

    /// The app's package (bits stored under `sha1`) is new: PENDING
    /// staging, with no staging failure.
    pub async fn take_package(db: &AnyPool, guid: &str, sha1: Option<&str>) -> ApiResult<()> {
        sqlx::query(
            "UPDATE apps SET package_hash = $1, package_state = 'PENDING', package_updated_at = $2, \
             staging_failed_reason = NULL, staging_failed_description = NULL, updated_at = $2 WHERE guid = $3",
        )
        .bind(sha1)
        .bind(now())
        .bind(guid)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Stages the app's package again (`cf restage`): PENDING, no droplet,
    /// a new version — which a deployment still rolling out does not reach.
    pub async fn restage(db: &AnyPool, guid: &str) -> ApiResult<()> {
        super::deployment::Deployment::supersede_active(db, guid).await?;
        sqlx::query(
            "UPDATE apps SET package_state = 'PENDING', droplet_hash = NULL, version = $1, rolled_out_instances = NULL, \
             updated_at = $2 WHERE guid = $3",
        )
        .bind(new_guid())
        .bind(now())
        .bind(guid)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Moves a step-by-step rollout of the app's `version` on from
    /// `from` rolled-out indices to `to` (None: all), unless another CC
    /// did first; whether this call did.
    pub async fn roll_out_further(
        db: &AnyPool,
        guid: &str,
        version: &str,
        from: u32,
        to: Option<u32>,
    ) -> ApiResult<bool> {
        let done = sqlx::query(
            "UPDATE apps SET rolled_out_instances = $1 WHERE guid = $2 AND version = $3 AND rolled_out_instances = $4",
        )
        .bind(to.map(i64::from))
        .bind(guid)
        .bind(version)
        .bind(i64::from(from))
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The app by guid, if there is one.
    pub async fn find_optional(db: &AnyPool, guid: &str) -> ApiResult<Option<App>> {
        Ok(APPS.find_optional(db, guid).await?.as_ref().map(App::from_row))
    }

    /// The app of that name in the space, if there is one (names are
    /// unique per space).
    pub async fn named(db: &AnyPool, space: &str, name: &str) -> ApiResult<Option<App>> {
        let conditions = [Condition::eq("space_guid", space), Condition::eq("name", name)];
        Ok(APPS.select(db, &conditions, "").await?.first().map(App::from_row))
    }

    pub fn is_started(&self) -> bool {
        self.state == "STARTED"
    }

    /// Whether its droplet is staged (for its current package).
    pub fn is_staged(&self) -> bool {
        self.package_state == "STAGED"
    }

    /// The user's environment variables (a stored object that no longer
    /// parses is none).
    pub fn environment(&self) -> Map<String, Value> {
        serde_json::from_str(&self.environment_json).unwrap_or_default()
    }
}
