//! Running tasks (`cf run-task`), whichever API asks: a task is checked
//! (a droplet to run, the quotas, the space's limit of tasks at once),
//! stored PENDING, then given to a DEA with room, which answers at once
//! whether it took it (RUNNING there) — with none, the user gets CF's
//! TaskWorkersUnavailable and the task is FAILED. How it ends comes back
//! on `task.finished`; a CC that missed that (it was down, or the bus was)
//! learns it from the DEAs' heartbeats, which list their tasks, and a
//! task whose DEA is gone or forgot it (a restart) is FAILED; a task a DEA
//! runs that has ended here (or is no more: its app was deleted) is
//! cancelled there: [`listen`].

use std::time::Duration;

use serde_json::json;

use super::app_changes::{DEFAULT_DISK_MB, DEFAULT_MEMORY_MB, app_event, writable_app};
use super::auth::CurrentUser;
use super::dea_pool::Needs;
use super::error::{ApiError, ApiResult};
use super::model::app::App;
use super::model::droplet;
use super::model::task::{NewTask, Task};
use super::{Cc, quotas, runner};
use crate::bus::BusExt;
use crate::cc::model::Record;
use crate::protocol::messages::{TaskCancel, TaskReport, TaskStart, TaskStartReply, TaskState, subjects};

/// How long a DEA has to answer whether it takes a task.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// DEAs asked in turn before a task counts as finding no room.
const START_ATTEMPTS: usize = 3;
/// A task PENDING this long was never given to a DEA (its CC went away).
const PENDING_LIMIT: Duration = Duration::from_secs(60);
/// The reason a cancelled task ends with, as CF gives it.
const CANCELLED: &str = "task was cancelled";

/// What a user asks a task to be.
pub struct TaskRequest {
    pub name: Option<String>,
    pub command: String,
    pub memory_in_mb: Option<i64>,
    pub disk_in_mb: Option<i64>,
    /// None: the app's current droplet.
    pub droplet_guid: Option<String>,
}

fn unprocessable(detail: &str) -> ApiError {
    ApiError::new("UnprocessableEntity", &[detail])
}

/// Creates and starts a task of the app; the task as it stands (RUNNING,
/// or refused with an error).
pub async fn create(cc: &Cc, user: &CurrentUser, app_guid: &str, request: TaskRequest) -> ApiResult<Task> {
    let app = writable_app(cc, user, app_guid).await?;
    let (droplet_guid, droplet_sha1) = droplet(cc, &app, request.droplet_guid.as_deref()).await?;
    let memory = request.memory_in_mb.unwrap_or(DEFAULT_MEMORY_MB);
    let disk = request.disk_in_mb.unwrap_or(DEFAULT_DISK_MB);
    quotas::check_task(&cc.db, &app.space_guid, &app.guid, memory).await?;
    let limit = cc.config.max_running_tasks_per_space as i64;
    let (in_space, _) = Task::running_in(&cc.db, "space_guid = $1", &app.space_guid).await?;
    if in_space >= limit {
        return Err(unprocessable(&format!(
            "The space has {in_space} tasks running, as many as a space may run at once ({limit}): try again when one ended"
        )));
    }
    let task = Task::insert(
        &cc.db,
        NewTask {
            app_guid: &app.guid,
            name: request.name,
            command: request.command,
            memory_in_mb: memory as u64,
            disk_in_mb: disk as u64,
            droplet_guid,
            droplet_sha1,
        },
    )
    .await?;
    let metadata = json!({"task_guid": task.guid, "request": {"name": task.name, "memory_in_mb": memory, "command": "[PRIVATE DATA HIDDEN]"}});
    app_event(cc, user, "audit.app.task.create", &app, metadata).await;
    if let Err(why) = place(cc, &task).await {
        Task::ended(&cc.db, &task.guid, Err(&why)).await?;
        return Err(ApiError::new("TaskWorkersUnavailable", &[&why]));
    }
    Task::find(&cc.db, &task.guid).await
}

/// The droplet a task runs (its guid, if it has one, and SHA1): the one
/// asked for, which must be a staged droplet of the app, else the app's
/// current droplet.
async fn droplet(cc: &Cc, app: &App, asked: Option<&str>) -> ApiResult<(Option<String>, String)> {
    let Some(asked) = asked else {
        return match &app.droplet_hash {
            Some(sha1) => Ok((app.droplet_guid.clone(), sha1.clone())),
            None => Err(unprocessable("Task must have a droplet. Assign a current droplet to the app.")),
        };
    };
    match droplet::staged_sha1(&cc.db, asked, &app.guid).await? {
        Some(sha1) => Ok((Some(asked.to_string()), sha1)),
        None => Err(unprocessable("Droplet must be a staged droplet of the app")),
    }
}

/// Gives the task to a DEA with room; Err says why none took it.
async fn place(cc: &Cc, task: &Task) -> Result<(), String> {
    let mut app = runner::start_message(cc, &task.app_guid, 0).await.map_err(|e| e.description)?;
    app.uris = Vec::new();
    app.sha1 = task.droplet_sha1.clone();
    app.executable_uri = task.droplet_sha1.clone();
    app.start_command = Some(task.command.clone());
    app.limits.memory_mb = task.memory_in_mb;
    app.limits.disk_mb = task.disk_in_mb;
    let needs = Needs { memory: task.memory_in_mb, disk: task.disk_in_mb, stack: crate::protocol::STACK };
    let start = TaskStart { guid: task.guid.clone(), name: task.name.clone(), app };
    // Right after start-up no DEA may have advertised yet.
    cc.deas.wait_for_any(Duration::from_secs(5)).await;
    let mut refusals = Vec::new();
    for _ in 0..START_ATTEMPTS {
        let Some(dea) = cc.deas.find_task_runner(needs) else { break };
        let replies = cc
            .bus
            .request_many(&subjects::task_start(&dea), &start, 1, START_TIMEOUT)
            .await
            .map_err(|e| format!("{e:#}"))?;
        match replies.first().map(|m| m.json::<TaskStartReply>()) {
            Some(Ok(reply)) if reply.accepted => {
                Task::started(&cc.db, &task.guid, &dea).await.map_err(|e| e.description)?;
                return Ok(());
            }
            Some(Ok(reply)) => refusals.push(reply.reason.unwrap_or_default()),
            Some(Err(e)) => refusals.push(format!("{e:#}")),
            None => refusals.push(format!("{dea} did not answer")),
        }
    }
    Err(if refusals.is_empty() {
        format!("no DEA has {} MB of memory and {} MB of disk free", task.memory_in_mb, task.disk_in_mb)
    } else {
        refusals.join("; ")
    })
}

/// Cancels a task that has not ended: CANCELING until its DEA stopped it
/// (then FAILED, "task was cancelled"); a task no DEA runs yet ends at once.
pub async fn cancel(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<Task> {
    let task = Task::find_for(&cc.db, guid, &user.user).await?;
    let app = writable_app(cc, user, &task.app_guid).await?;
    if !Task::canceling(&cc.db, guid).await? {
        return Err(unprocessable(&format!("Task state is {} and therefore cannot be canceled", task.state)));
    }
    app_event(cc, user, "audit.app.task.cancel", &app, json!({"task_guid": guid})).await;
    if task.dea_id.is_none() {
        Task::ended(&cc.db, guid, Err(CANCELLED)).await?;
    }
    cc.bus.publish(subjects::TASK_CANCEL, &TaskCancel { guid: guid.to_string() }).await?;
    Task::find(&cc.db, guid).await
}

/// Records tasks' ends: from `task.finished` (one CC of many takes each)
/// and, every few heartbeats, from what the DEAs report.
pub async fn listen(cc: Cc) -> anyhow::Result<()> {
    let mut finished = cc.bus.subscribe(subjects::TASK_FINISHED, Some("cloud_controller")).await?;
    let listener = cc.clone();
    tokio::spawn(async move {
        while let Some(message) = finished.next().await {
            let Ok(report) = message.json::<TaskReport>() else { continue };
            if let Err(e) = record_end(&listener, &report).await {
                tracing::warn!("recording the end of task {}: {}", report.guid, e.description);
            }
        }
    });
    let weak = std::sync::Arc::downgrade(&cc);
    let interval = 2 * cc.config.heartbeat_interval();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let Some(cc) = weak.upgrade() else { return };
            if let Err(e) = reconcile(&cc).await {
                tracing::warn!("reconciling tasks: {}", e.description);
            }
        }
    });
    Ok(())
}

async fn record_end(cc: &Cc, report: &TaskReport) -> ApiResult<()> {
    let outcome = match report.state {
        TaskState::Running => return Ok(()),
        TaskState::Succeeded => Ok(()),
        TaskState::Failed => Err(report.failure_reason.as_deref().unwrap_or("failed")),
    };
    Task::ended(&cc.db, &report.guid, outcome).await?;
    Ok(())
}

/// Brings the tasks that have not ended up to date with what the DEAs
/// report — only once heartbeats have flowed for a DEA timeout, when what
/// they say is the whole truth.
async fn reconcile(cc: &Cc) -> ApiResult<()> {
    let timeout = cc.config.dea_timeout();
    if cc.actual.heard_for() < timeout {
        return Ok(());
    }
    let reports = cc.actual.tasks();
    let unfinished = Task::unfinished(&cc.db).await?;
    let running_here: std::collections::HashSet<&str> = unfinished.iter().map(|t| t.guid.as_str()).collect();
    for report in
        reports.values().flatten().filter(|r| r.state == TaskState::Running && !running_here.contains(r.guid.as_str()))
    {
        cc.bus.publish(subjects::TASK_CANCEL, &TaskCancel { guid: report.guid.clone() }).await?;
    }
    for task in &unfinished {
        let lost = |why: &'static str| if task.state == "CANCELING" { CANCELLED } else { why };
        let age = chrono::DateTime::parse_from_rfc3339(&task.updated_at)
            .map(|at| (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).to_std().unwrap_or_default())
            .unwrap_or_default();
        let Some(dea) = &task.dea_id else {
            if age > PENDING_LIMIT {
                Task::ended(&cc.db, &task.guid, Err(lost("the task was never given to a DEA"))).await?;
            }
            continue;
        };
        match reports.get(dea).map(|tasks| tasks.iter().find(|r| r.guid == task.guid)) {
            None => {
                Task::ended(&cc.db, &task.guid, Err(lost("the DEA that ran the task is gone"))).await?;
            }
            Some(Some(report)) => record_end(cc, report).await?,
            // Its DEA lists it from the heartbeat after it took it on.
            Some(None) if age > 2 * timeout => {
                Task::ended(&cc.db, &task.guid, Err(lost("the DEA that ran the task no longer has it"))).await?;
            }
            Some(None) => {}
        }
    }
    Ok(())
}
