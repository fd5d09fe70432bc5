//! The DEA's metrics (the DEA's `varz` and Diego's cell metrics, as
//! Prometheus series): its instances by state, the memory they reserve
//! and hold, starts and crashes, and how long stagings take. The gauges
//! are what the DEA last advertised (every heartbeat, and on each change).

use std::sync::LazyLock;

use crate::metrics::{Counter, EncodeLabelSet, Family, Gauge, SecondsBy, register, seconds_by};
use crate::protocol::messages::InstanceState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ByState {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ByOutcome {
    outcome: &'static str,
}

pub struct DeaMetrics {
    instances: Family<ByState, Gauge>,
    /// Bytes of memory the DEA offers (with its overcommit factor).
    pub memory_capacity: Gauge,
    /// Bytes reserved by starting and running instances, stagings and tasks.
    pub memory_reserved: Gauge,
    /// Bytes the guests use (each the most it held at once, as `cf app` shows).
    pub memory_used: Gauge,
    starts: Family<ByOutcome, Counter>,
    pub crashes: Counter,
    stagings: SecondsBy<ByOutcome>,
}

const STATES: [(InstanceState, &str); 5] = [
    (InstanceState::Starting, "starting"),
    (InstanceState::Running, "running"),
    (InstanceState::Crashed, "crashed"),
    (InstanceState::Stopping, "stopping"),
    (InstanceState::Stopped, "stopped"),
];

impl DeaMetrics {
    /// Sets the instance gauges from the states of the DEA's instances.
    pub fn instances(&self, states: impl Iterator<Item = InstanceState>) {
        let mut counts = [0i64; STATES.len()];
        for state in states {
            if let Some(i) = STATES.iter().position(|(s, _)| *s == state) {
                counts[i] += 1;
            }
        }
        for ((_, state), count) in STATES.iter().zip(counts) {
            self.instances.get_or_create(&ByState { state }).set(count);
        }
    }

    /// Counts a start that ended with the instance running or not.
    pub fn start(&self, running: bool) {
        let outcome = if running { "running" } else { "failed" };
        self.starts.get_or_create(&ByOutcome { outcome }).inc();
    }

    /// Counts a staging of `seconds` that succeeded or failed.
    pub fn staging(&self, succeeded: bool, seconds: f64) {
        let outcome = if succeeded { "succeeded" } else { "failed" };
        self.stagings.get_or_create(&ByOutcome { outcome }).observe(seconds);
    }
}

pub static METRICS: LazyLock<DeaMetrics> = LazyLock::new(|| DeaMetrics {
    instances: register("wf_dea_instances", "App instances on the DEA, by state.", Family::default()),
    memory_capacity: register(
        "wf_dea_memory_capacity_bytes",
        "Memory the DEA offers to instances, stagings and tasks (times its overcommit factor).",
        Gauge::default(),
    ),
    memory_reserved: register(
        "wf_dea_memory_reserved_bytes",
        "Memory reserved by starting and running instances, stagings and tasks.",
        Gauge::default(),
    ),
    memory_used: register(
        "wf_dea_memory_used_bytes",
        "Memory the instances use: each the most it held at once, as cf app shows it.",
        Gauge::default(),
    ),
    starts: register(
        "wf_dea_instance_starts",
        "Instance starts, by outcome (running, failed: it crashed starting).",
        Family::default(),
    ),
    crashes: register("wf_dea_instance_crashes", "Instances that crashed, starting or running.", Counter::default()),
    stagings: register(
        "wf_dea_staging_duration_seconds",
        "How long stagings took, by outcome (succeeded, failed).",
        seconds_by(),
    ),
});
