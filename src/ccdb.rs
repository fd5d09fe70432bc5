//! The CCDB connection: SQLite or PostgreSQL through sqlx's Any driver, so
//! one set of queries serves both, each with its own migrations. The Cloud
//! Controller owns what is in it; the health manager reads desired state
//! and crash records from it and keeps its lease there.

use std::path::Path;

use anyhow::{Context, Result};
use sqlx::AnyPool;
use sqlx::pool::PoolOptions;

pub async fn connect(url: &str) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let pool = pool_options()
        // One writer at a time is all SQLite does; more connections only contend.
        .max_connections(if sqlite { 1 } else { 10 })
        .connect(url)
        .await
        .with_context(|| format!("connecting to the database at {}", redact(url)))?;
    if sqlite {
        // sqlx turns foreign keys on for SQLite; WAL lets readers of the
        // file (backups, `sqlite3`) not block the CC.
        sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await.context("migrating the SQLite CCDB")?;
    } else {
        sqlx::migrate!("./migrations/postgres").run(&pool).await.context("migrating the PostgreSQL CCDB")?;
    }
    Ok(pool)
}

/// How the platform's pools of database connections are kept (the CCDB's,
/// the PostgreSQL broker's): without reaping idle or old connections, as
/// sqlx 0.8's reaper task can spin forever on a miscounted idle queue
/// (launchbadge/sqlx#3645), a core lost and a process that never exits. A
/// dead connection is still found, and replaced, when next taken.
pub fn pool_options<DB: sqlx::Database>() -> PoolOptions<DB> {
    PoolOptions::new().idle_timeout(None).max_lifetime(None)
}

/// The URL of a SQLite CCDB file, created if missing: `sqlite:PATH`, with
/// `/` between names on Windows. sqlx reads it through `Url` first, where
/// `sqlite://C:\wf\cc.db` would make `C` a host and lose the drive.
pub fn sqlite_url(file: &Path) -> String {
    let path = file.display().to_string();
    let path = if cfg!(windows) { path.replace('\\', "/") } else { path };
    format!("sqlite:{path}?mode=rwc")
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}
