//! The CC's view of DEA capacity, from their `dea.advertise` and
//! `staging.advertise` messages: where to stage and where to place an
//! instance. A DEA that has not advertised within the DEA timeout is gone
//! and gets nothing more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Cc;
use crate::bus::messages::{Advertise, subjects};

type Adverts = Mutex<HashMap<String, (Advertise, Instant)>>;

pub struct DeaPool {
    ttl: Duration,
    runners: Adverts,
    stagers: Adverts,
}

/// What one instance or staging task needs of a DEA.
#[derive(Debug, Clone, Copy)]
pub struct Needs<'a> {
    /// MB.
    pub memory: u64,
    /// MB.
    pub disk: u64,
    pub stack: &'a str,
}

impl DeaPool {
    pub fn new(ttl: Duration) -> Self {
        DeaPool { ttl, runners: Mutex::default(), stagers: Mutex::default() }
    }

    /// A DEA to stage on: the one with the most free memory.
    pub fn find_stager(&self, needs: Needs) -> Option<String> {
        self.pick(&self.stagers, needs, |a| (0, a.available_memory))
    }

    /// A DEA for one instance of `app`: fewest instances of the app first
    /// (spread for availability), then most free memory.
    pub fn find_dea(&self, needs: Needs, app: &str) -> Option<String> {
        let count = |a: &Advertise| *a.app_id_to_count.get(app).unwrap_or(&0) as i64;
        let chosen = self.pick(&self.runners, needs, |a| (-count(a), a.available_memory))?;
        if let Some((advert, _)) = self.runners.lock().expect("dea pool").get_mut(&chosen) {
            *advert.app_id_to_count.entry(app.to_string()).or_default() += 1;
        }
        Some(chosen)
    }

    /// The fitting DEA with the best score, its advert charged for what it
    /// was given so back-to-back placements spread out before its next advert.
    fn pick(&self, pool: &Adverts, needs: Needs, score: impl Fn(&Advertise) -> (i64, u64)) -> Option<String> {
        let mut pool = pool.lock().expect("dea pool");
        pool.retain(|_, (_, seen)| seen.elapsed() < self.ttl);
        let (_, (advert, _)) = pool
            .iter_mut()
            .filter(|(_, (a, _))| {
                a.available_memory >= needs.memory
                    && a.available_disk >= needs.disk
                    && a.stacks.iter().any(|s| s == needs.stack)
            })
            .max_by_key(|(id, (a, _))| (score(a), std::cmp::Reverse((*id).clone())))?;
        advert.available_memory -= needs.memory;
        advert.available_disk -= needs.disk;
        Some(advert.id.clone())
    }

    /// Waits up to `patience` while no DEA has advertised (just after
    /// start-up); returns at once when some have, full or not.
    pub async fn wait_for_any(&self, patience: Duration) {
        self.wait_for_advert(&self.runners, patience).await
    }

    /// Like [`DeaPool::wait_for_any`], for stagers.
    pub async fn wait_for_stager(&self, patience: Duration) {
        self.wait_for_advert(&self.stagers, patience).await
    }

    async fn wait_for_advert(&self, pool: &Adverts, patience: Duration) {
        let deadline = Instant::now() + patience;
        let known = || pool.lock().expect("dea pool").values().any(|(_, seen)| seen.elapsed() < self.ttl);
        while !known() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub async fn listen(cc: Cc) -> Result<()> {
    for (subject, stagers) in [(subjects::DEA_ADVERTISE, false), (subjects::STAGING_ADVERTISE, true)] {
        let mut adverts = cc.bus.subscribe(subject, None).await?;
        let cc = cc.clone();
        tokio::spawn(async move {
            while let Some(message) = adverts.next().await {
                match message.json::<Advertise>() {
                    Ok(advert) => {
                        let pool = if stagers { &cc.deas.stagers } else { &cc.deas.runners };
                        pool.lock().expect("dea pool").insert(advert.id.clone(), (advert, Instant::now()));
                    }
                    Err(e) => tracing::warn!("{e:#}"),
                }
            }
        });
    }
    Ok(())
}
