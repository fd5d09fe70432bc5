//! Exactly one health manager acts: the one holding the lease, a row in
//! the CCDB with a holder and an expiry. The holder renews it every tick;
//! when it dies, the lease lapses and the next HM to try takes it. The
//! conditional UPDATE is atomic on SQLite and PostgreSQL alike, so two HMs
//! never both hold it.

use std::time::Duration;

use sqlx::AnyPool;

const NAME: &str = "health_manager";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Takes or renews the lease for `ttl`; true when `holder` holds it now.
pub async fn hold(db: &AnyPool, holder: &str, ttl: Duration) -> sqlx::Result<bool> {
    let now = now_ms();
    let result = sqlx::query(
        "UPDATE hm_lease SET holder = $1, expires_at = $2 WHERE name = $3 AND (holder = $4 OR expires_at < $5)",
    )
    .bind(holder)
    .bind(now + ttl.as_millis() as i64)
    .bind(NAME)
    .bind(holder)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives the lease up at once (a clean shutdown), so another HM need not wait.
pub async fn release(db: &AnyPool, holder: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE hm_lease SET expires_at = 0 WHERE name = $1 AND holder = $2")
        .bind(NAME)
        .bind(holder)
        .execute(db)
        .await?;
    Ok(())
}

/// Who holds the lease and until when (ms since the epoch); None before
/// any HM took it.
pub async fn holder(db: &AnyPool) -> sqlx::Result<Option<(String, i64)>> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT holder, expires_at FROM hm_lease WHERE name = $1").bind(NAME).fetch_optional(db).await?;
    Ok(row.filter(|(holder, _)| !holder.is_empty()))
}
