//! Jobs: background work a client polls — an upload being assembled, an
//! asynchronous delete — queued, then finished or failed with CF's error.
//! Each job names the CC running it, so a CC that starts again fails
//! what it was running when it stopped.

use serde_json::{Value, json};
use sqlx::{AnyPool, Row};

use crate::cc::error::{ApiError, ApiResult};
use crate::cc::{new_guid, now};

/// A job as stored.
pub struct Job {
    pub guid: String,
    /// `queued`, `finished` or `failed`.
    pub status: String,
    /// CF's error body of a failed job.
    pub error_details: Option<Value>,
    pub created_at: String,
    pub updated_at: Option<String>,
    /// What it does, as v3 names it (`app.delete`); v2's jobs have none.
    pub operation: Option<String>,
}

impl Job {
    /// A new queued job doing `operation`, run by the CC `cc_id`; its guid.
    pub async fn create(db: &AnyPool, cc_id: &str, operation: &str) -> ApiResult<String> {
        let guid = new_guid();
        sqlx::query("INSERT INTO jobs (guid, status, created_at, cc_id, operation) VALUES ($1, $2, $3, $4, $5)")
            .bind(&guid)
            .bind("queued")
            .bind(now())
            .bind(cc_id)
            .bind(operation)
            .execute(db)
            .await?;
        Ok(guid)
    }

    /// The job by guid, or NotFound.
    pub async fn find(db: &AnyPool, guid: &str) -> ApiResult<Job> {
        let row = sqlx::query("SELECT * FROM jobs WHERE guid = $1")
            .bind(guid)
            .fetch_optional(db)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let details = row.try_get::<Option<String>, _>("error_details").ok().flatten();
        Ok(Job {
            guid: guid.to_string(),
            status: row.try_get("status").unwrap_or_default(),
            error_details: details.map(|text| serde_json::from_str(&text).unwrap_or(Value::Null)),
            created_at: row.try_get("created_at").unwrap_or_default(),
            updated_at: row.try_get("updated_at").ok().flatten(),
            operation: row.try_get("operation").ok().flatten(),
        })
    }

    /// Records how a job ended: finished, or failed with `error`.
    pub async fn finish(db: &AnyPool, guid: &str, error: Option<ApiError>) {
        let (status, details) = match error {
            None => ("finished", None),
            Some(e) => ("failed", Some(error_details(&e))),
        };
        let result = sqlx::query("UPDATE jobs SET status = $1, error_details = $2, updated_at = $3 WHERE guid = $4")
            .bind(status)
            .bind(details)
            .bind(now())
            .bind(guid)
            .execute(db)
            .await;
        if let Err(e) = result {
            tracing::error!("recording the end of job {guid}: {e}");
        }
    }

    /// Fails the jobs the CC `cc_id` was running when it stopped: their
    /// work died with it and stored nothing (a package is recorded only
    /// once whole).
    pub async fn fail_interrupted(db: &AnyPool, cc_id: &str) -> anyhow::Result<()> {
        let mut error = ApiError::new("ServerError", &[]);
        error.description = "The Cloud Controller stopped while this job ran; nothing was stored. Run it again.".into();
        let failed = sqlx::query(
            "UPDATE jobs SET status = $1, error_details = $2, updated_at = $3 WHERE cc_id = $4 AND status = $5",
        )
        .bind("failed")
        .bind(error_details(&error))
        .bind(now())
        .bind(cc_id)
        .bind("queued")
        .execute(db)
        .await?;
        if failed.rows_affected() > 0 {
            tracing::warn!("{} job(s) interrupted by the last stop failed", failed.rows_affected());
        }
        Ok(())
    }
}

/// A failure as a job keeps it: CF's error body.
fn error_details(e: &ApiError) -> String {
    json!({"code": e.code, "description": e.description, "error_code": format!("CF-{}", e.name)}).to_string()
}
