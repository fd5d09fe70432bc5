//! The Health Manager: keeps what runs equal to what users asked for.
//!
//! Desired state is the CCDB's apps ([`crate::lifecycle::desired`]); actual state is what
//! DEAs report in `dea.heartbeat` ([`crate::lifecycle::actual`]); crashes
//! are counted in the CCDB ([`crate::lifecycle::crashes`]). Twice per
//! heartbeat interval, and at once when `droplet.exited` reports a crash,
//! the HM works out what differs ([`plan`]) and asks the Cloud Controller
//! to act — `health.start` for missing and crashed indices (crashed ones
//! paced by the [`CrashPolicy`](crate::lifecycle::policy::CrashPolicy)),
//! `health.stop` for extra, duplicate, old-version and unwanted instances.
//! The CC places and stops them like a user's request (CCNG's
//! HealthManagerRespondent), so placement has one owner and the HM never
//! talks to DEAs.
//!
//! Several HMs may run; the one holding the [`lease`](crate::lifecycle::lease) acts. An HM takes the
//! lease and acts only when heartbeats have flowed for two intervals: right
//! after it starts, or while the bus is away, silence means it does not
//! know — not that every DEA died — and an HM cut off from the bus lets
//! the lease go to one that is not.

mod metrics;
mod plan;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::StreamExt;
use sqlx::AnyPool;

use crate::bus::{Bus, BusExt};
use crate::config::Config;
use crate::lifecycle::actual::{self, ActualState};
use crate::lifecycle::{crashes, desired, lease};
use crate::protocol::messages::{HealthStart, HealthStartReply, HealthStop, InstanceState, subjects};
use metrics::METRICS;

/// How long the CC has to answer a `health.start`.
const START_REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// `health.start` requests in flight at once.
const PARALLEL_STARTS: usize = 32;

/// An index of an app version whose start the CC placed.
type PendingStart = (String, String, u32);

pub struct HealthManager {
    pub id: String,
    config: Config,
    bus: Bus,
    db: AnyPool,
    actual: Arc<ActualState>,
    /// Starts the CC placed, by (app, version, index), and when (also in
    /// seconds since the epoch): not asked for again until a DEA reports
    /// an instance of that index that changed state since, or the DEA had
    /// time enough to.
    pending: Mutex<HashMap<PendingStart, (Instant, f64)>>,
}

impl HealthManager {
    /// Connects to the CCDB, listens to the bus and starts converging.
    pub async fn start(config: Config, bus: Bus) -> Result<tokio::task::JoinHandle<()>> {
        let db = crate::ccdb::connect(&config.database_url()).await?;
        let actual = Arc::new(ActualState::new(config.dea_timeout()));
        actual::listen(&bus, actual.clone()).await?;
        let mut exits = bus.subscribe(subjects::DROPLET_EXITED, None).await?;
        let hm = Arc::new(HealthManager {
            id: format!("hm-{}", uuid::Uuid::new_v4().simple()),
            config,
            bus,
            db,
            actual,
            pending: Mutex::default(),
        });
        tracing::info!("health manager {} started", hm.id);
        Ok(tokio::spawn(async move {
            let _release = ReleaseOnDrop(hm.clone());
            let tick = hm.config.heartbeat_interval() / 2;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(tick) => {}
                    Some(_) = exits.next() => {
                        // Give the CC a moment to count the crash.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                if let Err(e) = hm.tick().await {
                    tracing::warn!("health manager: {e:#}");
                }
            }
        }))
    }

    async fn tick(&self) -> Result<()> {
        // An HM that does not hear the DEAs (just started, or cut off from
        // the bus) neither acts nor holds the lease: another one may.
        if self.actual.heard_for() < 2 * self.config.heartbeat_interval() {
            METRICS.acting.set(0);
            return Ok(());
        }
        let lease_ttl = 3 * self.config.heartbeat_interval();
        let acting = lease::hold(&self.db, &self.id, lease_ttl).await?;
        METRICS.acting.set(i64::from(acting));
        if !acting {
            return Ok(());
        }
        // Actual state first: an instance in it was desired before this read.
        let reported = self.actual.instances(None);
        // The CC's own start reaches a heartbeat within an interval or so.
        let grace = self.config.heartbeat_interval() * 5 / 2;
        let desired = desired::load(&self.db, grace).await?;
        let crashes: HashMap<(String, u32), crashes::CrashRecord> =
            crashes::list(&self.db, None).await?.into_iter().map(|c| ((c.app_guid.clone(), c.index), c)).collect();
        let pending_for = 2 * self.config.heartbeat_interval() + Duration::from_secs(3);
        // When each index last changed state on a DEA.
        let mut last_change: HashMap<PendingStart, f64> = HashMap::new();
        for r in &reported {
            let key = (r.instance.droplet.clone(), r.instance.version.clone(), r.instance.index);
            let latest = last_change.entry(key).or_insert(f64::MIN);
            *latest = latest.max(r.instance.state_timestamp);
        }
        let pending = self.pending.lock().expect("pending starts").clone();
        let is_pending = |app: &str, version: &str, index: u32| {
            let key = (app.to_string(), version.to_string(), index);
            pending.get(&key).is_some_and(|(at, asked)| {
                at.elapsed() < pending_for && last_change.get(&key).is_none_or(|changed| changed < asked)
            })
        };
        let now = epoch_seconds();
        let plan = plan::plan(&plan::Inputs {
            desired: &desired,
            reported: &reported,
            crashes: &crashes,
            policy: &self.config.crash_policy,
            now,
            pending: &is_pending,
        });
        let wanted = desired.values().filter(|d| d.started && d.staged).map(|d| i64::from(d.instances)).sum();
        METRICS.desired.set(wanted);
        let live = |r: &&actual::Reported| matches!(r.instance.state, InstanceState::Starting | InstanceState::Running);
        METRICS.actual.set(reported.iter().filter(live).count() as i64);
        METRICS.acted("clear_crashes", plan.cleared.len());
        METRICS.acted("stop", plan.stops.values().map(Vec::len).sum());
        METRICS.acted("start", plan.starts.values().map(Vec::len).sum());
        for (app, index) in &plan.cleared {
            crashes::clear(&self.db, app, *index).await?;
        }
        for (app, instances) in plan.stops {
            tracing::info!("health manager: stopping {} instance(s) of app {app}", instances.len());
            self.bus
                .publish(subjects::HEALTH_STOP, &HealthStop { droplet: app, instances, hm: self.id.clone() })
                .await?;
        }
        futures::stream::iter(plan.starts)
            .for_each_concurrent(PARALLEL_STARTS, |((app, version), indices)| self.ask_to_start(app, version, indices))
            .await;
        self.pending.lock().expect("pending starts").retain(|_, (at, _)| at.elapsed() < pending_for);
        Ok(())
    }

    async fn ask_to_start(&self, app: String, version: String, indices: Vec<u32>) {
        tracing::info!("health manager: starting indices {indices:?} of app {app}");
        let asked = epoch_seconds();
        let request = HealthStart { droplet: app.clone(), version: version.clone(), indices, hm: self.id.clone() };
        let replies = self.bus.request_many(subjects::HEALTH_START, &request, 1, START_REPLY_TIMEOUT).await;
        let reply = replies.and_then(|r| {
            r.first().ok_or_else(|| anyhow::anyhow!("no Cloud Controller answered"))?.json::<HealthStartReply>()
        });
        let placed = match reply {
            Ok(reply) => reply.placed,
            Err(e) => return tracing::warn!("health.start for app {app}: {e:#}"),
        };
        let mut pending = self.pending.lock().expect("pending starts");
        for index in placed {
            pending.insert((app.clone(), version.clone(), index), (Instant::now(), asked));
        }
    }
}

fn epoch_seconds() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1e6
}

/// Lets another HM take over at once when this one stops cleanly.
struct ReleaseOnDrop(Arc<HealthManager>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        let hm = self.0.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = lease::release(&hm.db, &hm.id).await;
            });
        }
    }
}
