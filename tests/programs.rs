//! Command apps: wasi:cli programs that listen on `$PORT` themselves. They
//! run once their port accepts connections (or at once with
//! `health_check_type: process`), may listen on no other port, connect
//! only where their security groups allow, and are stopped and reported
//! when they exit, loop without waiting, or never listen.

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir};
use serde_json::json;

const PROGRAM: &str = "tests/fixtures/program-app/command-app.wasm";

async fn push_program(platform: &TestPlatform, name: &str, flags: &[&str]) -> String {
    platform.push(name, app_dir(&[PROGRAM]).path(), flags).await;
    platform.app_guid(name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_serves_on_its_port_and_may_listen_nowhere_else() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    let guid = push_program(&platform, "prog", &["-i", "2", "-m", "32M"]).await;
    platform.wait_for_states(&guid, &["RUNNING", "RUNNING"], Duration::from_secs(20)).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let (status, body) = platform.via_router("prog.localhost", "/").await;
        assert_eq!(status, 200, "{body}");
        seen.insert(body);
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["program 0", "program 1"], "both instances serve");

    let (_, bound) = platform.via_router("prog.localhost", "/bind/45678").await;
    assert!(bound.starts_with("refused"), "a second port is refused: {bound}");
    // Its stdout reaches the log stream and the log file.
    platform.wait_for_log(&guid, "/bind/45678 -> refused", Duration::from_secs(10)).await;
    assert_eq!(platform.states(&guid).await, ["RUNNING", "RUNNING"]);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn programs_connect_only_where_security_groups_allow() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    let guid = push_program(&platform, "prog", &["-m", "32M"]).await;
    let (_, refused) = platform.via_router("prog.localhost", "/connect/127.0.0.1:5432").await;
    assert!(refused.starts_with("refused"), "the platform's loopback is not a public network: {refused}");

    let space = platform.get(&format!("/v2/apps/{guid}")).await["entity"]["space_guid"].as_str().unwrap().to_string();
    let group =
        json!({"name": "local-postgres", "rules": [{"protocol": "tcp", "destination": "127.0.0.1", "ports": "5432"}]});
    let (status, created) = platform.api(reqwest::Method::POST, "/v2/security_groups", Some(&group.to_string())).await;
    assert_eq!(status, 201, "{created}");
    let group_guid = created["metadata"]["guid"].as_str().unwrap();
    let bind = format!("/v2/security_groups/{group_guid}/spaces/{space}");
    assert_eq!(platform.api(reqwest::Method::PUT, &bind, None).await.0, 201);

    // Rules apply to instances started after the change, as in CF.
    let out = platform.wf(&["restart", "prog"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, connected) = platform.via_router("prog.localhost", "/connect/127.0.0.1:5432").await;
    assert_eq!(connected, "connected");
    let (_, other_port) = platform.via_router("prog.localhost", "/connect/127.0.0.1:4222").await;
    assert!(other_port.starts_with("refused"), "only the ports of the rule: {other_port}");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_stuck_in_a_loop_is_stopped_and_reported() {
    let platform = TestPlatform::start_configured("local:", None, |config| {
        common::keep_crashes(config);
        config.max_busy_seconds = 1;
    })
    .await;
    platform.login().await;
    let guid = push_program(&platform, "spinner", &["-m", "32M"]).await;
    let spin = platform.http.get(format!("{}/spin", platform.router)).header("host", "spinner.localhost").send();
    let _ = tokio::time::timeout(Duration::from_secs(10), spin).await;
    platform.wait_for_states(&guid, &["CRASHED"], Duration::from_secs(10)).await;
    let reason = platform.wait_for_log(&guid, "without waiting for anything", Duration::from_secs(10)).await;
    assert!(reason.contains("stuck"), "{reason}");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_exits_has_crashed() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    let guid = push_program(&platform, "quitter", &["-m", "32M"]).await;
    let _ = platform.http.get(format!("{}/exit", platform.router)).header("host", "quitter.localhost").send().await;
    platform.wait_for_states(&guid, &["CRASHED"], Duration::from_secs(10)).await;
    // (Rust's std on WASI 0.2 reports any failing exit code as 1.)
    platform.wait_for_log(&guid, "the app exited with status 1", Duration::from_secs(10)).await;
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_type_decides_when_a_program_runs() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    // Never listening within the port check's timeout is a failed start.
    let slow = app_dir(&[PROGRAM]);
    std::fs::write(slow.path().join("manifest.yml"), "applications:\n- name: slow\n  env:\n    SLOW_START: 30\n")
        .unwrap();
    let out = platform.wf(&["push", "-p", slow.path().to_str().unwrap(), "-m", "32M", "-t", "1"]).await;
    assert!(!out.status.success(), "the start fails");
    let guid = platform.app_guid("slow").await;
    platform.wait_for_log(&guid, "did not accept connections on $PORT within 1 seconds", Duration::from_secs(10)).await;

    // With `process`, running is enough.
    let out = platform.wf(&["push", "-p", slow.path().to_str().unwrap(), "-m", "32M", "-u", "process"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    platform.wait_for_states(&guid, &["RUNNING"], Duration::from_secs(10)).await;

    // With `http`, the endpoint must answer 2xx.
    let guid = push_program(&platform, "checked", &["-m", "32M"]).await;
    for (endpoint, healthy) in [("/status/503", false), ("/status/204", true)] {
        let check =
            json!({"health_check_type": "http", "health_check_http_endpoint": endpoint, "health_check_timeout": 1});
        let (status, _) =
            platform.api(reqwest::Method::PUT, &format!("/v2/apps/{guid}"), Some(&check.to_string())).await;
        assert_eq!(status, 201);
        let out = platform.wf(&["restart", "checked"]).await;
        assert_eq!(out.status.success(), healthy, "{endpoint}: {}", String::from_utf8_lossy(&out.stderr));
    }
    platform.wait_for_log(&guid, "GET /status/503 did not answer 2xx within 1 seconds", Duration::from_secs(10)).await;
    platform.shutdown().await;
}
