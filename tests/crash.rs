//! A guest that traps or outgrows its memory quota takes down only its own
//! instance: it is reported CRASHED (and why, on the app's log stream),
//! the router stops sending it requests, and every other instance and app
//! on the DEA keeps serving. The health manager counts the crash and starts
//! the index again (the tests of the crash itself keep it crashed).

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir, eventually};
use serde_json::Value;

const CRASHER: &str = "tests/fixtures/crasher-app/crasher.wasm";

on_both_databases!(
    a_crashed_instance_is_counted_and_started_again,
    super::a_crashed_instance_is_counted_and_started_again
);

/// A trap crashes one instance and nothing else; the health manager counts
/// the crash and, it being the first, starts the index again at once.
async fn a_crashed_instance_is_counted_and_started_again(platform: TestPlatform) {
    platform.login().await;
    platform.push("hello", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "32M"]).await;
    platform.push("crasher", app_dir(&[CRASHER]).path(), &["-i", "2", "-m", "32M"]).await;
    let guid = platform.app_guid("crasher").await;
    let (p, g) = (&platform, &guid);
    eventually("both crasher instances running", Duration::from_secs(20), || async move {
        (p.states(g).await == ["RUNNING", "RUNNING"]).then_some(())
    })
    .await;

    let (status, body) = platform.via_router("crasher.localhost", "/trap").await;
    assert_eq!(status, 500, "{body}");
    let crash = eventually("the crash counted", Duration::from_secs(10), || async move {
        let crashes = p.get(&format!("/v2/apps/{g}/crashes")).await;
        crashes.as_array()?.iter().find(|c| c["crash_count"] == 1).cloned()
    })
    .await;
    assert!(crash["reason"].as_str().unwrap().contains("wasm trap"), "{crash}");
    assert!(crash["instance"].as_str().is_some_and(|i| !i.is_empty()), "{crash}");
    eventually("the crashed index running again", Duration::from_secs(15), || async move {
        (p.states(g).await == ["RUNNING", "RUNNING"]).then_some(())
    })
    .await;
    for _ in 0..4 {
        assert_eq!(platform.via_router("crasher.localhost", "/").await, (200, "alive".to_string()));
    }
    // Other apps are untouched.
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);
    let events = platform.get(&format!("/v2/events?q=actee%3A{guid}&q=type%3Aapp.crash")).await;
    assert_eq!(events["total_results"], 1, "{events}");
    let metadata = &events["resources"][0]["entity"]["metadata"];
    assert_eq!(metadata["crash_count"], 1, "{metadata}");
    assert_eq!(metadata["instance"], crash["instance"], "{metadata}");
    let logs = platform.get(&format!("/v2/apps/{guid}/logs")).await;
    assert!(
        logs.as_array()
            .unwrap()
            .iter()
            .any(|l| l["source_type"] == "API" && l["message"].as_str().unwrap().contains("\"reason\"=>\"CRASHED\"")),
        "the crash is on the app's log stream: {logs}"
    );
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceeding_the_memory_quota_crashes_the_instance_with_the_reason() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    platform.push("hello", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "32M"]).await;
    platform.push("hog", app_dir(&[CRASHER]).path(), &["-m", "16M"]).await;
    let guid = platform.app_guid("hog").await;

    let (status, _) = platform.via_router("hog.localhost", "/oom").await;
    assert_eq!(status, 500);
    let (p, g) = (&platform, &guid);
    eventually("the hog CRASHED", Duration::from_secs(10), || async move {
        (p.states(g).await == ["CRASHED"]).then_some(())
    })
    .await;
    let logs: Value = platform.get(&format!("/v2/apps/{guid}/logs")).await;
    assert!(
        logs.as_array().unwrap().iter().any(|l| l["message"].as_str().unwrap().contains("out of memory")),
        "the reason is reported: {logs}"
    );
    // A crashed app's route has no instance left, and says so; others serve.
    let (status, body) = platform.via_router("hog.localhost", "/").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);
    // The DEA still stages and runs new apps.
    platform.push("after", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "32M"]).await;
    assert_eq!(platform.via_router("after.localhost", "/").await.0, 200);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_output_is_contained() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    platform.push("hello", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "32M"]).await;
    platform.push("noisy", app_dir(&[CRASHER]).path(), &["-m", "32M"]).await;
    let (status, body) = platform.via_router("noisy.localhost", "/flood").await;
    assert_eq!((status, body.as_str()), (200, "flooded"));
    assert_eq!(platform.via_router("noisy.localhost", "/").await.0, 200, "the noisy instance still serves");
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200, "its neighbours too");
    let guid = platform.app_guid("noisy").await;
    let log = platform
        .http
        .get(format!("{}/v2/apps/{guid}/instances/0/files/logs/stdout.log", platform.api))
        .bearer_auth(platform.token().await)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains("flood line 0\n") && log.contains("flood line 199999\n"), "the log file keeps every line");
    let recent = platform.get(&format!("/v2/apps/{guid}/logs")).await;
    assert_eq!(recent.as_array().unwrap().len(), 1000, "recent logs keep the last 1000 lines");
    platform.shutdown().await;
}
