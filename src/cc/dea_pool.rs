//! The CC's view of DEA capacity, from their `dea.advertise` and
//! `staging.advertise` messages: where to stage and where to place an
//! instance. Adverts older than [`ADVERT_TTL`] are forgotten (the DEA died).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Cc;
use crate::bus::messages::{Advertise, subjects};

pub const ADVERT_TTL: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct DeaPool {
    runners: Mutex<HashMap<String, (Advertise, Instant)>>,
    stagers: Mutex<HashMap<String, (Advertise, Instant)>>,
}

fn record(pool: &Mutex<HashMap<String, (Advertise, Instant)>>, advert: Advertise) {
    pool.lock().expect("dea pool").insert(advert.id.clone(), (advert, Instant::now()));
}

/// The fitting DEA with the best score, and its advert charged for `memory`
/// so back-to-back placements spread out before the next advert.
fn pick(
    pool: &Mutex<HashMap<String, (Advertise, Instant)>>,
    memory: u64,
    stack: &str,
    score: impl Fn(&Advertise) -> (i64, u64),
) -> Option<String> {
    let mut pool = pool.lock().expect("dea pool");
    pool.retain(|_, (_, seen)| seen.elapsed() < ADVERT_TTL);
    let (_, (advert, _)) = pool
        .iter_mut()
        .filter(|(_, (a, _))| a.available_memory >= memory && a.stacks.iter().any(|s| s == stack))
        .max_by_key(|(id, (a, _))| (score(a), std::cmp::Reverse((*id).clone())))?;
    advert.available_memory -= memory;
    Some(advert.id.clone())
}

impl DeaPool {
    /// A DEA to stage on: the one with the most free memory.
    pub fn find_stager(&self, memory: u64, stack: &str) -> Option<String> {
        pick(&self.stagers, memory, stack, |a| (0, a.available_memory))
    }

    /// A DEA for one instance of `app`: fewest instances of the app first
    /// (spread for availability), then most free memory.
    pub fn find_dea(&self, memory: u64, stack: &str, app: &str) -> Option<String> {
        let pool = &self.runners;
        let chosen =
            pick(pool, memory, stack, |a| (-(*a.app_id_to_count.get(app).unwrap_or(&0) as i64), a.available_memory))?;
        if let Some((advert, _)) = pool.lock().expect("dea pool").get_mut(&chosen) {
            *advert.app_id_to_count.entry(app.to_string()).or_default() += 1;
        }
        Some(chosen)
    }
}

pub async fn listen(cc: Cc) -> Result<()> {
    for (subject, stagers) in [(subjects::DEA_ADVERTISE, false), (subjects::STAGING_ADVERTISE, true)] {
        let mut adverts = cc.bus.subscribe(subject, None).await?;
        let cc = cc.clone();
        tokio::spawn(async move {
            while let Some(message) = adverts.next().await {
                match message.json::<Advertise>() {
                    Ok(advert) => record(if stagers { &cc.deas.stagers } else { &cc.deas.runners }, advert),
                    Err(e) => tracing::warn!("{e:#}"),
                }
            }
        });
    }
    Ok(())
}

/// Waits up to `patience` for some DEA to have room (right after start-up
/// no advert may have arrived yet).
pub async fn wait_for<T>(patience: Duration, mut find: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(found) = find() {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
