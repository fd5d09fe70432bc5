//! The DEA's snapshot (CF's `db/instances.json`): which instances it runs,
//! written whenever that changes. A DEA that restarts — after a crash, an
//! upgrade or `wf up` being stopped — starts them again from it (same
//! instance ids, indexes and droplets) and removes every other instance
//! directory, so nothing is left orphaned and nothing is silently lost: an
//! instance that cannot come back is reported as crashed.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

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

fn path(dir: &Path) -> PathBuf {
    dir.join("snapshot.json")
}

/// The last snapshot, if there is a readable one.
pub fn load(dir: &Path) -> Option<Snapshot> {
    serde_json::from_slice(&std::fs::read(path(dir)).ok()?).ok()
}

/// Replaces the snapshot (written aside, then renamed: never half-written).
pub fn save(dir: &Path, snapshot: &Snapshot) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join("snapshot.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(snapshot)?)?;
    std::fs::rename(&tmp, path(dir))?;
    Ok(())
}
