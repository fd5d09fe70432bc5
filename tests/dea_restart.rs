//! A restarted DEA re-adopts the instances its snapshot lists (HTTP apps
//! and programs), removes
//! every other instance directory, and
//! reports an instance it cannot bring back as crashed.

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir, eventually};

/// The ports of the app's running instances.
async fn running_ports(platform: &TestPlatform, guid: &str) -> Vec<String> {
    let stats = platform.get(&format!("/v2/apps/{guid}/stats")).await;
    let mut ids: Vec<String> = stats
        .as_object()
        .unwrap()
        .values()
        .filter(|i| i["state"] == "RUNNING")
        .map(|i| i["stats"]["port"].to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_dea_readopts_its_instances_and_reports_what_it_lost() {
    let mut platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    platform.push("keep", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-i", "2", "-m", "32M"]).await;
    platform.push("lose", app_dir(&["tests/fixtures/crasher-app/crasher.wasm"]).path(), &["-m", "32M"]).await;
    platform.push("prog", app_dir(&["tests/fixtures/program-app/command-app.wasm"]).path(), &["-m", "32M"]).await;
    let keep = platform.app_guid("keep").await;
    let lose = platform.app_guid("lose").await;
    let (p, g) = (&platform, &keep);
    eventually("both instances of keep running", Duration::from_secs(20), || async move {
        (running_ports(p, g).await.len() == 2).then_some(())
    })
    .await;

    // An orphan directory, and a droplet that will be gone on restart.
    let dea_dir = platform.dir.path().join("data/dea");
    std::fs::create_dir_all(dea_dir.join("instances/orphan/app")).unwrap();
    let droplet = platform.get(&format!("/v2/apps/{lose}")).await;
    assert_eq!(droplet["entity"]["package_state"], "STAGED");
    for entry in std::fs::read_dir(dea_dir.join("droplets")).unwrap().flatten() {
        std::fs::remove_file(entry.path()).unwrap();
    }
    for entry in std::fs::read_dir(platform.dir.path().join("data/blobstore/droplets")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let lose_droplet = platform
            .http
            .get(format!("{}/v2/apps/{lose}/droplet/download", platform.api))
            .bearer_auth(platform.token().await)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        if wasmfoundry::blobstore::sha1_hex(&lose_droplet) == name {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }

    platform.restart_dea().await;

    let (p, g) = (&platform, &keep);
    eventually("keep's instances back", Duration::from_secs(20), || async move {
        (running_ports(p, g).await.len() == 2).then_some(())
    })
    .await;
    assert_eq!(platform.via_router("keep.localhost", "/").await.0, 200);
    // A program comes back too, listening on its port again.
    let prog = platform.app_guid("prog").await;
    platform.wait_for_states(&prog, &["RUNNING"], Duration::from_secs(20)).await;
    assert_eq!(platform.via_router("prog.localhost", "/").await, (200, "program 0".to_string()));
    assert!(!dea_dir.join("instances/orphan").exists(), "orphans are removed");
    let (p, l) = (&platform, &lose);
    eventually("the lost instance is reported", Duration::from_secs(20), || async move {
        let events = p.get(&format!("/v2/events?q=actee%3A{l}&q=type%3Aapp.crash")).await;
        (events["total_results"] == 1).then_some(())
    })
    .await;
    let events = platform.get(&format!("/v2/events?q=actee%3A{lose}&q=type%3Aapp.crash")).await;
    let description = events["resources"][0]["entity"]["metadata"]["exit_description"].as_str().unwrap().to_string();
    assert!(description.contains("failed to start"), "{description}");
    platform.shutdown().await;
}
