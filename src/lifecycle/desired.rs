//! Desired state as the health manager reads it from the CCDB each tick:
//! every process's version, instance count, state and package state (an
//! app's web process is the app's row, keyed by the app's guid; its other
//! process types are in `processes`, each keyed by its own guid, as the
//! DEAs report their instances). An app the CC changed within
//! the grace period is not yet settled: the CC's own starts and stops for
//! that change may still be on their way.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::{AnyPool, Row};

/// Every process of every app, as one table: the columns of the app's row
/// for its web process (guid: the app's), those of `processes` for its
/// other types, each with its app's space, version, state, package state
/// and rolled-out indices. A process changed when it or its app last changed.
pub const EVERY_PROCESS: &str = "(SELECT a.created_at || a.guid AS id, a.guid, a.guid AS app_guid, 'web' AS type, \
     a.command, a.detected_start_command AS detected_command, a.instances, a.memory, a.disk_quota, \
     a.health_check_type, a.health_check_timeout, a.health_check_http_endpoint, a.space_guid, a.version, a.state, \
     a.package_state, a.rolled_out_instances, a.created_at, a.updated_at FROM apps a UNION ALL \
     SELECT p.created_at || p.guid, p.guid, p.app_guid, p.type, p.command, p.detected_command, p.instances, p.memory, \
     p.disk_quota, p.health_check_type, p.health_check_timeout, p.health_check_http_endpoint, a.space_guid, \
     a.version, a.state, a.package_state, a.rolled_out_instances, p.created_at, \
     CASE WHEN p.updated_at > COALESCE(a.updated_at, a.created_at) THEN p.updated_at ELSE a.updated_at END \
     FROM processes p JOIN apps a ON a.guid = p.app_guid) processes";

/// A process as the CCDB wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredApp {
    pub version: String,
    pub instances: u32,
    pub started: bool,
    pub staged: bool,
    /// While a deployment rolls the app out step by step: how many indices
    /// (from 0) run `version`; the others keep their earlier instances.
    pub rolled_out: Option<u32>,
    /// False while a change the CC made is recent enough to be in flight.
    pub settled: bool,
}

pub async fn load(db: &AnyPool, grace: Duration) -> sqlx::Result<HashMap<String, DesiredApp>> {
    let sql = format!(
        "SELECT guid, version, instances, state, package_state, rolled_out_instances, updated_at FROM {EVERY_PROCESS}"
    );
    let rows = sqlx::query(&sql).fetch_all(db).await?;
    let now = chrono::Utc::now();
    // updated_at has whole seconds: a change may be up to 1 s older than it says.
    let grace = chrono::Duration::from_std(grace + Duration::from_secs(1)).unwrap_or_default();
    Ok(rows
        .iter()
        .map(|row| {
            let text = |c: &str| row.try_get::<Option<String>, _>(c).ok().flatten().unwrap_or_default();
            let updated = chrono::DateTime::parse_from_rfc3339(&text("updated_at")).ok();
            let app = DesiredApp {
                version: text("version"),
                instances: row.try_get::<i64, _>("instances").unwrap_or_default().max(0) as u32,
                started: text("state") == "STARTED",
                staged: text("package_state") == "STAGED",
                rolled_out: row
                    .try_get::<Option<i64>, _>("rolled_out_instances")
                    .ok()
                    .flatten()
                    .map(|n| n.max(0) as u32),
                settled: updated.is_none_or(|at| now - at.with_timezone(&chrono::Utc) >= grace),
            };
            (text("guid"), app)
        })
        .collect())
}
