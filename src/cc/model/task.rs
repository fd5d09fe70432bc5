//! Tasks (v3, `cf run-task`): one-off programs run from an app's droplet
//! to their end. A task is PENDING until a DEA takes it, RUNNING there,
//! CANCELING once cancelled, and ends SUCCEEDED or FAILED (with a
//! `failure_reason`). An app numbers its tasks from 1 (`sequence_id`,
//! what `cf terminate-task` names); ended tasks beyond the newest
//! [`KEPT_ENDED_PER_APP`] of an app are deleted as new ones come.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::resource::{Kind::*, Record, Resource, field, text_column};
use crate::cc::error::ApiResult;
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

pub static TASKS: Resource = Resource {
    table: "tasks",
    path: "/v3/tasks",
    fields: &[field("name", Text), field("state", Text), field("command", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "TaskNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = tasks.app_guid)"),
};

/// Ended tasks kept per app, newest first.
pub const KEPT_ENDED_PER_APP: i64 = 100;

/// States in which a task has not ended.
pub const UNFINISHED: &str = "('PENDING', 'RUNNING', 'CANCELING')";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub guid: String,
    pub app_guid: String,
    pub sequence_id: i64,
    pub name: String,
    pub command: String,
    pub state: String,
    pub memory_in_mb: u64,
    pub disk_in_mb: u64,
    pub droplet_sha1: String,
    pub dea_id: Option<String>,
    /// When it last changed state (RFC 3339).
    pub updated_at: String,
}

/// What a new task is made with.
pub struct NewTask<'a> {
    pub app_guid: &'a str,
    /// None: named after its guid's first part, as CF names it.
    pub name: Option<String>,
    pub command: String,
    pub memory_in_mb: u64,
    pub disk_in_mb: u64,
    pub droplet_guid: Option<String>,
    pub droplet_sha1: String,
}

impl Record for Task {
    const RESOURCE: &'static Resource = &TASKS;

    fn from_row(row: &AnyRow) -> Task {
        let count = |column: &str| row.try_get::<i64, _>(column).unwrap_or(0);
        Task {
            guid: text_column(row, "guid").unwrap_or_default(),
            app_guid: text_column(row, "app_guid").unwrap_or_default(),
            sequence_id: count("sequence_id"),
            name: text_column(row, "name").unwrap_or_default(),
            command: text_column(row, "command").unwrap_or_default(),
            state: text_column(row, "state").unwrap_or_default(),
            memory_in_mb: count("memory_in_mb").max(0) as u64,
            disk_in_mb: count("disk_in_mb").max(0) as u64,
            droplet_sha1: text_column(row, "droplet_sha1").unwrap_or_default(),
            dea_id: text_column(row, "dea_id"),
            updated_at: text_column(row, "updated_at").unwrap_or_default(),
        }
    }
}

impl Task {
    /// Stores a new PENDING task with the app's next sequence id; the
    /// app's oldest ended tasks beyond [`KEPT_ENDED_PER_APP`] go.
    pub async fn insert(db: &AnyPool, new: NewTask<'_>) -> ApiResult<Task> {
        let mut tx = db.begin().await?;
        sqlx::query("UPDATE apps SET max_task_sequence_id = max_task_sequence_id + 1 WHERE guid = $1")
            .bind(new.app_guid)
            .execute(&mut *tx)
            .await?;
        let sequence_id: i64 = sqlx::query_scalar("SELECT max_task_sequence_id FROM apps WHERE guid = $1")
            .bind(new.app_guid)
            .fetch_one(&mut *tx)
            .await?;
        let guid = new_guid();
        let name = new.name.unwrap_or_else(|| guid.split('-').next().unwrap_or_default().to_string());
        let at = now();
        sqlx::query(
            "INSERT INTO tasks (guid, app_guid, sequence_id, name, command, state, memory_in_mb, disk_in_mb, \
             droplet_guid, droplet_sha1, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $7, $8, $9, $10, $10)",
        )
        .bind(&guid)
        .bind(new.app_guid)
        .bind(sequence_id)
        .bind(&name)
        .bind(&new.command)
        .bind(new.memory_in_mb as i64)
        .bind(new.disk_in_mb as i64)
        .bind(new.droplet_guid)
        .bind(&new.droplet_sha1)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "DELETE FROM tasks WHERE app_guid = $1 AND state NOT IN {UNFINISHED} AND guid NOT IN \
             (SELECT guid FROM tasks WHERE app_guid = $1 AND state NOT IN {UNFINISHED} ORDER BY sequence_id DESC LIMIT $2)"
        ))
        .bind(new.app_guid)
        .bind(KEPT_ENDED_PER_APP)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Task::find(db, &guid).await
    }

    /// A DEA took it: RUNNING there (unless it was cancelled meanwhile).
    pub async fn started(db: &AnyPool, guid: &str, dea: &str) -> ApiResult<()> {
        sqlx::query(
            "UPDATE tasks SET state = 'RUNNING', dea_id = $1, updated_at = $2 WHERE guid = $3 AND state = 'PENDING'",
        )
        .bind(dea)
        .bind(now())
        .bind(guid)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Marks it CANCELING if it has not ended; whether it had not.
    pub async fn canceling(db: &AnyPool, guid: &str) -> ApiResult<bool> {
        let changed = sqlx::query(&format!(
            "UPDATE tasks SET state = 'CANCELING', updated_at = $1 WHERE guid = $2 AND state IN {UNFINISHED}"
        ))
        .bind(now())
        .bind(guid)
        .execute(db)
        .await?;
        Ok(changed.rows_affected() > 0)
    }

    /// Ends it, SUCCEEDED or FAILED with `reason`, unless it has ended
    /// already (the first word on a task's end stands); whether it had not.
    pub async fn ended(db: &AnyPool, guid: &str, outcome: Result<(), &str>) -> ApiResult<bool> {
        let (state, reason) = match outcome {
            Ok(()) => ("SUCCEEDED", None),
            Err(reason) => ("FAILED", Some(reason)),
        };
        let changed = sqlx::query(&format!(
            "UPDATE tasks SET state = $1, failure_reason = $2, updated_at = $3 WHERE guid = $4 AND state IN {UNFINISHED}"
        ))
        .bind(state)
        .bind(reason)
        .bind(now())
        .bind(guid)
        .execute(db)
        .await?;
        Ok(changed.rows_affected() > 0)
    }

    /// Every task that has not ended (bounded: tasks hold memory, which
    /// quotas and DEAs bound).
    pub async fn unfinished(db: &AnyPool) -> ApiResult<Vec<Task>> {
        let rows = sqlx::query(&format!("SELECT * FROM tasks WHERE state IN {UNFINISHED} ORDER BY id LIMIT 10000"))
            .fetch_all(db)
            .await?;
        Ok(rows.iter().map(Task::from_row).collect())
    }

    /// How many tasks that have not ended the app has, and the memory (MB)
    /// they hold.
    pub async fn running_of_app(db: &AnyPool, app: &str) -> ApiResult<(i64, i64)> {
        running(db, "app_guid = $1", app).await
    }

    /// How many tasks that have not ended the apps `scope` selects have
    /// (`scope` is a condition on `apps`, `$1` bound to `owner`), and the
    /// memory they hold.
    pub async fn running_in(db: &AnyPool, scope: &str, owner: &str) -> ApiResult<(i64, i64)> {
        running(db, &format!("app_guid IN (SELECT guid FROM apps WHERE {scope})"), owner).await
    }
}

async fn running(db: &AnyPool, condition: &str, bound: &str) -> ApiResult<(i64, i64)> {
    let row = sqlx::query(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(memory_in_mb), 0) AS BIGINT) FROM tasks \
         WHERE state IN {UNFINISHED} AND {condition}"
    ))
    .bind(bound)
    .fetch_one(db)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}
