//! Crash records: per app index, how often the current version crashed,
//! when last, which instance and why. The CC counts each crash once (from
//! `droplet.exited`, one CC of many); the health manager reads them to
//! pace restarts and clears a record once its index stays up.

use sqlx::{AnyPool, Row};

use crate::protocol::messages::DropletExited;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashRecord {
    pub app_guid: String,
    pub index: u32,
    pub version: String,
    pub count: u32,
    /// Seconds since the epoch.
    pub last_crash_at: i64,
    pub last_instance: String,
    pub last_reason: String,
}

fn from_row(row: &sqlx::any::AnyRow) -> CrashRecord {
    CrashRecord {
        app_guid: row.try_get("app_guid").unwrap_or_default(),
        index: row.try_get::<i64, _>("instance_index").unwrap_or_default().max(0) as u32,
        version: row.try_get("version").unwrap_or_default(),
        count: row.try_get::<i64, _>("crash_count").unwrap_or_default().max(0) as u32,
        last_crash_at: row.try_get("last_crash_at").unwrap_or_default(),
        last_instance: row.try_get("last_instance").unwrap_or_default(),
        last_reason: row.try_get("last_reason").unwrap_or_default(),
    }
}

const COLUMNS: &str = "app_guid, instance_index, version, crash_count, last_crash_at, last_instance, last_reason";

/// Counts a crash (a crash of another version than the record's starts the
/// count again) and returns the record as it is now.
pub async fn record(db: &AnyPool, exit: &DropletExited) -> sqlx::Result<CrashRecord> {
    let at = exit.crash_timestamp.unwrap_or_else(|| chrono::Utc::now().timestamp());
    sqlx::query(
        "INSERT INTO app_crashes (app_guid, instance_index, version, crash_count, last_crash_at, last_instance, last_reason) \
         VALUES ($1, $2, $3, 1, $4, $5, $6) ON CONFLICT (app_guid, instance_index) DO UPDATE SET \
         crash_count = CASE WHEN app_crashes.version = excluded.version AND app_crashes.last_instance <> excluded.last_instance \
           THEN app_crashes.crash_count + 1 WHEN app_crashes.version = excluded.version THEN app_crashes.crash_count ELSE 1 END, \
         version = excluded.version, last_crash_at = excluded.last_crash_at, last_instance = excluded.last_instance, \
         last_reason = excluded.last_reason",
    )
    .bind(&exit.droplet)
    .bind(exit.index as i64)
    .bind(&exit.version)
    .bind(at)
    .bind(&exit.instance)
    .bind(&exit.exit_description)
    .execute(db)
    .await?;
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM app_crashes WHERE app_guid = $1 AND instance_index = $2"))
        .bind(&exit.droplet)
        .bind(exit.index as i64)
        .fetch_one(db)
        .await?;
    Ok(from_row(&row))
}

/// Every crash record (of one app, when given).
pub async fn list(db: &AnyPool, app: Option<&str>) -> sqlx::Result<Vec<CrashRecord>> {
    let rows = match app {
        Some(app) => {
            sqlx::query(&format!("SELECT {COLUMNS} FROM app_crashes WHERE app_guid = $1 ORDER BY instance_index"))
                .bind(app)
                .fetch_all(db)
                .await?
        }
        None => sqlx::query(&format!("SELECT {COLUMNS} FROM app_crashes")).fetch_all(db).await?,
    };
    Ok(rows.iter().map(from_row).collect())
}

/// Forgets an index's crashes (it stayed up long enough).
pub async fn clear(db: &AnyPool, app: &str, index: u32) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM app_crashes WHERE app_guid = $1 AND instance_index = $2")
        .bind(app)
        .bind(index as i64)
        .execute(db)
        .await?;
    Ok(())
}
