//! UAA's account lockout: after `after_failures` wrong passwords within
//! `within_seconds`, a user may not log in for `lock_seconds` (UAA's
//! `lockoutAfterFailures`, `countFailuresWithin`, `lockoutPeriodSeconds`).
//! A right password resets the count, and so does an admin's unlock. The
//! count is kept with the user in the CCDB, so every CC sees it.

use sqlx::AnyPool;

use crate::cc::error::ApiResult;
use crate::config::Config;

/// When logins lock.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub after_failures: i64,
    pub within_seconds: i64,
    pub lock_seconds: i64,
}

impl LockoutPolicy {
    pub fn of(config: &Config) -> LockoutPolicy {
        LockoutPolicy {
            after_failures: config.login_lockout_after_failures.max(1) as i64,
            within_seconds: config.login_lockout_within_seconds as i64,
            lock_seconds: config.login_lockout_seconds as i64,
        }
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Whether the user of that name is locked out now.
pub async fn is_locked(db: &AnyPool, username: &str) -> ApiResult<bool> {
    let locked: Option<i64> =
        sqlx::query_scalar::<_, Option<i64>>("SELECT locked_until FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(db)
            .await?
            .flatten();
    Ok(locked.is_some_and(|until| until > now()))
}

/// Counts a wrong password for the user of that name (if there is one),
/// locking them once the count reaches the policy's.
pub async fn failed(db: &AnyPool, username: &str, policy: LockoutPolicy) -> ApiResult<()> {
    let now = now();
    // A failure after the window of the first one starts a new count.
    sqlx::query(
        "UPDATE users SET \
         failed_logins = CASE WHEN first_failed_login_at IS NULL OR first_failed_login_at <= $1 \
           THEN 1 ELSE failed_logins + 1 END, \
         first_failed_login_at = CASE WHEN first_failed_login_at IS NULL OR first_failed_login_at <= $1 \
           THEN $2 ELSE first_failed_login_at END \
         WHERE username = $3",
    )
    .bind(now - policy.within_seconds)
    .bind(now)
    .bind(username)
    .execute(db)
    .await?;
    sqlx::query(
        "UPDATE users SET locked_until = $1, failed_logins = 0, first_failed_login_at = NULL \
         WHERE username = $2 AND failed_logins >= $3",
    )
    .bind(now + policy.lock_seconds)
    .bind(username)
    .bind(policy.after_failures)
    .execute(db)
    .await?;
    Ok(())
}

/// A right password: the count starts again.
pub async fn succeeded(db: &AnyPool, username: &str) -> ApiResult<()> {
    sqlx::query(
        "UPDATE users SET failed_logins = 0, first_failed_login_at = NULL WHERE username = $1 AND failed_logins > 0",
    )
    .bind(username)
    .execute(db)
    .await?;
    Ok(())
}

/// An admin unlocks the user (UAA's `PATCH /Users/:id/status`); whether
/// there is such a user.
pub async fn unlock(db: &AnyPool, user_guid: &str) -> ApiResult<bool> {
    let done = sqlx::query(
        "UPDATE users SET locked_until = NULL, failed_logins = 0, first_failed_login_at = NULL WHERE guid = $1",
    )
    .bind(user_guid)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
