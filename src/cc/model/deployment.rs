//! Deployments (v3, `cf push --strategy rolling|canary`, `cf restart
//! --strategy …`): a new version of a started app rolled out
//! `max_in_flight` indices at a time beside the old one. A canary
//! deployment stops after each of its steps (a share of the instances)
//! with its status PAUSED until it is continued. Its status is CF's:
//! ACTIVE (DEPLOYING, PAUSED) until it ends FINALIZED as DEPLOYED,
//! CANCELED or SUPERSEDED (the app got another version first). The
//! deployments service ([`crate::cc::deployments`]) moves it along.
//!
//! While a deployment rolls out, the app's `rolled_out_instances` says how
//! many indices run its new version; the health manager keeps the others'
//! old instances ([`crate::lifecycle::handover`]).

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::resource::{Kind::*, Record, Resource, field, text_column};
use crate::cc::error::ApiResult;
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

pub static DEPLOYMENTS: Resource = Resource {
    table: "deployments",
    path: "/v3/deployments",
    fields: &[field("strategy", Text), field("status_value", Text), field("status_reason", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "DeploymentNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = deployments.app_guid)"),
};

pub const ROLLING: &str = "rolling";
pub const CANARY: &str = "canary";
pub const ACTIVE: &str = "ACTIVE";
pub const FINALIZED: &str = "FINALIZED";

/// Canary steps a deployment may have.
pub const MAX_CANARY_STEPS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub guid: String,
    pub app_guid: String,
    /// The app version it rolls out.
    pub version: String,
    pub strategy: String,
    pub status_value: String,
    pub status_reason: String,
    pub max_in_flight: u32,
    /// A canary deployment's steps: the percentage of instances each
    /// reaches before it pauses.
    pub canary_steps: Vec<u32>,
    /// The canary step it is at (from 1); past the last, it rolls out the
    /// rest.
    pub canary_step: u32,
    pub previous_droplet_guid: Option<String>,
    pub previous_droplet_hash: Option<String>,
}

/// What a deployment scales the app's web process to (None: as it was).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebScale {
    pub instances: Option<u32>,
    pub memory_in_mb: Option<u64>,
    pub disk_in_mb: Option<u64>,
}

/// What a new deployment is made with.
pub struct NewDeployment<'a> {
    pub app_guid: &'a str,
    pub version: &'a str,
    pub previous_version: &'a str,
    pub droplet_guid: Option<&'a str>,
    pub droplet_hash: Option<&'a str>,
    pub previous_droplet_guid: Option<&'a str>,
    pub previous_droplet_hash: Option<&'a str>,
    pub strategy: &'a str,
    pub max_in_flight: u32,
    pub canary_steps: &'a [u32],
    pub web: WebScale,
}

impl Record for Deployment {
    const RESOURCE: &'static Resource = &DEPLOYMENTS;

    fn from_row(row: &AnyRow) -> Deployment {
        let count = |column: &str| row.try_get::<i64, _>(column).unwrap_or(0).max(0) as u32;
        let steps: Option<Value> = text_column(row, "canary_steps").and_then(|text| serde_json::from_str(&text).ok());
        Deployment {
            guid: text_column(row, "guid").unwrap_or_default(),
            app_guid: text_column(row, "app_guid").unwrap_or_default(),
            version: text_column(row, "version").unwrap_or_default(),
            strategy: text_column(row, "strategy").unwrap_or_else(|| ROLLING.into()),
            status_value: text_column(row, "status_value").unwrap_or_default(),
            status_reason: text_column(row, "status_reason").unwrap_or_default(),
            max_in_flight: count("max_in_flight").max(1),
            canary_steps: canary_steps(steps.as_ref()),
            canary_step: count("canary_step"),
            previous_droplet_guid: text_column(row, "previous_droplet_guid"),
            previous_droplet_hash: text_column(row, "previous_droplet_hash"),
        }
    }
}

impl Deployment {
    /// Every ACTIVE deployment, oldest first.
    pub async fn active(db: &AnyPool) -> ApiResult<Vec<Deployment>> {
        let rows = sqlx::query("SELECT * FROM deployments WHERE status_value = $1 ORDER BY id")
            .bind(ACTIVE)
            .fetch_all(db)
            .await?;
        Ok(rows.iter().map(Deployment::from_row).collect())
    }

    /// Whether it is in its canary steps (pausing after each; without
    /// steps, one).
    pub fn in_canary_steps(&self) -> bool {
        self.strategy == CANARY && self.canary_step as usize <= self.canary_steps.len().max(1)
    }

    /// How many indices of `instances` its current canary step reaches.
    pub fn canary_instances(&self, instances: u32) -> u32 {
        let step = self.canary_step.max(1) as usize - 1;
        canary_share(self.canary_steps.get(step).copied(), instances)
    }

    /// Stores a new ACTIVE (DEPLOYING) deployment; its guid.
    pub async fn insert(db: &AnyPool, new: NewDeployment<'_>) -> ApiResult<String> {
        let (guid, at) = (new_guid(), now());
        let steps = (new.strategy == CANARY).then(|| {
            Value::from(new.canary_steps.iter().map(|w| serde_json::json!({"instance_weight": w})).collect::<Vec<_>>())
                .to_string()
        });
        sqlx::query(
            "INSERT INTO deployments (guid, app_guid, version, previous_version, droplet_guid, droplet_hash, \
             previous_droplet_guid, previous_droplet_hash, strategy, max_in_flight, canary_steps, canary_step, \
             status_value, status_reason, created_at, updated_at, last_status_change, web_instances, memory_in_mb, \
             disk_in_mb) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'DEPLOYING', $14, $14, $14, \
             $15, $16, $17)",
        )
        .bind(&guid)
        .bind(new.app_guid)
        .bind(new.version)
        .bind(new.previous_version)
        .bind(new.droplet_guid)
        .bind(new.droplet_hash)
        .bind(new.previous_droplet_guid)
        .bind(new.previous_droplet_hash)
        .bind(new.strategy)
        .bind(i64::from(new.max_in_flight))
        .bind(steps)
        .bind(i64::from(new.strategy == CANARY))
        .bind(ACTIVE)
        .bind(&at)
        .bind(new.web.instances.map(i64::from))
        .bind(new.web.memory_in_mb.map(|mb| mb as i64))
        .bind(new.web.disk_in_mb.map(|mb| mb as i64))
        .execute(db)
        .await?;
        Ok(guid)
    }

    /// Sets its status, if it is still ACTIVE; whether it was.
    pub async fn set_status(db: &AnyPool, guid: &str, value: &str, reason: &str) -> ApiResult<bool> {
        let at = now();
        let done = sqlx::query(
            "UPDATE deployments SET status_value = $1, status_reason = $2, last_status_change = $3, updated_at = $3 \
             WHERE guid = $4 AND status_value = $5",
        )
        .bind(value)
        .bind(reason)
        .bind(&at)
        .bind(guid)
        .bind(ACTIVE)
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A paused canary deployment moves to its next step, DEPLOYING again;
    /// whether it was paused.
    pub async fn continue_from_pause(db: &AnyPool, guid: &str) -> ApiResult<bool> {
        let at = now();
        let done = sqlx::query(
            "UPDATE deployments SET canary_step = canary_step + 1, status_reason = 'DEPLOYING', \
             last_status_change = $1, updated_at = $1 WHERE guid = $2 AND status_value = $3 AND status_reason = 'PAUSED'",
        )
        .bind(&at)
        .bind(guid)
        .bind(ACTIVE)
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Finalizes the app's ACTIVE deployments as SUPERSEDED: the app is
    /// getting another version.
    pub async fn supersede_active(db: &AnyPool, app: &str) -> ApiResult<()> {
        let at = now();
        sqlx::query(
            "UPDATE deployments SET status_value = $1, status_reason = 'SUPERSEDED', last_status_change = $2, \
             updated_at = $2 WHERE app_guid = $3 AND status_value = $4",
        )
        .bind(FINALIZED)
        .bind(&at)
        .bind(app)
        .bind(ACTIVE)
        .execute(db)
        .await?;
        Ok(())
    }
}

/// How many of `instances` a canary step of `weight` percent reaches: at
/// least one (CF's canary without steps is one instance).
pub fn canary_share(weight: Option<u32>, instances: u32) -> u32 {
    weight.map_or(1, |weight| (instances * weight).div_ceil(100)).max(1)
}

/// The strategies a deployment may have.
pub const STRATEGIES: [&str; 2] = [ROLLING, CANARY];

/// Steps from their stored JSON (`[{"instance_weight": 20}, …]`).
pub fn canary_steps(steps: Option<&Value>) -> Vec<u32> {
    let weights = steps.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    weights.iter().filter_map(|step| step["instance_weight"].as_u64()).map(|w| w as u32).collect()
}
