//! Staging what was staged before reuses its droplet: a re-push of an
//! unchanged app, or a restage, gets the droplet the app has at once (its
//! staging log says so) and its instances start from it; whatever staging
//! sees changing — a file, an environment variable — stages anew.

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir, eventually};
use reqwest::Method;

/// What the app's staging log holds so far: the droplets stagers uploaded,
/// and the droplets reused instead of staging.
async fn stagings(platform: &TestPlatform, guid: &str) -> (Vec<String>, Vec<String>) {
    let logs = platform.get(&format!("/v2/apps/{guid}/logs")).await;
    let lines: Vec<String> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["source_type"] == "STG")
        .filter_map(|l| Some(l["message"].as_str()?.trim().to_string()))
        .collect();
    let droplet_of = |line: &str, prefix: &str| line.strip_prefix(prefix)?.split_whitespace().next().map(String::from);
    let staged = lines.iter().filter_map(|l| droplet_of(l, "droplet ")).collect();
    let reused = lines.iter().filter_map(|l| droplet_of(l, "-----> Nothing to stage: droplet ")).collect();
    (staged, reused)
}

/// Waits until the staging log shows `staged` droplets uploaded and
/// `reused` reused; returns them.
async fn wait_for(platform: &TestPlatform, guid: &str, staged: usize, reused: usize) -> (Vec<String>, Vec<String>) {
    let what = format!("{staged} droplets staged and {reused} reused");
    let (mut last_staged, mut last_reused) = (Vec::new(), Vec::new());
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            (last_staged, last_reused) = stagings(platform, guid).await;
            if last_staged.len() >= staged && last_reused.len() >= reused {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(found.is_ok(), "waiting for {what}: staged {last_staged:?}, reused {last_reused:?}");
    assert_eq!((last_staged.len(), last_reused.len()), (staged, reused), "{what}");
    (last_staged, last_reused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_app_is_not_staged_again() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let dir = app_dir(&["examples/hello-http/hello_http.wasm"]);
    platform.push("hello", dir.path(), &["-m", "64M", "-i", "2"]).await;
    let guid = platform.app_guid("hello").await;
    let (staged, _) = wait_for(&platform, &guid, 1, 0).await;

    // Pushed again as it was, and restaged: the same droplet, no stager.
    platform.push("hello", dir.path(), &["-m", "64M", "-i", "2"]).await;
    let (_, reused) = wait_for(&platform, &guid, 1, 1).await;
    assert_eq!(reused, staged);
    let restaged = platform.wf(&["restage", "hello"]).await;
    assert!(restaged.status.success(), "{}", String::from_utf8_lossy(&restaged.stderr));
    wait_for(&platform, &guid, 1, 2).await;
    let p = &platform;
    eventually("the reused droplet serving", Duration::from_secs(10), || async move {
        (p.via_router("hello.localhost", "/").await.0 == 200).then_some(())
    })
    .await;

    // An environment variable staging sees: staged anew.
    let env = r#"{"environment_json": {"GREETING": "hi"}}"#;
    assert_eq!(platform.api(Method::PUT, &format!("/v2/apps/{guid}"), Some(env)).await.0, 201);
    let restaged = platform.wf(&["restage", "hello"]).await;
    assert!(restaged.status.success(), "{}", String::from_utf8_lossy(&restaged.stderr));
    wait_for(&platform, &guid, 2, 2).await;

    // A changed file: staged anew, and that droplet is reused from then on.
    std::fs::write(dir.path().join("notes.txt"), "a new file\n").unwrap();
    platform.push("hello", dir.path(), &["-m", "64M", "-i", "2"]).await;
    let (staged, _) = wait_for(&platform, &guid, 3, 2).await;
    let changed = staged.last().unwrap().clone();
    assert_ne!(changed, staged[0], "the new file is in the droplet");
    platform.push("hello", dir.path(), &["-m", "64M", "-i", "2"]).await;
    let (_, reused) = wait_for(&platform, &guid, 3, 3).await;
    assert_eq!(reused.last(), Some(&changed));
    eventually("the reused droplet serving", Duration::from_secs(10), || async move {
        (p.via_router("hello.localhost", "/").await.0 == 200).then_some(())
    })
    .await;
    platform.shutdown().await;
}
