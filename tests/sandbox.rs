//! Hostile HTTP guests, each contained and reported while its neighbours
//! keep serving: deep recursion, reaching for files outside its
//! directories, outgoing HTTP where its security groups do not allow,
//! filling its disk quota, opening handles until it runs out, and requests
//! stuck in loops (which must not hold the DEA's threads).

mod common;

use std::time::{Duration, Instant};

use common::{TestPlatform, app_dir};

const CRASHER: &str = "tests/fixtures/crasher-app/crasher.wasm";
const HELLO: &str = "examples/hello-http/hello_http.wasm";

/// A platform with `hello` and `crasher` pushed (crasher with `flags`).
async fn with_crasher(platform: &TestPlatform, flags: &[&str]) -> String {
    platform.login().await;
    platform.push("hello", app_dir(&[HELLO]).path(), &["-m", "32M"]).await;
    platform.push("crasher", app_dir(&[CRASHER]).path(), flags).await;
    platform.app_guid("crasher").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_crashes_only_its_instance() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    let guid = with_crasher(&platform, &["-m", "32M"]).await;
    let (status, body) = platform.via_router("crasher.localhost", "/recurse").await;
    assert_eq!(status, 500, "{body}");
    platform.wait_for_states(&guid, &["CRASHED"], Duration::from_secs(10)).await;
    // Rust keeps its stack in linear memory: running off its end is an
    // out-of-bounds access (deeper native recursion exhausts wasmtime's stack).
    let reason = platform.wait_for_log(&guid, "CRASHED", Duration::from_secs(10)).await;
    assert!(
        reason.contains("wasm trap: out of bounds memory access") || reason.contains("call stack exhausted"),
        "{reason}"
    );
    assert!(!reason.contains("wasm backtrace"), "the reason is one line, not a backtrace: {reason}");
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_outside_the_instance_cannot_be_reached() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    with_crasher(&platform, &["-m", "32M"]).await;
    let (status, body) = platform.via_router("crasher.localhost", "/escape").await;
    assert_eq!(status, 200, "{body}");
    for attempt in ["absolute", "parent", "dotdot", "symlink"] {
        let line = body.lines().find(|l| l.starts_with(attempt)).unwrap_or_else(|| panic!("{attempt} tried: {body}"));
        assert!(line.contains("refused"), "{line}");
    }
    assert!(!body.contains(": read"), "nothing outside was read: {body}");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outgoing_http_requests_go_only_where_security_groups_allow() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    let guid = with_crasher(&platform, &["-m", "32M"]).await;
    // The Cloud Controller, on the platform's loopback.
    let cc = platform.api.trim_start_matches("http://").to_string();
    let (_, refused) = platform.via_router("crasher.localhost", &format!("/fetch/{cc}/v2/info")).await;
    assert!(refused.contains("HttpRequestDenied"), "{refused}");

    let space = platform.get(&format!("/v2/apps/{guid}")).await["entity"]["space_guid"].as_str().unwrap().to_string();
    let port = cc.rsplit(':').next().unwrap();
    let group = serde_json::json!({
        "name": "cc", "space_guids": [space],
        "rules": [{"protocol": "tcp", "destination": "127.0.0.1", "ports": port}],
    });
    let (status, body) = platform.api(reqwest::Method::POST, "/v2/security_groups", Some(&group.to_string())).await;
    assert_eq!(status, 201, "{body}");
    let out = platform.wf(&["restart", "crasher"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, allowed) = platform.via_router("crasher.localhost", &format!("/fetch/{cc}/v2/info")).await;
    assert_eq!(allowed, "status 200");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_past_the_disk_quota_fail_and_are_reported() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    let guid = with_crasher(&platform, &["-m", "32M", "-k", "16M"]).await;
    let (status, body) = platform.via_router("crasher.localhost", "/fill-disk").await;
    assert_eq!(status, 200, "{body}");
    let written: u64 = body
        .strip_prefix("wrote ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected answer: {body}"));
    assert!((8..16).contains(&written), "the quota stopped the writes near 16 MB: {body}");
    platform.wait_for_log(&guid, "disk quota of 16 MB exceeded", Duration::from_secs(10)).await;
    // The guest saw a failed write, not a crash: the instance serves on.
    assert_eq!(platform.via_router("crasher.localhost", "/").await, (200, "alive".to_string()));
    assert_eq!(platform.states(&guid).await, ["RUNNING"]);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_handles_until_none_are_left_crashes_the_instance() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    let guid = with_crasher(&platform, &["-m", "32M"]).await;
    let (status, body) = platform.via_router("crasher.localhost", "/handles").await;
    assert_eq!(status, 500, "{body}");
    platform.wait_for_states(&guid, &["CRASHED"], Duration::from_secs(10)).await;
    platform
        .wait_for_log(&guid, "too many open handles (files, sockets, streams): the cap is 256", Duration::from_secs(10))
        .await;
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_stuck_in_loops_are_cut_off_without_holding_the_dea() {
    let platform = TestPlatform::start_configured("local:", None, |config| {
        common::keep_crashes(config);
        config.request_timeout = 2;
    })
    .await;
    let guid = with_crasher(&platform, &["-m", "32M"]).await;
    // More spinning requests than the DEA has threads.
    let spins: Vec<_> = (0..3)
        .map(|_| {
            let (http, router) = (platform.http.clone(), platform.router.clone());
            tokio::spawn(async move {
                let response = http.get(format!("{router}/spin")).header("host", "crasher.localhost").send().await;
                response.unwrap().status().as_u16()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let began = Instant::now();
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);
    assert!(began.elapsed() < Duration::from_secs(1), "hello answered while the spins ran: {:?}", began.elapsed());
    for spin in spins {
        assert_eq!(spin.await.unwrap(), 504, "a spinning request ends with a gateway timeout");
    }
    // Cut off, not crashed; and its CPU was counted.
    assert_eq!(platform.states(&guid).await, ["RUNNING"]);
    let stats = platform.get(&format!("/v2/apps/{guid}/stats")).await;
    let cpu = stats["0"]["stats"]["usage"]["cpu"].as_f64().unwrap();
    assert!(cpu > 0.1, "the spins used CPU: {stats}");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_runs_one_request_per_4_mb_at_once_and_queues_the_rest() {
    let platform = TestPlatform::start_configured("local:", None, |config| {
        common::keep_crashes(config);
        config.request_timeout = 3;
    })
    .await;
    with_crasher(&platform, &["-m", "8M"]).await;
    // 8 MB: two requests at once. Two spinning requests hold both slots
    // until they are cut off; a third waits for one, then is answered.
    let spin = || {
        let (http, router) = (platform.http.clone(), platform.router.clone());
        tokio::spawn(async move {
            let response = http.get(format!("{router}/spin")).header("host", "crasher.localhost").send().await;
            response.unwrap().status().as_u16()
        })
    };
    let spins = [spin(), spin()];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let began = Instant::now();
    assert_eq!(platform.via_router("crasher.localhost", "/").await, (200, "alive".to_string()));
    let waited = began.elapsed();
    assert!(waited > Duration::from_millis(2000), "the third request waited for a slot: {waited:?}");
    for spin in spins {
        assert_eq!(spin.await.unwrap(), 504);
    }
    platform.shutdown().await;
}
