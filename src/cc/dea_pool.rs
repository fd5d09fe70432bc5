//! The CC's view of DEA capacity, from their `dea.advertise` and
//! `staging.advertise` messages: where to stage and where to place an
//! instance. A DEA that has not advertised within the DEA timeout is gone
//! and gets nothing more.
//!
//! An instance placed on a DEA is charged against its advert until an
//! advert shows it (the app's instance count on that DEA went up): an
//! advert the DEA sent before the start reached it would otherwise hand
//! the same memory out twice.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Cc;
use super::error::{ApiError, ApiResult};
use crate::protocol::messages::{Advertise, subjects};

type Adverts = Mutex<HashMap<String, (Advertise, Instant)>>;

pub struct DeaPool {
    ttl: Duration,
    runners: Adverts,
    stagers: Adverts,
    /// Instances placed on each DEA that its adverts do not show yet.
    placed: Mutex<HashMap<String, Vec<Placed>>>,
}

/// An instance given to a DEA.
struct Placed {
    app: String,
    memory: u64,
    disk: u64,
    at: Instant,
}

/// A placement no advert has shown within this is forgotten (its start
/// failed, or the instance is gone again).
const PLACED_TTL: Duration = Duration::from_secs(10);

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
        DeaPool { ttl, runners: Mutex::default(), stagers: Mutex::default(), placed: Mutex::default() }
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
        let placed = Placed { app: app.to_string(), memory: needs.memory, disk: needs.disk, at: Instant::now() };
        self.placed.lock().expect("dea pool").entry(chosen.clone()).or_default().push(placed);
        Some(chosen)
    }

    /// A DEA to run a task on: the one with the most free memory (a task
    /// is charged against its advert until the next, which shows it).
    pub fn find_task_runner(&self, needs: Needs) -> Option<String> {
        self.pick(&self.runners, needs, |a| (0, a.available_memory))
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
                    && a.available_instances.is_none_or(|room| room > 0)
                    && a.stacks.iter().any(|s| s == needs.stack)
            })
            .max_by_key(|(id, (a, _))| (score(a), std::cmp::Reverse((*id).clone())))?;
        advert.available_memory -= needs.memory;
        advert.available_disk -= needs.disk;
        if let Some(room) = &mut advert.available_instances {
            *room -= 1;
        }
        Some(advert.id.clone())
    }

    /// Waits up to `patience` while no DEA has advertised (just after
    /// start-up); returns at once when some have, full or not.
    pub async fn wait_for_any(&self, patience: Duration) {
        self.wait_for_advert(&self.runners, patience).await
    }

    /// Like [`DeaPool::wait_for_any`], for stagers.
    /// Refuses an instance size no DEA could ever hold: more memory than
    /// the largest DEA offers in all is CF's AppMemoryInvalid, more disk
    /// its AppInvalid "too much disk requested". Callers check the quotas
    /// first, so a size past both gets CF's quota error. While no DEA has
    /// said what it offers, any size passes (placing it then says no room).
    pub fn check_fits(&self, memory_mb: i64, disk_mb: i64) -> ApiResult<()> {
        let runners = self.runners.lock().expect("dea pool");
        let live = || runners.values().filter(|(_, seen)| seen.elapsed() < self.ttl).map(|(advert, _)| advert);
        if let Some(largest) = live().filter_map(|a| a.memory_capacity).max()
            && memory_mb > largest as i64
        {
            return Err(ApiError::new("AppMemoryInvalid", &[]));
        }
        if let Some(largest) = live().filter_map(|a| a.disk_capacity).max()
            && disk_mb > largest as i64
        {
            let detail =
                format!("disk_quota too much disk requested (requested {disk_mb} MB - must be less than {largest} MB)");
            return Err(ApiError::new("AppInvalid", &[&detail]));
        }
        Ok(())
    }

    pub async fn wait_for_stager(&self, patience: Duration) {
        self.wait_for_advert(&self.stagers, patience).await
    }

    /// Takes a DEA's new advert: placements it shows are settled, the
    /// others stay charged against it.
    fn advertised(&self, mut advert: Advertise) {
        let mut runners = self.runners.lock().expect("dea pool");
        let mut placed = self.placed.lock().expect("dea pool");
        let pending = placed.entry(advert.id.clone()).or_default();
        pending.retain(|p| p.at.elapsed() < PLACED_TTL);
        // The current view is the last advert with the pending placements on top.
        let view = runners.get(&advert.id).map(|(a, _)| &a.app_id_to_count);
        let mut apps: Vec<String> = pending.iter().map(|p| p.app.clone()).collect();
        apps.sort();
        apps.dedup();
        for app in apps {
            let waiting = pending.iter().filter(|p| p.app == app).count() as u32;
            let shown_before = view.and_then(|v| v.get(&app)).copied().unwrap_or(0).saturating_sub(waiting);
            let shown_now = advert.app_id_to_count.get(&app).copied().unwrap_or(0);
            let mut settled = shown_now.saturating_sub(shown_before).min(waiting);
            // The oldest placements are the ones the DEA has had time to see.
            pending.retain(|p| {
                let seen = p.app == app && settled > 0;
                settled -= u32::from(seen);
                !seen
            });
        }
        for p in pending.iter() {
            advert.available_memory = advert.available_memory.saturating_sub(p.memory);
            advert.available_disk = advert.available_disk.saturating_sub(p.disk);
            if let Some(room) = &mut advert.available_instances {
                *room = room.saturating_sub(1);
            }
            *advert.app_id_to_count.entry(p.app.clone()).or_default() += 1;
        }
        runners.insert(advert.id.clone(), (advert, Instant::now()));
    }

    /// The last advert of each DEA heard from within the DEA timeout (what
    /// it offers and runs, with the instances placed on it since), by id.
    pub fn live(&self) -> Vec<Advertise> {
        let runners = self.runners.lock().expect("dea pool");
        let mut live: Vec<Advertise> =
            runners.values().filter(|(_, seen)| seen.elapsed() < self.ttl).map(|(advert, _)| advert.clone()).collect();
        live.sort_by(|a, b| a.id.cmp(&b.id));
        live
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
                    Ok(advert) if stagers => {
                        cc.deas.stagers.lock().expect("dea pool").insert(advert.id.clone(), (advert, Instant::now()));
                    }
                    Ok(advert) => cc.deas.advertised(advert),
                    Err(e) => tracing::warn!("{e:#}"),
                }
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advert(memory: u64, apps: &[(&str, u32)]) -> Advertise {
        Advertise {
            id: "dea".into(),
            stacks: vec!["s".into()],
            available_memory: memory,
            available_disk: 10_000,
            available_instances: None,
            memory_capacity: None,
            disk_capacity: None,
            app_id_to_count: apps.iter().map(|(a, n)| (a.to_string(), *n)).collect(),
        }
    }

    const NEEDS: Needs = Needs { memory: 64, disk: 1, stack: "s" };

    #[test]
    fn an_advert_sent_before_a_start_arrived_does_not_free_its_memory() {
        let pool = DeaPool::new(Duration::from_secs(60));
        pool.advertised(advert(128, &[("big", 2)]));
        assert!(pool.find_dea(NEEDS, "other").is_some());
        // The DEA advertises again before it got the start: still 128 free.
        pool.advertised(advert(128, &[("big", 2)]));
        assert!(pool.find_dea(NEEDS, "big").is_some(), "64 MB are left");
        assert!(pool.find_dea(NEEDS, "big").is_none(), "and no more");
        // Once the adverts show both, only what they say counts.
        pool.advertised(advert(0, &[("big", 3), ("other", 1)]));
        assert!(pool.find_dea(NEEDS, "big").is_none());
        pool.advertised(advert(64, &[("big", 2), ("other", 1)]));
        assert!(pool.find_dea(NEEDS, "big").is_some(), "an instance stopped: 64 MB free again");
    }

    #[test]
    fn sizes_past_the_largest_dea_are_refused_once_a_dea_says_what_it_offers() {
        let pool = DeaPool::new(Duration::from_secs(60));
        assert!(pool.check_fits(1_000_000_000_000, 1_000_000).is_ok(), "no DEA known yet");
        pool.advertised(advert(10_000, &[]));
        assert!(pool.check_fits(1_000_000_000_000, 1_000_000).is_ok(), "an earlier release's DEA says nothing");
        pool.advertised(Advertise { memory_capacity: Some(4096), disk_capacity: Some(8192), ..advert(10, &[]) });
        assert!(pool.check_fits(4096, 8192).is_ok(), "as much as it offers in all, however much is free");
        assert_eq!(pool.check_fits(4097, 1).unwrap_err().name, "AppMemoryInvalid");
        let too_much_disk = pool.check_fits(64, 8193).unwrap_err();
        assert_eq!(too_much_disk.name, "AppInvalid");
        assert!(too_much_disk.description.contains("must be less than 8192 MB"), "{}", too_much_disk.description);
    }

    #[test]
    fn a_dea_takes_no_more_instances_than_it_has_room_for() {
        let pool = DeaPool::new(Duration::from_secs(60));
        pool.advertised(Advertise { available_instances: Some(2), ..advert(10_000, &[]) });
        assert!(pool.find_dea(NEEDS, "app").is_some());
        assert!(pool.find_dea(NEEDS, "app").is_some());
        assert!(pool.find_dea(NEEDS, "app").is_none(), "memory is left, room for instances is not");
        // An advert sent before the starts arrived still counts them.
        pool.advertised(Advertise { available_instances: Some(2), ..advert(10_000, &[]) });
        assert!(pool.find_dea(NEEDS, "app").is_none());
        pool.advertised(Advertise { available_instances: Some(1), ..advert(10_000, &[("app", 2)]) });
        assert!(pool.find_dea(NEEDS, "app").is_some(), "one stopped");
    }
}
