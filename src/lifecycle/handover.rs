//! How a started app moves to a new version (a new droplet, environment,
//! memory…) without a moment unserved. CF v2 stopped every old instance
//! before starting new ones; here the new version's instances start beside
//! the old, and an old instance goes only once the new instance of its
//! index is RUNNING — its health check passed and its routes are
//! registered. The DEA then takes the old one off its routes and drains it.
//!
//! The Cloud Controller follows a rollout as it happens (so the old
//! instance goes the moment its successor runs) and the health manager
//! applies the same rule on every tick (so a rollout the CC stopped
//! following still ends).

use super::actual::Reported;
use crate::protocol::messages::InstanceState;

/// What can happen now to an app's instances of other versions.
#[derive(Debug, Default, PartialEq)]
pub struct Handover<'a> {
    /// To stop: those whose index has a RUNNING instance of the wanted
    /// version, those at indices at or past the wanted count, and those no
    /// longer live (crashed).
    pub retire: Vec<&'a Reported>,
    /// Live ones that keep serving until their successor runs.
    pub waiting: usize,
}

/// Sorts an app's reported instances of versions other than `version`.
/// Indices at or past `rolled_out` (a deployment rolling out step by step
/// has not reached them) keep their live instances of earlier versions.
pub fn between<'a>(reported: &[&'a Reported], version: &str, instances: u32, rolled_out: u32) -> Handover<'a> {
    let succeeded = |index: u32| {
        reported.iter().any(|r| {
            r.instance.version == version && r.instance.index == index && r.instance.state == InstanceState::Running
        })
    };
    let mut handover = Handover::default();
    for r in reported.iter().filter(|r| r.instance.version != version) {
        match r.instance.state {
            InstanceState::Stopping | InstanceState::Stopped => {}
            InstanceState::Starting | InstanceState::Running if (rolled_out..instances).contains(&r.instance.index) => {
            }
            InstanceState::Starting | InstanceState::Running
                if r.instance.index < instances && !succeeded(r.instance.index) =>
            {
                handover.waiting += 1
            }
            _ => handover.retire.push(r),
        }
    }
    handover
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::InstanceHeartbeat;

    fn reported(id: &str, version: &str, index: u32, state: InstanceState) -> Reported {
        let instance = InstanceHeartbeat {
            droplet: "app".into(),
            version: version.into(),
            instance: id.into(),
            index,
            state,
            state_timestamp: 0.0,
        };
        Reported { dea: "dea".into(), instance }
    }

    fn retired(handover: &Handover) -> Vec<String> {
        handover.retire.iter().map(|r| r.instance.instance.clone()).collect()
    }

    #[test]
    fn an_old_instance_serves_until_the_new_one_of_its_index_runs() {
        let all = [
            reported("old0", "v1", 0, InstanceState::Running),
            reported("old1", "v1", 1, InstanceState::Running),
            reported("old2", "v1", 2, InstanceState::Running),
            reported("new0", "v2", 0, InstanceState::Running),
            reported("new1", "v2", 1, InstanceState::Starting),
            reported("gone", "v1", 1, InstanceState::Stopping),
        ];
        let refs: Vec<&Reported> = all.iter().collect();
        // Scaled down to two at the same time: index 2 has no successor to wait for.
        let handover = between(&refs, "v2", 2, 2);
        assert_eq!(retired(&handover), ["old0", "old2"]);
        assert_eq!(handover.waiting, 1);
    }

    #[test]
    fn crashed_old_instances_go_and_a_crashing_new_one_keeps_the_old_serving() {
        let all = [
            reported("old0", "v1", 0, InstanceState::Running),
            reported("old1", "v1", 1, InstanceState::Crashed),
            reported("new0", "v2", 0, InstanceState::Crashed),
        ];
        let refs: Vec<&Reported> = all.iter().collect();
        let handover = between(&refs, "v2", 2, 2);
        assert_eq!(retired(&handover), ["old1"]);
        assert_eq!(handover.waiting, 1);
    }

    #[test]
    fn indices_a_deployment_has_not_reached_keep_their_old_instances() {
        let all = [
            reported("old0", "v1", 0, InstanceState::Running),
            reported("old1", "v1", 1, InstanceState::Running),
            reported("old2", "v1", 2, InstanceState::Crashed),
            reported("new0", "v2", 0, InstanceState::Running),
        ];
        let refs: Vec<&Reported> = all.iter().collect();
        // A canary at index 0: old1 keeps serving and is not waited for; a crashed one still goes.
        let handover = between(&refs, "v2", 3, 1);
        assert_eq!(retired(&handover), ["old0", "old2"]);
        assert_eq!(handover.waiting, 0);
    }
}
