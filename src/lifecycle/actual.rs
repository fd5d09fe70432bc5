//! Actual state: every instance the DEAs run (and every task they run or
//! ran lately), from their `dea.heartbeat` messages. A DEA sends one every heartbeat interval and whenever one of
//! its instances changes state, listing all of them, so the latest
//! heartbeat of each DEA is the whole truth about it; a DEA not heard from
//! for the DEA timeout is gone, and its instances with it.
//!
//! The CC answers `/instances` from this at once (no round trip to the
//! DEAs), and the health manager compares it with desired state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::bus::Bus;
use crate::protocol::messages::{Heartbeat, InstanceHeartbeat, TaskReport, subjects};

/// One instance as its DEA last reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    pub dea: String,
    pub instance: InstanceHeartbeat,
}

pub struct ActualState {
    dea_timeout: Duration,
    inner: Mutex<Inner>,
    /// Told of every heartbeat, for those who wait for a state to come.
    heard: tokio::sync::watch::Sender<()>,
}

struct Inner {
    /// Each DEA's latest heartbeat, and when it came.
    deas: HashMap<String, (Instant, Heartbeat)>,
    /// Each DEA's heartbeat being put together from its parts: its number,
    /// the parts come, and what they list so far.
    parts: HashMap<String, (u64, u32, Heartbeat)>,
    /// Since when heartbeats have arrived without a gap as long as the DEA
    /// timeout (a gap means the bus, not every DEA, went away).
    flowing_since: Option<Instant>,
    last_heard: Option<Instant>,
}

impl ActualState {
    pub fn new(dea_timeout: Duration) -> Self {
        ActualState {
            dea_timeout,
            inner: Mutex::new(Inner {
                deas: HashMap::new(),
                parts: HashMap::new(),
                flowing_since: None,
                last_heard: None,
            }),
            heard: tokio::sync::watch::Sender::new(()),
        }
    }

    /// Takes a heartbeat (or a part of one: recorded once all its parts came;
    /// a beat a part of which was lost is replaced by the next).
    pub fn record(&self, heartbeat: Heartbeat) {
        let now = Instant::now();
        let mut inner = self.inner.lock().expect("actual state");
        let heartbeat = match heartbeat.part {
            None => heartbeat,
            Some(part) => {
                let dea = heartbeat.dea.clone();
                let empty = || Heartbeat { dea: dea.clone(), droplets: Vec::new(), tasks: Vec::new(), part: None };
                let pending = inner.parts.entry(dea.clone()).or_insert_with(|| (part.beat, 0, empty()));
                if pending.0 != part.beat {
                    *pending = (part.beat, 0, empty());
                }
                pending.1 += 1;
                pending.2.droplets.extend(heartbeat.droplets);
                pending.2.tasks.extend(heartbeat.tasks);
                if pending.1 < part.count {
                    return;
                }
                inner.parts.remove(&dea).map_or_else(empty, |(_, _, whole)| whole)
            }
        };
        let gap = inner.last_heard.is_none_or(|last| now - last >= self.dea_timeout);
        if gap {
            inner.flowing_since = Some(now);
        }
        inner.last_heard = Some(now);
        inner.deas.insert(heartbeat.dea.clone(), (now, heartbeat));
        drop(inner);
        self.heard.send_replace(());
    }

    /// Changes each time a heartbeat is recorded.
    pub fn heartbeats(&self) -> tokio::sync::watch::Receiver<()> {
        self.heard.subscribe()
    }

    /// How long heartbeats have kept arriving: zero right after start-up or
    /// after the bus was away, when what is known is not yet the whole truth.
    pub fn heard_for(&self) -> Duration {
        let inner = self.inner.lock().expect("actual state");
        match (inner.flowing_since, inner.last_heard) {
            (Some(since), Some(last)) if last.elapsed() < self.dea_timeout => since.elapsed(),
            _ => Duration::ZERO,
        }
    }

    /// The DEAs heard from within the timeout.
    pub fn live_deas(&self) -> Vec<String> {
        let inner = self.inner.lock().expect("actual state");
        inner.deas.iter().filter(|(_, (seen, _))| seen.elapsed() < self.dea_timeout).map(|(id, _)| id.clone()).collect()
    }

    /// The tasks each live DEA reports (running, or ended lately), by DEA.
    pub fn tasks(&self) -> HashMap<String, Vec<TaskReport>> {
        let inner = self.inner.lock().expect("actual state");
        inner
            .deas
            .iter()
            .filter(|(_, (seen, _))| seen.elapsed() < self.dea_timeout)
            .map(|(dea, (_, heartbeat))| (dea.clone(), heartbeat.tasks.clone()))
            .collect()
    }

    /// Every instance on a live DEA (those of `app` only, when given).
    pub fn instances(&self, app: Option<&str>) -> Vec<Reported> {
        let mut inner = self.inner.lock().expect("actual state");
        let timeout = self.dea_timeout;
        inner.deas.retain(|_, (seen, _)| seen.elapsed() < timeout * 10);
        inner
            .deas
            .iter()
            .filter(|(_, (seen, _))| seen.elapsed() < timeout)
            .flat_map(|(dea, (_, heartbeat))| {
                heartbeat
                    .droplets
                    .iter()
                    .filter(|i| app.is_none_or(|a| a == i.droplet))
                    .map(|i| Reported { dea: dea.clone(), instance: i.clone() })
            })
            .collect()
    }
}

/// Keeps `state` up to date from the bus's heartbeats.
pub async fn listen(bus: &Bus, state: Arc<ActualState>) -> Result<()> {
    let mut heartbeats = bus.subscribe(subjects::DEA_HEARTBEAT, None).await?;
    tokio::spawn(async move {
        while let Some(message) = heartbeats.next().await {
            match message.json::<Heartbeat>() {
                Ok(heartbeat) => state.record(heartbeat),
                Err(e) => tracing::warn!("{e:#}"),
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::{HEARTBEAT_PART_INSTANCES, InstanceState};

    fn instance(n: usize) -> InstanceHeartbeat {
        InstanceHeartbeat {
            droplet: "app".into(),
            version: "v1".into(),
            instance: format!("instance-{n}"),
            index: n as u32,
            state: InstanceState::Running,
            state_timestamp: 0.0,
        }
    }

    #[test]
    fn a_heartbeat_in_parts_counts_once_every_part_came() {
        let state = ActualState::new(Duration::from_secs(10));
        let many = HEARTBEAT_PART_INSTANCES * 2 + 1;
        let whole =
            Heartbeat { dea: "dea".into(), droplets: (0..many).map(instance).collect(), tasks: vec![], part: None };
        let mut parts = whole.clone().into_parts(1);
        assert_eq!(parts.len(), 3);
        // Out of order: the last part first.
        parts.rotate_right(1);
        let final_part = parts.pop().unwrap();
        for part in parts {
            state.record(part);
        }
        assert!(state.instances(None).is_empty(), "nothing counts before every part came");
        state.record(final_part);
        assert_eq!(state.instances(None).len(), many);

        // A beat that lost a part is replaced by the next whole one.
        let mut next = whole.clone();
        next.droplets.truncate(many - 1);
        let beat_2 = next.clone().into_parts(2);
        state.record(beat_2[0].clone());
        for part in next.into_parts(3) {
            state.record(part);
        }
        assert_eq!(state.instances(None).len(), many - 1, "heartbeat 3, whole; heartbeat 2 lost a part");
    }
}
