//! The DEA's snapshot (CF's `db/instances.json`): which instances it runs,
//! written whenever that changes. A DEA that restarts — after a crash, an
//! upgrade or `wf up` being stopped — starts them again from it (same
//! instance ids, indexes and droplets) and removes every other instance
//! directory, so nothing is left orphaned and nothing is silently lost: an
//! instance that cannot come back is reported as crashed.
//!
//! A burst of changes (hundreds of instances starting) is written once:
//! [`SnapshotWriter::changed`] only wakes one writer task, which writes the
//! state as it is then, aside under a unique name and renamed into place.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::bus::messages::DeaStart;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The DEA's id, kept so the CC's pool knows it again.
    pub dea_id: String,
    pub instances: Vec<SavedInstance>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedInstance {
    pub id: String,
    pub start: DeaStart,
}

/// Changes closer together than this are written once.
const COALESCE: Duration = Duration::from_millis(50);

fn path(dir: &Path) -> PathBuf {
    dir.join("snapshot.json")
}

/// The last snapshot, if there is a readable one.
pub fn load(dir: &Path) -> Option<Snapshot> {
    serde_json::from_slice(&std::fs::read(path(dir)).ok()?).ok()
}

/// Replaces the snapshot, never half-written whoever else writes.
fn save(dir: &Path, snapshot: &Snapshot) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    Ok(crate::write_aside::replace(&path(dir), &serde_json::to_vec(snapshot)?)?)
}

/// Replaces the snapshot off the async threads; a failure is logged (the
/// next change writes it again).
pub async fn write(dir: &Path, snapshot: Snapshot) {
    let dir = dir.to_path_buf();
    let written = tokio::task::spawn_blocking(move || save(&dir, &snapshot)).await;
    if let Err(e) = written.map_err(anyhow::Error::from).and_then(|r| r) {
        tracing::error!("writing the DEA snapshot: {e:#}");
    }
}

/// Writes the snapshot some time after each change, once per burst.
pub struct SnapshotWriter {
    changed: Arc<Notify>,
}

impl SnapshotWriter {
    /// Starts the writer task: `current` gives the snapshot to write, None
    /// once there is nothing more to write (the DEA is gone or stopping).
    pub fn start(dir: PathBuf, current: impl Fn() -> Option<Snapshot> + Send + 'static) -> Self {
        let changed = Arc::new(Notify::new());
        let wake = changed.clone();
        tokio::spawn(async move {
            loop {
                wake.notified().await;
                tokio::time::sleep(COALESCE).await;
                let Some(snapshot) = current() else { return };
                write(&dir, snapshot).await;
            }
        });
        SnapshotWriter { changed }
    }

    /// Asks for the snapshot to be written (soon, once for a burst).
    pub fn changed(&self) {
        self.changed.notify_one();
    }
}
