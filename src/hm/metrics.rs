//! The health manager's metrics (HM9000's `NumberOfDesiredInstances`,
//! `NumberOfRunningInstances`, `StartMissing`, `StopExtra`…): desired and
//! actual instances as of its last look, whether it holds the lease (only
//! the HM that does acts, and its gauges are current), and what it asked
//! the Cloud Controller to do.

use std::sync::LazyLock;

use crate::metrics::{Counter, EncodeLabelSet, Family, Gauge, register};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ByAction {
    action: &'static str,
}

pub struct HmMetrics {
    /// Instances of started, staged apps, as the CCDB has them.
    pub desired: Gauge,
    /// Starting or running instances the DEAs report.
    pub actual: Gauge,
    /// 1 while this HM holds the lease and acts.
    pub acting: Gauge,
    actions: Family<ByAction, Counter>,
}

impl HmMetrics {
    /// Counts `count` instances the HM asked to be started (`start`),
    /// stopped (`stop`), or whose crash count it cleared (`clear_crashes`).
    pub fn acted(&self, action: &'static str, count: usize) {
        self.actions.get_or_create(&ByAction { action }).inc_by(count as u64);
    }
}

pub static METRICS: LazyLock<HmMetrics> = LazyLock::new(|| HmMetrics {
    desired: register(
        "wf_hm_desired_instances",
        "Instances of started, staged apps, at the health manager's last look.",
        Gauge::default(),
    ),
    actual: register(
        "wf_hm_actual_instances",
        "Starting or running instances the DEAs reported, at the health manager's last look.",
        Gauge::default(),
    ),
    acting: register("wf_hm_acting", "1 while this health manager holds the lease and acts.", Gauge::default()),
    actions: register(
        "wf_hm_actions",
        "Instances the health manager asked to start or stop, and crash counts it cleared.",
        Family::default(),
    ),
});
