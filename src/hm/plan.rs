//! One convergence step, as a pure function: from desired state (the
//! CCDB's apps), actual state (heartbeats) and crash records, the instances
//! to start and to stop. Kept free of I/O so every rule is unit-tested.
//!
//! The rules, per app:
//! - not started (or gone from the CCDB): stop every instance it has;
//! - started but not staged: leave it alone (staging is in flight);
//! - staged: stop indices at or past `instances`, instances of other
//!   versions once their index's new instance runs (the
//!   [handover](crate::lifecycle::handover) rule; indices a deployment
//!   has not reached keep theirs), and all but one of an
//!   index's live instances; start each
//!   missing index — a crashed one once the [`CrashPolicy`] allows — unless
//!   the CC changed the app a moment ago (its own start or stop is still
//!   in flight) or a start asked for earlier is still pending.

use std::collections::{BTreeMap, HashMap};

use crate::lifecycle::actual::Reported;
use crate::lifecycle::crashes::CrashRecord;
use crate::lifecycle::desired::DesiredApp;
use crate::lifecycle::handover;
use crate::lifecycle::policy::CrashPolicy;
use crate::protocol::messages::InstanceState;

/// How long a crash may go uncounted by the CC before the HM counts it
/// itself (the CC that should have was down).
pub const UNCOUNTED_CRASH_WAIT: f64 = 10.0;

pub struct Inputs<'a> {
    pub desired: &'a HashMap<String, DesiredApp>,
    pub reported: &'a [Reported],
    /// By (app, index).
    pub crashes: &'a HashMap<(String, u32), CrashRecord>,
    pub policy: &'a CrashPolicy,
    /// Seconds since the epoch.
    pub now: f64,
    /// Whether a start of (app, version, index) was asked for recently.
    pub pending: &'a dyn Fn(&str, &str, u32) -> bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// (app, version) → indices to start.
    pub starts: BTreeMap<(String, String), Vec<u32>>,
    /// app → instance ids to stop.
    pub stops: BTreeMap<String, Vec<String>>,
    /// Crash records to clear: their index has been up long enough.
    pub cleared: Vec<(String, u32)>,
}

fn live(state: InstanceState) -> bool {
    matches!(state, InstanceState::Starting | InstanceState::Running)
}

pub fn plan(inputs: &Inputs) -> Plan {
    let mut plan = Plan::default();
    let mut by_app: BTreeMap<&str, Vec<&Reported>> = BTreeMap::new();
    for reported in inputs.reported {
        if !matches!(reported.instance.state, InstanceState::Stopping | InstanceState::Stopped) {
            by_app.entry(reported.instance.droplet.as_str()).or_default().push(reported);
        }
    }
    for (app, instances) in &by_app {
        let stop = |plan: &mut Plan, r: &Reported| {
            plan.stops.entry(app.to_string()).or_default().push(r.instance.instance.clone())
        };
        let Some(desired) = inputs.desired.get(*app).filter(|d| d.started) else {
            instances.iter().for_each(|r| stop(&mut plan, r));
            continue;
        };
        if !desired.staged {
            continue;
        }
        let rolled_out = desired.rolled_out.unwrap_or(desired.instances);
        let retired = handover::between(instances, &desired.version, desired.instances, rolled_out).retire;
        let mut live_by_index: BTreeMap<u32, Vec<&Reported>> = BTreeMap::new();
        for r in instances {
            if r.instance.index >= desired.instances || retired.contains(r) {
                stop(&mut plan, r);
            } else if r.instance.version == desired.version && live(r.instance.state) {
                live_by_index.entry(r.instance.index).or_default().push(r);
            }
        }
        for mut duplicates in live_by_index.into_values().filter(|l| l.len() > 1) {
            // Keep the running one that started first.
            duplicates.sort_by(|a, b| {
                let rank = |r: &Reported| (r.instance.state != InstanceState::Running, r.instance.state_timestamp);
                rank(a).partial_cmp(&rank(b)).unwrap_or(std::cmp::Ordering::Equal)
            });
            duplicates[1..].iter().for_each(|r| stop(&mut plan, r));
        }
    }
    for (app, desired) in inputs.desired {
        if desired.started && desired.staged && desired.settled {
            plan_indices(inputs, app, desired, by_app.get(app.as_str()).map_or(&[][..], |v| v), &mut plan);
        }
    }
    plan
}

/// Starts for the missing and crashed indices of one started, staged app.
fn plan_indices(inputs: &Inputs, app: &str, desired: &DesiredApp, instances: &[&Reported], plan: &mut Plan) {
    for index in 0..desired.instances {
        let of_index =
            || instances.iter().filter(|r| r.instance.index == index && r.instance.version == desired.version);
        let record = inputs.crashes.get(&(app.to_string(), index)).filter(|c| c.version == desired.version);
        if let Some(running) = of_index().find(|r| r.instance.state == InstanceState::Running) {
            let up_for = inputs.now - running.instance.state_timestamp;
            if record.is_some_and(|c| c.count > 0) && up_for >= inputs.policy.reset_after().as_secs_f64() {
                plan.cleared.push((app.to_string(), index));
            }
            continue;
        }
        if of_index().any(|r| live(r.instance.state)) || (inputs.pending)(app, &desired.version, index) {
            continue;
        }
        // An index a step-by-step deployment has not reached yet keeps an
        // earlier version's live instance.
        let reached = desired.rolled_out.is_none_or(|rolled_out| index < rolled_out);
        if !reached && instances.iter().any(|r| r.instance.index == index && live(r.instance.state)) {
            continue;
        }
        let crashed = of_index()
            .filter(|r| r.instance.state == InstanceState::Crashed)
            .max_by(|a, b| a.instance.state_timestamp.total_cmp(&b.instance.state_timestamp));
        if let Some(crashed) = crashed {
            let (count, last_crash) = match record {
                // The DEA's timestamp of the crash is the precise one.
                Some(c) if c.last_instance == crashed.instance.instance => (c.count, crashed.instance.state_timestamp),
                _ if inputs.now - crashed.instance.state_timestamp < UNCOUNTED_CRASH_WAIT => continue,
                _ => (record.map_or(0, |c| c.count) + 1, crashed.instance.state_timestamp),
            };
            match inputs.policy.restart_delay(count) {
                Some(delay) if inputs.now >= last_crash + delay.as_secs_f64() => {}
                _ => continue,
            }
        }
        plan.starts.entry((app.to_string(), desired.version.clone())).or_default().push(index);
    }
}

#[cfg(test)]
mod tests;
