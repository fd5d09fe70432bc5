//! How a DEA registers its instances' routes again every interval, seen on
//! a real nats-server: in `router.register.batch` messages while every
//! router says it reads them, one `router.register` per instance once a
//! router that does not (gorouter) starts — and the routes stay served
//! past the prune threshold either way.

mod common;

use std::time::Duration;

use common::app_dir;
use common::cluster::Cluster;
use futures::StreamExt;
use serde_json::Value;

const HELLO: &str = "examples/hello-http/hello_http.wasm";

/// What arrived on a subscription within `window`.
async fn gather(subscription: &mut async_nats::Subscriber, window: Duration) -> Vec<Value> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, subscription.next()).await {
        seen.push(serde_json::from_slice(&message.payload).expect("a JSON message"));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_are_registered_in_batches_until_a_router_that_does_not_read_them_starts() {
    let settings = [("router_register_interval", "1"), ("router_prune_threshold", "3")];
    let processes = [("cc", "cc"), ("router", "router"), ("dea", "dea")];
    let Some(cluster) = Cluster::running(&settings, &processes).await else { return };
    let platform = &cluster.platform;
    platform.push("hello", app_dir(&[HELLO]).path(), &["-i", "3", "-m", "32M"]).await;
    let guid = platform.app_guid("hello").await;
    platform.wait_for_states(&guid, &["RUNNING"; 3], Duration::from_secs(30)).await;

    let nats = async_nats::connect(cluster.nats_url()).await.unwrap();
    let mut singles = nats.subscribe("router.register").await.unwrap();
    let mut batches = nats.subscribe("router.register.batch").await.unwrap();
    nats.flush().await.unwrap();
    // Longer than the prune threshold: the route lives on batches alone.
    let (batched, single) =
        tokio::join!(gather(&mut batches, Duration::from_secs(4)), gather(&mut singles, Duration::from_secs(4)));
    assert!(batched.len() >= 3, "a batch every second: {batched:?}");
    assert!(single.is_empty(), "no registration one per instance while every router reads batches: {single:?}");
    for batch in &batched {
        let registrations = batch["registrations"].as_array().expect("registrations");
        let instances: std::collections::BTreeSet<_> =
            registrations.iter().filter_map(|r| r["private_instance_id"].as_str()).collect();
        assert_eq!(instances.len(), 3, "every instance in each batch: {batch}");
        assert!(registrations.iter().all(|r| r["uris"] == serde_json::json!(["hello.localhost"])), "{batch}");
    }
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200, "served past the prune threshold");

    // A router that does not read batches (gorouter's router.start has no
    // such field): every instance is registered in a message of its own.
    let gorouter = serde_json::json!({
        "id": "gorouter", "hosts": ["127.0.0.1"],
        "minimumRegisterIntervalInSeconds": 1, "pruneThresholdInSeconds": 3,
    });
    nats.publish("router.start", gorouter.to_string().into()).await.unwrap();
    nats.flush().await.unwrap();
    let mut instances = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while instances.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "one registration per instance: {instances:?}");
        for registration in gather(&mut singles, Duration::from_millis(500)).await {
            instances.insert(registration["private_instance_id"].as_str().unwrap_or_default().to_string());
        }
    }
    // A batch already on its way may still arrive; none after it.
    gather(&mut batches, Duration::from_millis(500)).await;
    let (batched, single) =
        tokio::join!(gather(&mut batches, Duration::from_secs(4)), gather(&mut singles, Duration::from_secs(4)));
    assert!(batched.is_empty(), "no batch once a router does not read them: {batched:?}");
    assert!(single.len() >= 9, "3 instances registered every second: {} messages", single.len());
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);
    cluster.shutdown().await;
}

/// As gorouter: `X-CF-APP-INSTANCE: APP_GUID:INDEX` sends a request to that
/// instance, whatever the round-robin's turn; a value that is not
/// `GUID:INDEX`, or names no instance on the route, is a 400 saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_naming_an_instance_reaches_that_instance() {
    let platform = common::TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("hello", app_dir(&[HELLO]).path(), &["-i", "3", "-m", "32M"]).await;
    let guid = platform.app_guid("hello").await;
    platform.wait_for_states(&guid, &["RUNNING"; 3], Duration::from_secs(30)).await;
    let get = |instance: String| {
        let request = platform.http.get(format!("{}/", platform.router)).header("host", "hello.localhost");
        async move { request.header("x-cf-app-instance", instance).send().await.unwrap() }
    };
    for index in [2, 0, 2, 2, 1] {
        let answer: Value = get(format!("{guid}:{index}")).await.json().await.unwrap();
        assert_eq!(answer["instance_index"], index, "{answer}");
    }
    for wrong in [format!("{guid}:7"), format!("{guid}:x"), "nope".to_string(), ":1".to_string()] {
        let response = get(wrong.clone()).await;
        assert_eq!(response.status(), 400, "{wrong}");
        assert_eq!(response.headers()["x-cf-routererror"], "invalid_cf_app_instance_header", "{wrong}");
    }
    platform.shutdown().await;
}
