//! Prometheus metrics, scraped as Prometheus would while the platform
//! works: the router's requests by status class and their latency, the
//! CC's by route template, the DEA's instances by state, memory, starts,
//! crashes and stagings, the health manager's desired and actual
//! instances and what it did, and the bus's messages and reconnects — on
//! the CC's and router's ports, and at `metrics_listen` for a DEA and a
//! health manager running as processes of their own.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::cluster::{Cluster, free_port};
use common::{TestPlatform, app_dir, eventually, parse_metrics, repo};

const CRASHER: &str = "tests/fixtures/crasher-app/crasher.wasm";
const MB: f64 = 1024.0 * 1024.0;

/// A sample's value (0 when the series is not there yet).
fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cc_and_router_ports_serve_every_role_s_metrics() {
    let platform = TestPlatform::start("local:").await;
    let router_before = platform.metrics(&platform.router).await;
    platform.login().await;
    platform.push("hello", &repo().join("examples/hello-http"), &["-m", "64M", "-i", "2"]).await;
    for _ in 0..5 {
        assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);
    }
    assert_eq!(platform.via_router("nowhere.localhost", "/").await.0, 404);
    assert_eq!(platform.api(reqwest::Method::GET, "/v2/no_such_thing", None).await.0, 404);

    // The router, at its own address (a host no route has).
    let response = platform.http.get(format!("{}/metrics", platform.router)).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/openmetrics-text; version=1.0.0; charset=utf-8");
    let text = response.text().await.unwrap();
    assert!(text.contains("# TYPE wf_router_request_duration_seconds histogram"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
    let router = parse_metrics(&text);
    let moved = |series: &str| value(&router, series) - value(&router_before, series);
    assert!(moved(r#"wf_router_requests_total{status_class="2xx"}"#) >= 5.0, "{text}");
    assert!(moved(r#"wf_router_requests_total{status_class="4xx"}"#) >= 1.0, "{text}");
    assert!(moved("wf_router_request_duration_seconds_count") >= 6.0, "{text}");
    assert!(value(&router, r#"wf_router_request_duration_seconds_bucket{le="+Inf"}"#) >= 6.0, "{text}");

    // The CC: by route template, never by GUID; unknown paths as `unmatched`.
    let cc = platform.metrics(&platform.api).await;
    let series = |method: &str, endpoint: &str, class: &str| {
        format!(r#"wf_cc_requests_total{{method="{method}",endpoint="{endpoint}",status_class="{class}"}}"#)
    };
    assert!(value(&cc, &series("PUT", "/v2/apps/{guid}/bits", "2xx")) >= 1.0, "{cc:#?}");
    assert!(value(&cc, &series("POST", "/oauth/token", "2xx")) >= 1.0, "{cc:#?}");
    assert!(value(&cc, &series("GET", "unmatched", "4xx")) >= 1.0, "{cc:#?}");
    assert!(
        value(&cc, r#"wf_cc_request_duration_seconds_count{method="PUT",endpoint="/v2/apps/{guid}/bits"}"#) >= 1.0,
        "{cc:#?}"
    );
    assert!(cc.keys().all(|series| !series.contains("-4")), "a GUID in a label: {cc:#?}");

    // The DEA and health manager of this process, on the same ports.
    eventually("the DEA's gauges show both instances", Duration::from_secs(20), || async {
        let now = platform.metrics(&platform.router).await;
        (value(&now, r#"wf_dea_instances{state="running"}"#) >= 2.0
            && value(&now, "wf_dea_memory_reserved_bytes") >= 128.0 * MB)
            .then_some(())
    })
    .await;
    let now = platform.metrics(&platform.api).await;
    assert!(value(&now, r#"wf_dea_instance_starts_total{outcome="running"}"#) >= 2.0, "{now:#?}");
    assert!(value(&now, r#"wf_dea_staging_duration_seconds_count{outcome="succeeded"}"#) >= 1.0, "{now:#?}");
    assert!(value(&now, r#"wf_bus_messages_published_total{subject_prefix="dea"}"#) >= 1.0, "{now:#?}");
    assert!(value(&now, r#"wf_bus_messages_received_total{subject_prefix="router"}"#) >= 1.0, "{now:#?}");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dea_and_a_health_manager_serve_theirs_at_metrics_listen() {
    let Some(mut cluster) = Cluster::new(&[]).await else { return };
    cluster.spawn("api", "cc,router").await;
    let (dea_port, hm_port) = (free_port(), free_port());
    cluster.spawn_with("dea", "dea", &[("metrics_listen", &format!("127.0.0.1:{dea_port}"))]).await;
    cluster.spawn_with("hm", "hm", &[("metrics_listen", &format!("127.0.0.1:{hm_port}"))]).await;
    cluster.wait_for_deas(1).await;
    cluster.platform.login().await;
    let platform = &cluster.platform;
    let (dea, hm) = (format!("http://127.0.0.1:{dea_port}"), format!("http://127.0.0.1:{hm_port}"));

    platform.push("crasher", app_dir(&[CRASHER]).path(), &["-i", "2", "-m", "32M"]).await;
    eventually("the DEA reports 2 running instances and the HM sees them", Duration::from_secs(30), || async {
        let (dea, hm) = (platform.metrics(&dea).await, platform.metrics(&hm).await);
        (value(&dea, r#"wf_dea_instances{state="running"}"#) == 2.0
            && value(&hm, "wf_hm_desired_instances") == 2.0
            && value(&hm, "wf_hm_actual_instances") == 2.0
            && value(&hm, "wf_hm_acting") == 1.0)
            .then_some(())
    })
    .await;
    for _ in 0..2 {
        assert_eq!(platform.via_router("crasher.localhost", "/").await, (200, "alive".to_string()));
    }
    let samples = platform.metrics(&dea).await;
    assert_eq!(value(&samples, r#"wf_dea_instance_starts_total{outcome="running"}"#), 2.0, "{samples:#?}");
    assert_eq!(value(&samples, r#"wf_dea_staging_duration_seconds_count{outcome="succeeded"}"#), 1.0);
    assert_eq!(value(&samples, "wf_dea_memory_reserved_bytes"), 64.0 * MB, "{samples:#?}");
    assert!(value(&samples, "wf_dea_memory_capacity_bytes") > 64.0 * MB, "{samples:#?}");
    assert_eq!(value(&samples, "wf_bus_connected"), 1.0);
    assert_eq!(value(&samples, "wf_dea_instance_crashes_total"), 0.0);
    // A separate process has only its own roles' metrics.
    assert!(samples.keys().all(|series| !series.starts_with("wf_cc_") && !series.starts_with("wf_hm_")));
    // What the instances used serving those requests, at the next heartbeat.
    eventually("the DEA's memory used", Duration::from_secs(10), || async {
        (value(&platform.metrics(&dea).await, "wf_dea_memory_used_bytes") > 0.0).then_some(())
    })
    .await;

    // A crash: the DEA counts it, the HM starts the index again.
    let (status, _) = platform.via_router("crasher.localhost", "/trap").await;
    assert_eq!(status, 500);
    eventually("the crash counted and the index started again", Duration::from_secs(30), || async {
        let (dea, hm) = (platform.metrics(&dea).await, platform.metrics(&hm).await);
        (value(&dea, "wf_dea_instance_crashes_total") == 1.0
            && value(&dea, r#"wf_dea_instance_starts_total{outcome="running"}"#) == 3.0
            && value(&hm, r#"wf_hm_actions_total{action="start"}"#) >= 1.0
            && value(&hm, "wf_hm_actual_instances") == 2.0)
            .then_some(())
    })
    .await;

    // nats-server killed and started again: the DEA counts the reconnect.
    cluster.kill_nats().await;
    cluster.start_nats().await;
    let platform = &cluster.platform;
    eventually("the DEA reconnected to NATS", Duration::from_secs(30), || async {
        let dea = platform.metrics(&dea).await;
        (value(&dea, "wf_bus_reconnects_total") >= 1.0 && value(&dea, "wf_bus_disconnects_total") >= 1.0).then_some(())
    })
    .await;
    cluster.shutdown().await;
}
