//! The push scenario over a real nats-server (WF_TEST_NATS_URL, e.g.
//! nats://127.0.0.1:4222), then what the DEA tells the health manager on
//! it (`dea.heartbeat`). One test only: every platform on one server sees
//! the others' subjects, so runs on NATS must not overlap.

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir};
use futures::StreamExt;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_hello_with_two_instances_over_nats() {
    let Ok(url) = std::env::var("WF_TEST_NATS_URL") else {
        eprintln!("skipped: set WF_TEST_NATS_URL=nats://127.0.0.1:4222 to run against a real nats-server");
        return;
    };
    common::push_hello_scenario(&url).await;
    heartbeats_carry_every_instance(&url).await;
}

/// Waits for a heartbeat in which `app`'s instances are in `wanted` states.
async fn wait_for_heartbeat(heartbeats: &mut async_nats::Subscriber, app: &str, wanted: &[&str]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let message = tokio::time::timeout_at(deadline, heartbeats.next())
            .await
            .unwrap_or_else(|_| panic!("no heartbeat with {app} {wanted:?} within 20s"))
            .expect("the subscription is open");
        let heartbeat: Value = serde_json::from_slice(&message.payload).unwrap();
        let mut states: Vec<&str> = heartbeat["droplets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["droplet"] == app)
            .map(|d| d["state"].as_str().unwrap())
            .collect();
        states.sort();
        if states == wanted {
            return;
        }
    }
}

async fn heartbeats_carry_every_instance(url: &str) {
    let platform = TestPlatform::start(url).await;
    platform.login().await;
    let nats = async_nats::connect(url).await.unwrap();
    let mut heartbeats = nats.subscribe("dea.heartbeat").await.unwrap();
    platform.push("beat", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-i", "2", "-m", "32M"]).await;
    let guid = platform.app_guid("beat").await;
    wait_for_heartbeat(&mut heartbeats, &guid, &["RUNNING", "RUNNING"]).await;
    let out = platform.wf(&["stop", "beat"]).await;
    assert!(out.status.success());
    wait_for_heartbeat(&mut heartbeats, &guid, &[]).await;
    platform.shutdown().await;
}
