//! Desired state as the health manager reads it from the CCDB each tick:
//! every app's version, instance count, state and package state. An app the CC changed within
//! the grace period is not yet settled: the CC's own starts and stops for
//! that change may still be on their way.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::{AnyPool, Row};

/// An app as the CCDB wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredApp {
    pub version: String,
    pub instances: u32,
    pub started: bool,
    pub staged: bool,
    /// False while a change the CC made is recent enough to be in flight.
    pub settled: bool,
}

pub async fn load(db: &AnyPool, grace: Duration) -> sqlx::Result<HashMap<String, DesiredApp>> {
    let rows = sqlx::query("SELECT guid, version, instances, state, package_state, updated_at FROM apps")
        .fetch_all(db)
        .await?;
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
                settled: updated.is_none_or(|at| now - at.with_timezone(&chrono::Utc) >= grace),
            };
            (text("guid"), app)
        })
        .collect())
}
