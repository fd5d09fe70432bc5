//! A DEA at its limits refuses cleanly: it offers no more instances than
//! `dea_max_instances`, a scale past that is refused at the CC with
//! CF-InsufficientRunningResourcesAvailable (503) while the instances it
//! holds keep serving, and the health manager's attempts to place the
//! rest neither grow the process nor open descriptors. Its HTTP instances
//! share its gateway: each costs no descriptor of its own.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{TestPlatform, eventually, repo};
use serde_json::Value;

const MOST: u32 = 6;

/// This process's resident memory (KB) and open descriptors (Linux).
fn process_figures() -> (u64, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    (rss, std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count()))
}

async fn running(platform: &TestPlatform, app: &str) -> u64 {
    platform.get(&format!("/v2/apps/{app}/summary")).await["running_instances"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dea_at_its_most_instances_refuses_the_rest_and_keeps_serving() {
    let platform = TestPlatform::start_configured("local:", None, |config| {
        config.dea_max_instances = MOST;
        config.dea_memory_mb = Some(64 * 1024);
    })
    .await;
    platform.login().await;
    platform.push("dense", &repo().join("examples/hello-http"), &["-m", "16M", "-k", "16M"]).await;
    let app = platform.app_guid("dense").await;
    let (_, descriptors_at_one) = process_figures();

    // One more than it holds: refused at once, the rest placed.
    let (status, error) = platform
        .api(reqwest::Method::PUT, &format!("/v2/apps/{app}"), Some(&format!(r#"{{"instances": {}}}"#, MOST + 4)))
        .await;
    assert_eq!(status, 503, "{error}");
    assert_eq!(error["error_code"], "CF-InsufficientRunningResourcesAvailable", "{error}");
    eventually("the DEA's most instances running", Duration::from_secs(30), || async {
        (running(&platform, &app).await == u64::from(MOST)).then_some(())
    })
    .await;

    // Every one of them answers through the router.
    let mut answered = HashSet::new();
    for _ in 0..MOST * 10 {
        let (status, body) = platform.via_router("dense.localhost", "/").await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        answered.insert(body["vcap_application"]["instance_id"].as_str().unwrap().to_string());
    }
    assert_eq!(answered.len(), MOST as usize, "each running instance answers");

    // The health manager goes on trying to place the rest: nothing grows,
    // and the instances still serve.
    let (memory_before, descriptors_before) = process_figures();
    assert!(
        descriptors_before < descriptors_at_one + MOST as usize - 1,
        "{} more instances opened {} descriptors",
        MOST - 1,
        descriptors_before.saturating_sub(descriptors_at_one)
    );
    tokio::time::sleep(Duration::from_secs(8)).await;
    let (memory_after, descriptors_after) = process_figures();
    assert_eq!(running(&platform, &app).await, u64::from(MOST), "the DEA holds no more than its most");
    assert!(
        memory_after < memory_before + 32 * 1024,
        "the process grew from {memory_before} KB to {memory_after} KB while the rest could not be placed"
    );
    assert!(descriptors_after <= descriptors_before + 8, "descriptors {descriptors_before} → {descriptors_after}");
    assert_eq!(platform.via_router("dense.localhost", "/").await.0, 200);

    // Scaled back within its room: nothing is refused.
    let (status, body) =
        platform.api(reqwest::Method::PUT, &format!("/v2/apps/{app}"), Some(r#"{"instances": 4}"#)).await;
    assert_eq!(status, 201, "{body}");
    eventually("4 running", Duration::from_secs(30), || async { (running(&platform, &app).await == 4).then_some(()) })
        .await;
    platform.shutdown().await;
}
