use super::*;
use crate::protocol::messages::InstanceHeartbeat;

const NOW: f64 = 1_000_000.0;

fn app(instances: u32) -> DesiredApp {
    DesiredApp { version: "v1".into(), instances, started: true, staged: true, rolled_out: None, settled: true }
}

fn reported(id: &str, version: &str, index: u32, state: InstanceState, since: f64) -> Reported {
    Reported {
        dea: "dea-1".into(),
        instance: InstanceHeartbeat {
            droplet: "app".into(),
            version: version.into(),
            instance: id.into(),
            index,
            state,
            state_timestamp: since,
        },
    }
}

fn crash(count: u32, instance: &str, at: f64) -> HashMap<(String, u32), CrashRecord> {
    let record = CrashRecord {
        app_guid: "app".into(),
        index: 0,
        version: "v1".into(),
        count,
        last_crash_at: at as i64,
        last_instance: instance.into(),
        last_reason: "trap".into(),
    };
    HashMap::from([(("app".to_string(), 0), record)])
}

fn run(desired: DesiredApp, reported: &[Reported], crashes: &HashMap<(String, u32), CrashRecord>) -> Plan {
    let desired = HashMap::from([("app".to_string(), desired)]);
    let not_pending = |_: &str, _: &str, _: u32| false;
    plan(&Inputs {
        desired: &desired,
        reported,
        crashes,
        policy: &CrashPolicy::default(),
        now: NOW,
        pending: &not_pending,
    })
}

fn starts(plan: &Plan) -> Vec<u32> {
    plan.starts.get(&("app".to_string(), "v1".to_string())).cloned().unwrap_or_default()
}

fn stops(plan: &Plan) -> Vec<String> {
    plan.stops.get("app").cloned().unwrap_or_default()
}

#[test]
fn missing_indices_start_once_the_cc_is_done() {
    let one = [reported("a", "v1", 1, InstanceState::Running, NOW - 5.0)];
    assert_eq!(starts(&run(app(3), &one, &HashMap::new())), [0, 2]);
    let unsettled = DesiredApp { settled: false, ..app(3) };
    assert_eq!(run(unsettled, &one, &HashMap::new()), Plan::default());
}

#[test]
fn extra_indices_old_versions_and_duplicates_stop() {
    let instances = [
        reported("keep", "v1", 0, InstanceState::Running, NOW - 50.0),
        reported("dup-starting", "v1", 0, InstanceState::Starting, NOW - 60.0),
        reported("dup-late", "v1", 0, InstanceState::Running, NOW - 10.0),
        reported("extra", "v1", 1, InstanceState::Running, NOW - 10.0),
        reported("old", "v0", 0, InstanceState::Running, NOW - 100.0),
    ];
    let plan = run(app(1), &instances, &HashMap::new());
    let mut stopped = stops(&plan);
    stopped.sort();
    assert_eq!(stopped, ["dup-late", "dup-starting", "extra", "old"]);
    assert!(starts(&plan).is_empty());
}

#[test]
fn an_old_version_keeps_serving_until_its_successor_runs() {
    let instances = [
        reported("old", "v0", 0, InstanceState::Running, NOW - 100.0),
        reported("new", "v1", 0, InstanceState::Starting, NOW - 1.0),
    ];
    assert_eq!(run(app(1), &instances, &HashMap::new()), Plan::default());
    let crashed_new = [instances[0].clone(), reported("new", "v1", 0, InstanceState::Crashed, NOW - 1.0)];
    assert!(stops(&run(app(1), &crashed_new, &HashMap::new())).is_empty(), "the old one serves meanwhile");
}

#[test]
fn indices_a_deployment_has_not_reached_keep_their_old_instances() {
    let instances = [
        reported("new0", "v1", 0, InstanceState::Running, NOW - 10.0),
        reported("old1", "v0", 1, InstanceState::Running, NOW - 100.0),
        reported("old2", "v0", 2, InstanceState::Crashed, NOW - 100.0),
    ];
    let canary = DesiredApp { rolled_out: Some(1), ..app(4) };
    let plan = run(canary, &instances, &HashMap::new());
    // Index 1 keeps serving on v0; 2 (its old one crashed) and 3 (none) start on v1.
    assert_eq!(stops(&plan), ["old2"]);
    assert_eq!(starts(&plan), [2, 3]);
}

#[test]
fn a_stopped_or_deleted_app_loses_every_instance_and_staging_is_left_alone() {
    let instances =
        [reported("a", "v1", 0, InstanceState::Running, NOW), reported("b", "v1", 1, InstanceState::Crashed, NOW)];
    let stopped = DesiredApp { started: false, ..app(2) };
    assert_eq!(stops(&run(stopped, &instances, &HashMap::new())), ["a", "b"]);
    let plan = plan(&Inputs {
        desired: &HashMap::new(),
        reported: &instances,
        crashes: &HashMap::new(),
        policy: &CrashPolicy::default(),
        now: NOW,
        pending: &|_, _, _| false,
    });
    assert_eq!(stops(&plan), ["a", "b"]);
    let staging = DesiredApp { staged: false, ..app(2) };
    assert_eq!(run(staging, &instances, &HashMap::new()), Plan::default());
}

#[test]
fn crashes_restart_at_once_then_after_the_backoff_then_never() {
    let after = |count: u32, seconds_ago: f64| {
        let crashed = [reported("c", "v1", 0, InstanceState::Crashed, NOW - seconds_ago)];
        !starts(&run(app(1), &crashed, &crash(count, "c", NOW - seconds_ago))).is_empty()
    };
    assert!(after(3, 0.1), "third crash: at once");
    assert!(!after(4, 10.0), "fourth: after 30 s");
    assert!(after(4, 31.0));
    assert!(!after(5, 31.0), "fifth: after 60 s");
    assert!(after(5, 61.0));
    assert!(!after(200, 100_000.0), "200 crashes: never");
}

#[test]
fn an_uncounted_crash_waits_for_the_cc_then_counts_itself() {
    // The record is of an earlier crash (instance "b"): this one is not counted yet.
    let fresh = [reported("c", "v1", 0, InstanceState::Crashed, NOW - 1.0)];
    assert!(starts(&run(app(1), &fresh, &crash(1, "b", NOW - 40.0))).is_empty());
    let old = [reported("c", "v1", 0, InstanceState::Crashed, NOW - 11.0)];
    assert_eq!(starts(&run(app(1), &old, &crash(1, "b", NOW - 40.0))), [0], "counted as the second crash");
    assert!(starts(&run(app(1), &old, &crash(3, "b", NOW - 40.0))).is_empty(), "counted as the fourth");
}

#[test]
fn an_index_up_long_enough_clears_its_crashes_and_pending_starts_wait() {
    let up = [reported("c", "v1", 0, InstanceState::Running, NOW - 301.0)];
    assert_eq!(run(app(1), &up, &crash(7, "b", NOW - 400.0)).cleared, [("app".to_string(), 0)]);
    let recent = [reported("c", "v1", 0, InstanceState::Running, NOW - 100.0)];
    assert!(run(app(1), &recent, &crash(7, "b", NOW - 400.0)).cleared.is_empty());

    let desired = HashMap::from([("app".to_string(), app(2))]);
    let pending = |_: &str, _: &str, index: u32| index == 0;
    let plan = plan(&Inputs {
        desired: &desired,
        reported: &[],
        crashes: &HashMap::new(),
        policy: &CrashPolicy::default(),
        now: NOW,
        pending: &pending,
    });
    assert_eq!(starts(&plan), [1]);
}
