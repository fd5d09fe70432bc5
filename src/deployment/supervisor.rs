//! monit's job: keeps every job instance running. A process that exits is
//! started again after a pause that doubles while it keeps dying (1 s up to
//! 30 s) and starts over once it stayed up for a minute. Stopping the
//! deployment (Ctrl-C, SIGTERM) stops every process.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::process::{Child, Command};

use super::JobInstance;

const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);
const STABLE_AFTER: Duration = Duration::from_secs(60);

fn spawn(instance: &JobInstance) -> Result<Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&instance.log_file)?;
    let child = Command::new(std::env::current_exe()?)
        .args(["server", "--roles", &instance.roles, "-c"])
        .arg(&instance.config_file)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", instance.name))?;
    std::fs::write(&instance.pid_file, child.id().map(|p| p.to_string()).unwrap_or_default())?;
    println!("{:<16} started  pid {:<8} roles {}", instance.name, child.id().unwrap_or(0), instance.roles);
    Ok(child)
}

/// Runs one job instance for as long as the deployment runs.
async fn keep_running(instance: JobInstance) {
    let mut pause = FIRST_PAUSE;
    loop {
        let began = Instant::now();
        let status = match spawn(&instance) {
            Ok(mut child) => child.wait().await.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
            Err(e) => format!("{e:#}"),
        };
        if began.elapsed() >= STABLE_AFTER {
            pause = FIRST_PAUSE;
        }
        println!("{:<16} exited   ({status}); starting it again in {} s", instance.name, pause.as_secs());
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Starts every job instance and keeps them running until the deployment
/// is stopped.
pub async fn supervise(instances: Vec<JobInstance>) -> Result<()> {
    let tasks: Vec<_> = instances.into_iter().map(|i| tokio::spawn(keep_running(i))).collect();
    stopped().await;
    println!("Stopping the deployment...");
    for task in &tasks {
        task.abort();
    }
    // Aborting drops each child, which kills it.
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

async fn stopped() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
