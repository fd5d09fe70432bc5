//! The DEA's saved instances (dea_ng's snapshot, `db/instances.json`): which instances it runs,
//! written whenever that changes. A DEA that restarts — after a crash, an
//! upgrade or `wf up` being stopped — starts them again from it (same
//! instance ids, indexes and droplets) and removes every other instance
//! directory, so nothing is left orphaned and nothing is silently lost: an
//! instance that cannot come back is reported as crashed.
//!
//! A burst of changes (hundreds of instances starting) is written once:
//! [`SavedInstancesWriter::changed`] only wakes one writer task, which writes the
//! state as it is then, aside under a unique name and renamed into place.
//! The bigger the state, the longer a burst it waits for: a DEA of
//! thousands of instances would otherwise spend its time writing them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::protocol::messages::DeaStart;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SavedInstances {
    /// The DEA's id, kept so the CC's pool knows it again.
    pub dea_id: String,
    pub instances: Vec<SavedInstance>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedInstance {
    pub id: String,
    pub start: DeaStart,
}

/// Changes closer together than this are written once — or than
/// [`WRITES_APART`] times the last write took, when that is longer.
const COALESCE: Duration = Duration::from_millis(50);
const WRITES_APART: u32 = 10;

fn path(dir: &Path) -> PathBuf {
    // The name earlier releases wrote it under, kept so their data dirs are read.
    dir.join("snapshot.json")
}

/// What was saved last, if it is readable.
pub fn load(dir: &Path) -> Option<SavedInstances> {
    serde_json::from_slice(&std::fs::read(path(dir)).ok()?).ok()
}

/// Replaces what is saved, never half-written whoever else writes.
fn save(dir: &Path, saved: &SavedInstances) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    Ok(crate::write_aside::replace(&path(dir), &serde_json::to_vec(saved)?)?)
}

/// Replaces what is saved off the async threads; a failure is logged (the
/// next change writes it again).
pub async fn write(dir: &Path, saved: SavedInstances) {
    let dir = dir.to_path_buf();
    let written = tokio::task::spawn_blocking(move || save(&dir, &saved)).await;
    if let Err(e) = written.map_err(anyhow::Error::from).and_then(|r| r) {
        tracing::error!("saving the DEA's instances: {e:#}");
    }
}

/// Saves the instances some time after each change, once per burst.
pub struct SavedInstancesWriter {
    changed: Arc<Notify>,
}

impl SavedInstancesWriter {
    /// Starts the writer task: `current` gives the instances to save, None
    /// once there is nothing more to write (the DEA is gone or stopping).
    pub fn start(dir: PathBuf, current: impl Fn() -> Option<SavedInstances> + Send + 'static) -> Self {
        let changed = Arc::new(Notify::new());
        let wake = changed.clone();
        tokio::spawn(async move {
            let mut took = Duration::ZERO;
            loop {
                wake.notified().await;
                tokio::time::sleep(COALESCE.max(took * WRITES_APART)).await;
                let began = std::time::Instant::now();
                let Some(saved) = current() else { return };
                write(&dir, saved).await;
                took = began.elapsed();
            }
        });
        SavedInstancesWriter { changed }
    }

    /// Asks for the instances to be saved (soon, once for a burst).
    pub fn changed(&self) {
        self.changed.notify_one();
    }
}
