//! The DEA's caches — droplets (`droplets/<sha1>.tgz`) and compiled code
//! (`compiled/<sha1>-<engine>.cwasm`, and Cranelift's function cache
//! beneath it) — kept within `dea_cache_mb` by [`crate::file_cache`]:
//! past the budget the files used least recently go, never the droplet or
//! compiled code of an instance on this DEA (running, starting or crashed),
//! so its restart needs no download and no compile. dea_ng removed every
//! droplet no instance referenced; a budget, as Diego's executor keeps,
//! also spares an app stopped and started again and the buildpacks'
//! compiled code, which every staging uses. The caches are trimmed when an
//! instance started or stopped or a staging ended, and once a minute.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use super::Dea;
use crate::file_cache;
use crate::protocol::messages::InstanceState;

/// How long the caches go unchecked when nothing changed them (dea_ng's
/// droplet reaper ran every minute).
const INTERVAL: Duration = Duration::from_secs(60);

/// Trims the caches whenever `changed` is notified, and every
/// [`INTERVAL`], while the DEA lives.
pub(super) async fn keep_within_budget(dea: Weak<Dea>, changed: Arc<Notify>) {
    loop {
        let _ = tokio::time::timeout(INTERVAL, changed.notified()).await;
        let Some(dea) = dea.upgrade() else { return };
        trim(&dea).await;
    }
}

async fn trim(dea: &Dea) {
    let instances = dea.instances();
    // An instance still unpacking its droplet does not know its code yet:
    // the trim waits for its start to end, which asks for another.
    if instances.iter().any(|i| i.code_sha1.get().is_none() && i.state() == InstanceState::Starting) {
        return;
    }
    let in_use: HashSet<String> = instances
        .iter()
        .flat_map(|instance| [Some(instance.start.sha1.clone()), instance.code_sha1.get().cloned()])
        .flatten()
        .collect();
    let dirs = vec![dea.dir.join("droplets"), dea.dir.join("compiled")];
    let budget = dea.config.dea_cache_mb.saturating_mul(1024 * 1024);
    // A cached file's name starts with the SHA1 of what it was made from.
    let named_in_use = move |name: &str| name.split(['.', '-']).next().is_some_and(|sha1| in_use.contains(sha1));
    let trimmed = tokio::task::spawn_blocking(move || file_cache::trim(&dirs, budget, named_in_use)).await;
    match trimmed.map_err(std::io::Error::other).and_then(|trimmed| trimmed) {
        Ok(trimmed) if !trimmed.removed.is_empty() => {
            dea.runtime.forget(&trimmed.removed);
            tracing::info!(
                "caches past {} MB: removed {} files ({} MB) used least recently; {} MB kept",
                dea.config.dea_cache_mb,
                trimmed.removed.len(),
                trimmed.removed_bytes >> 20,
                trimmed.kept_bytes >> 20
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("trimming the caches: {e}"),
    }
}
