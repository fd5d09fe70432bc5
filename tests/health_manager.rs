//! The health manager keeps what runs equal to what users asked for: a
//! crash loop is restarted on CF's backoff until it has crashed too often,
//! and instances that found no room are placed once room appears — with
//! the user told at once, and `wf app` telling the truth meanwhile.

mod common;

use std::time::{Duration, Instant};

use common::{TestPlatform, app_dir, eventually};
use serde_json::Value;
use wasmfoundry::config::CrashPolicy;

const HELLO: &str = "examples/hello-http/hello_http.wasm";

/// The crash counts of the app's `app.crash` events, oldest first.
async fn crash_counts(platform: &TestPlatform, guid: &str) -> Vec<u64> {
    let events = platform.get(&format!("/v2/events?q=actee%3A{guid}&q=type%3Aapp.crash&results-per-page=100")).await;
    let mut counts: Vec<u64> = events["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entity"]["metadata"]["crash_count"].as_u64().unwrap())
        .collect();
    counts.sort();
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_restarts_on_the_backoff_then_stays_crashed() {
    let policy = CrashPolicy {
        immediate_restarts: 2,
        backoff_seconds: 2,
        max_backoff_seconds: 4,
        max_crashes: 6,
        reset_after_seconds: 300,
    };
    let platform = TestPlatform::start_configured("local:", None, |config| {
        config.heartbeat_interval_ms = 300;
        config.crash_policy = policy;
    })
    .await;
    platform.login().await;
    platform.push("loop", app_dir(&[HELLO]).path(), &["-m", "32M"]).await;
    let guid = platform.app_guid("loop").await;
    // A start command naming no component: every start crashes at once.
    let (status, body) =
        platform.api(reqwest::Method::PUT, &format!("/v2/apps/{guid}"), Some(r#"{"command":"missing.wasm"}"#)).await;
    assert_eq!(status, 201, "{body}");

    // When each crash was first seen.
    let mut seen: Vec<Instant> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    while seen.len() < 6 && Instant::now() < deadline {
        let counts = crash_counts(&platform, &guid).await;
        while seen.len() < counts.len() {
            seen.push(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(crash_counts(&platform, &guid).await, [1, 2, 3, 4, 5, 6], "six crashes, each counted");
    let gaps: Vec<f64> = seen.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    // Crashes 1 and 2 restart at once; then 2 s, 4 s, 4 s (the ceiling).
    assert!(gaps[1] < 1.5, "the second crash restarts at once: {gaps:?}");
    assert!(gaps[2] >= 1.8 && gaps[2] < 3.5, "the third waits 2 s: {gaps:?}");
    assert!(gaps[3] >= 3.8 && gaps[3] < 5.5, "the fourth waits 4 s: {gaps:?}");
    assert!(gaps[4] >= 3.8 && gaps[4] < 5.5, "the fifth waits 4 s, the ceiling: {gaps:?}");

    // Six crashes is the limit: it stays CRASHED, and says so.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(crash_counts(&platform, &guid).await.len(), 6, "no restart after the last crash");
    assert_eq!(platform.states(&guid).await, ["CRASHED"]);
    let crashes = platform.get(&format!("/v2/apps/{guid}/crashes")).await;
    let last = crashes.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["crash_count"], 6, "{crashes}");
    assert_eq!(last["next_restart"], Value::Null, "{crashes}");
    assert!(last["reason"].as_str().unwrap().contains("failed to start"), "{crashes}");
    let out = platform.wf(&["app", "loop"]).await;
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("#0") && shown.contains("crashed    crashed 6 time(s), not restarted again"), "{shown}");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_without_room_fail_at_once_and_start_when_room_appears() {
    let platform = TestPlatform::start_configured("local:", None, |config| {
        config.heartbeat_interval_ms = 300;
        config.dea_memory_mb = Some(256);
    })
    .await;
    platform.login().await;
    platform.push("big", app_dir(&[HELLO]).path(), &["-i", "2", "-m", "64M"]).await;
    platform.push("other", app_dir(&[HELLO]).path(), &["-m", "64M"]).await;
    let big = platform.app_guid("big").await;

    // 192 of 256 MB are taken: one more instance fits, two do not.
    let began = Instant::now();
    let out = platform.wf(&["scale", "big", "-i", "4"]).await;
    let waited = began.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("insufficient running resources"), "{stderr}");
    assert!(waited < Duration::from_secs(3), "the error comes at once ({waited:?})");
    platform.wait_for_states(&big, &["DOWN", "RUNNING", "RUNNING", "RUNNING"], Duration::from_secs(10)).await;
    let shown = String::from_utf8_lossy(&platform.wf(&["app", "big"]).await.stdout).into_owned();
    assert!(shown.contains("instances:         3/4") && shown.contains("#3    down       -"), "{shown}");

    // Stopping another app frees room: the health manager places the last one.
    assert!(platform.wf(&["stop", "other"]).await.status.success());
    platform.wait_for_states(&big, &["RUNNING", "RUNNING", "RUNNING", "RUNNING"], Duration::from_secs(15)).await;
    let (p, g) = (&platform, &big);
    eventually("four instances answering", Duration::from_secs(5), || async move {
        let mut indices = std::collections::BTreeSet::new();
        for _ in 0..12 {
            let (status, body) = p.via_router("big.localhost", "/").await;
            if status == 200 {
                let json: Value = serde_json::from_str(&body).ok()?;
                indices.insert(json["instance_index"].as_u64()?);
            }
        }
        let _ = g;
        (indices.len() == 4).then_some(())
    })
    .await;
    platform.shutdown().await;
}
