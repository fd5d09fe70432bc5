//! Tasks on this DEA (`cf run-task`): a one-off program of an app's
//! droplet, run to its end within the task's own memory and disk, as CF's
//! cells run them. `task.<id>.start` is a request: the DEA takes a task
//! only when it has room for it (memory held by instances, staging and
//! other tasks counts) and says so at once; the task then runs in its own
//! directory, its output on the app's log stream as `APP/TASK/<name>`,
//! and ends SUCCEEDED (exit status 0) or FAILED with the reason. Its end
//! is published on `task.finished` and shown in the heartbeats for
//! [`REPORT_LIFETIME`], so a CC that missed the message still learns it.
//! `task.cancel` cuts a running task off.
//!
//! Tasks are not saved across a DEA restart: one that was running is gone,
//! and the CC, no longer seeing it in the heartbeats, fails it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::boot::{droplet_bytes, instance_view};
use super::egress::SocketPolicy;
use super::log::GuestLogs;
use super::{DeaRef, app_limits, droplet, env};
use crate::bus::{BusExt, Message, reply};
use crate::protocol::messages::{LogMessage, TaskCancel, TaskReport, TaskStart, TaskStartReply, TaskState, subjects};
use crate::protocol::vcap::InstanceFacts;
use crate::runtime::command;

/// How long an ended task stays in the heartbeats.
pub(super) const REPORT_LIFETIME: Duration = Duration::from_secs(600);

/// What the DEA keeps of one task.
pub(super) struct Task {
    pub(super) report: TaskReport,
    /// MB held while it runs.
    pub(super) memory_mb: u64,
    pub(super) disk_mb: u64,
    /// Cuts it off while it runs.
    abort: Option<tokio::task::AbortHandle>,
    ended: Option<Instant>,
}

impl Task {
    pub(super) fn is_running(&self) -> bool {
        self.report.state == TaskState::Running
    }
}

/// `task.<id>.start`: takes the task if there is room, and runs it.
pub(super) async fn on_start(dea: DeaRef, message: Message) -> Result<()> {
    let start: TaskStart = message.json()?;
    let needs = start.app.limits;
    let (memory_used, disk_used) = dea.reserved();
    let (memory_free, disk_free) =
        (dea.capacity.0.saturating_sub(memory_used), dea.capacity.1.saturating_sub(disk_used));
    if needs.memory_mb > memory_free || needs.disk_mb > disk_free {
        let reason = format!(
            "the DEA has {memory_free} MB of memory and {disk_free} MB of disk free, the task needs {} MB and {} MB",
            needs.memory_mb, needs.disk_mb
        );
        return reply(dea.bus.as_ref(), &message, &TaskStartReply { accepted: false, reason: Some(reason) }).await;
    }
    let report = TaskReport {
        guid: start.guid.clone(),
        droplet: start.app.droplet.clone(),
        state: TaskState::Running,
        failure_reason: None,
    };
    let task = Task { report, memory_mb: needs.memory_mb, disk_mb: needs.disk_mb, abort: None, ended: None };
    dea.tasks.lock().expect("dea tasks").insert(start.guid.clone(), task);
    reply(dea.bus.as_ref(), &message, &TaskStartReply { accepted: true, reason: None }).await?;
    dea.advertise().await?;

    let guid = start.guid.clone();
    let runner = dea.clone();
    // Guests run on the guests' threads, like instances.
    let running = crate::runtime::spawn(async move {
        let outcome = run(&runner, &start).await;
        finish(&runner, &start.guid, outcome).await;
    });
    if let Some(task) = dea.tasks.lock().expect("dea tasks").get_mut(&guid).filter(|t| t.is_running()) {
        task.abort = Some(running.abort_handle());
    }
    Ok(())
}

/// `task.cancel`: cuts the task off if it runs here.
pub(super) async fn on_cancel(dea: DeaRef, message: Message) -> Result<()> {
    let cancel: TaskCancel = message.json()?;
    let abort = dea.tasks.lock().expect("dea tasks").get_mut(&cancel.guid).and_then(|t| t.abort.take());
    if let Some(abort) = abort {
        abort.abort();
        finish(&dea, &cancel.guid, Err("task was cancelled".into())).await;
    }
    Ok(())
}

/// Runs the task to its end: Ok if it exited with status 0, else why not.
async fn run(dea: &DeaRef, start: &TaskStart) -> Result<(), String> {
    cell_line(dea, &start.app.droplet, format!("Cell {} creating container for task {}", dea.id, start.name)).await;
    run_in(dea, start, &task_dir(dea, &start.guid)).await
}

/// Where a task runs; removed when it ends.
fn task_dir(dea: &DeaRef, guid: &str) -> std::path::PathBuf {
    dea.dir.join("tasks").join(guid)
}

async fn run_in(dea: &DeaRef, start: &TaskStart, dir: &std::path::Path) -> Result<(), String> {
    let failed = |e: anyhow::Error| format!("{e:#}");
    let app = &start.app;
    let bytes = droplet_bytes(dea, &app.sha1).await.map_err(failed)?;
    let unpack_dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<()> {
        droplet::unpack(&bytes, &unpack_dir)?;
        std::fs::create_dir_all(unpack_dir.join("tmp"))?;
        Ok(())
    })
    .await
    .map_err(|e| failed(e.into()))?
    .map_err(failed)?;
    let info = droplet::read_staging_info(dir).map_err(failed)?;

    let facts =
        InstanceFacts { instance_id: &start.guid, host: &dea.config.dea_host, port: 0, started_at: chrono::Utc::now() };
    let environment = env::with_profile_d(env::instance(app, &facts, &info.config_vars), &dir.join("app"));
    let command = app.effective_start_command(&info.start_command);
    let (program_path, args) = env::start_program(&command, &environment).map_err(failed)?;
    let wasm = tokio::fs::read(dir.join("app").join(&program_path))
        .await
        .map_err(|e| format!("reading {program_path} named by the task's command: {e}"))?;
    let program = dea.runtime.compile(&wasm).await.map_err(failed)?;

    let logs = GuestLogs::new(dea.bus.clone(), &app.droplet, &format!("APP/TASK/{}", start.name), "0", None)
        .map_err(failed)?;
    let sockets = SocketPolicy { port: None, rules: Arc::new(app.egress_network_rules.clone()) }.check();
    let limits = app_limits(&app.limits, dir, sockets.clone(), logs.stderr.clone());
    let wasi = instance_view(
        &environment,
        &args,
        (&logs.stdout, &logs.stderr),
        (&dir.join("app"), &dir.join("tmp")),
        Some(sockets),
    )
    .map_err(failed)?;
    let exit = command::run(&dea.runtime, &program, wasi, limits, None).await.map_err(failed)?;
    logs.stdout.flush();
    logs.stderr.flush();
    // What the task printed is on the log before the line saying it ended.
    logs.flush().await;
    match (exit.code, exit.ending) {
        (0, None) => Ok(()),
        (_, Some(ending)) => Err(format!("{ending}")),
        (code, None) => Err(format!("Exited with status {code}")),
    }
}

/// Records the task's end (once: a cancelled task's own end is ignored),
/// says it on the app's log, publishes it and frees its room.
async fn finish(dea: &DeaRef, guid: &str, outcome: Result<(), String>) {
    let report = {
        let mut tasks = dea.tasks.lock().expect("dea tasks");
        let Some(task) = tasks.get_mut(guid).filter(|t| t.is_running()) else { return };
        task.abort = None;
        task.ended = Some(Instant::now());
        (task.report.state, task.report.failure_reason) = match outcome {
            Ok(()) => (TaskState::Succeeded, None),
            Err(reason) => (TaskState::Failed, Some(reason)),
        };
        task.report.clone()
    };
    let _ = tokio::fs::remove_dir_all(task_dir(dea, guid)).await;
    let said = report.failure_reason.clone().unwrap_or_else(|| "Exit status 0".into());
    cell_line(dea, &report.droplet, said).await;
    if let Err(e) = dea.bus.publish(subjects::TASK_FINISHED, &report).await {
        tracing::warn!("reporting the end of task {guid}: {e:#}");
    }
    if let Err(e) = dea.advertise().await {
        tracing::warn!("{e:#}");
    }
}

/// The tasks to report in a heartbeat; those ended longer ago than
/// [`REPORT_LIFETIME`] are forgotten.
pub(super) fn reports(tasks: &mut HashMap<String, Task>) -> Vec<TaskReport> {
    tasks.retain(|_, t| t.ended.is_none_or(|ended| ended.elapsed() < REPORT_LIFETIME));
    tasks.values().map(|t| t.report.clone()).collect()
}

/// Cuts off every running task (the DEA is shutting down).
pub(super) fn abort_all(tasks: &HashMap<String, Task>) {
    for abort in tasks.values().filter_map(|t| t.abort.as_ref()) {
        abort.abort();
    }
}

/// A line of the cell's own on the app's log stream, as CF's cells say them.
async fn cell_line(dea: &DeaRef, app: &str, text: String) {
    let line = LogMessage::new(app, "CELL", "0", "OUT", text);
    if let Err(e) = dea.bus.publish(&line.subject(), &line).await {
        tracing::warn!("logging for app {app}: {e:#}");
    }
}
