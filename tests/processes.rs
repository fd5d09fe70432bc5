//! Process types: an app whose Procfile names a `worker` beside `web` gets
//! a worker process (no instances until scaled, as in CF); `cf scale
//! --process worker` runs it from the same droplet with its own instances
//! and memory, its output as `APP/PROC/WORKER`, no route; the health
//! manager brings back a stopped worker instance; a restart brings the
//! worker to the new version; a manifest's `processes:` scales it; the app
//! stopped, its worker stops too; the app deleted, its processes go.

mod common;

use std::time::Duration;

use common::v3::Cf;
use common::{TestPlatform, app_dir, eventually};
use reqwest::Method;
use serde_json::{Value, json};

/// The states of the process's instances, by index.
async fn states(cf: &Cf<'_>, process: &str) -> Vec<String> {
    let stats = cf.expect(Method::GET, &format!("/v3/processes/{process}/stats"), None, 200).await;
    stats["resources"].as_array().unwrap().iter().map(|i| i["state"].as_str().unwrap().to_string()).collect()
}

async fn wait_for(cf: &Cf<'_>, process: &str, wanted: &[&str]) {
    eventually(&format!("worker instances {wanted:?}"), Duration::from_secs(30), || async {
        (states(cf, process).await == wanted).then_some(())
    })
    .await
}

on_both_databases!(a_worker_process_runs_beside_web, super::a_worker_process_runs_beside_web);

async fn a_worker_process_runs_beside_web(platform: TestPlatform) {
    platform.login().await;
    let dir = app_dir(&["examples/hello-http/hello_http.wasm", "tests/fixtures/cli-tool.component.wasm"]);
    std::fs::write(dir.path().join("Procfile"), "web: hello_http.wasm\nworker: cli-tool.component.wasm --fill 1\n")
        .unwrap();
    platform.push("duo", dir.path(), &["-m", "64M"]).await;
    let app = platform.app_guid("duo").await;
    let cf = Cf::admin(&platform).await;

    // The droplet's process types became processes; the worker has none running yet.
    let processes = cf.expect(Method::GET, &format!("/v3/apps/{app}/processes"), None, 200).await;
    let types: Vec<&str> =
        processes["resources"].as_array().unwrap().iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["web", "worker"], "{processes}");
    let worker = cf.expect(Method::GET, &format!("/v3/apps/{app}/processes/worker"), None, 200).await;
    assert_eq!(worker["instances"], 0);
    assert_eq!(worker["command"], "cli-tool.component.wasm --fill 1");
    assert_eq!(worker["relationships"]["app"]["data"]["guid"], app);
    let worker = worker["guid"].as_str().unwrap().to_string();
    assert_ne!(worker, app);

    // cf scale duo --process worker -i 2 -m 32M
    let scaled = json!({"instances": 2, "memory_in_mb": 32});
    let path = format!("/v3/apps/{app}/processes/worker/actions/scale");
    let scaled = cf.expect(Method::POST, &path, Some(scaled), 202).await;
    assert_eq!((scaled["instances"].as_u64(), scaled["memory_in_mb"].as_u64()), (Some(2), Some(32)));
    wait_for(&cf, &worker, &["RUNNING", "RUNNING"]).await;
    let stats = cf.expect(Method::GET, &format!("/v3/processes/{worker}/stats"), None, 200).await;
    assert_eq!(stats["resources"][0]["type"], "worker");
    assert_eq!(stats["resources"][0]["mem_quota"], 32 * 1024 * 1024);
    eventually("the worker's output in the app's log", Duration::from_secs(20), || async {
        let logs = platform.get(&format!("/v2/apps/{app}/logs")).await;
        let lines = logs.as_array()?.clone();
        lines
            .iter()
            .find(|l| {
                l["message"].as_str().is_some_and(|m| m.starts_with("filled")) && l["source_type"] == "APP/PROC/WORKER"
            })
            .cloned()
    })
    .await;

    // Web serves on alone on the route; it knows itself as web.
    let (status, body) = platform.via_router("duo.localhost", "/").await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    let vcap = &answer["vcap_application"];
    assert_eq!((vcap["process_type"].as_str(), vcap["application_id"].as_str()), (Some("web"), Some(app.as_str())));

    // cf restart-app-instance duo 1 --process worker: the health manager brings it back.
    let path = format!("/v3/apps/{app}/processes/worker/instances/1");
    assert_eq!(cf.send(Method::DELETE, &path, None).await.0, 204);
    wait_for(&cf, &worker, &["RUNNING", "RUNNING"]).await;

    // Down to one worker; a manifest's processes scale it back up.
    cf.expect(Method::POST, &format!("/v3/processes/{worker}/actions/scale"), Some(json!({"instances": 1})), 202).await;
    wait_for(&cf, &worker, &["RUNNING"]).await;
    let space = cf.expect(Method::GET, "/v3/spaces?names=dev", None, 200).await["resources"][0]["guid"].clone();
    let manifest = "applications:\n- name: duo\n  processes:\n  - type: worker\n    instances: 3\n";
    let (status, location, _) = cf
        .send(
            Method::POST,
            &format!("/v3/spaces/{}/actions/apply_manifest", space.as_str().unwrap()),
            Some(("application/x-yaml", manifest.to_string())),
        )
        .await;
    assert_eq!(status, 202);
    cf.job_completes(&location.unwrap()).await;
    wait_for(&cf, &worker, &["RUNNING", "RUNNING", "RUNNING"]).await;
    let shown = platform.http.get(format!("{}/v3/apps/{app}/manifest", platform.api)).bearer_auth(&cf.token);
    let shown = shown.send().await.unwrap().text().await.unwrap();
    assert!(shown.contains("type: worker") && shown.contains("instances: 3"), "{shown}");

    // A restart brings the worker to the new version too.
    let before = cf.expect(Method::GET, &format!("/v3/processes/{worker}"), None, 200).await["version"].clone();
    cf.expect(Method::POST, &format!("/v3/apps/{app}/actions/restart"), None, 200).await;
    let after = cf.expect(Method::GET, &format!("/v3/processes/{worker}"), None, 200).await["version"].clone();
    assert_ne!(before, after);
    wait_for(&cf, &worker, &["RUNNING", "RUNNING", "RUNNING"]).await;

    // Stopped, the app's worker stops too (web's and the workers' four
    // instances say so); started again, it runs its three once more.
    let stopping = || async {
        let logs = platform.get(&format!("/v2/apps/{app}/logs")).await;
        let said = |l: &&Value| l["message"].as_str().is_some_and(|m| m.contains("stopping instance"));
        logs.as_array().unwrap().iter().filter(said).count()
    };
    let stopped_before = stopping().await;
    cf.expect(Method::POST, &format!("/v3/apps/{app}/actions/stop"), None, 200).await;
    eventually("the worker's instances stopped", Duration::from_secs(20), || async {
        (stopping().await >= stopped_before + 4).then_some(())
    })
    .await;
    cf.expect(Method::POST, &format!("/v3/apps/{app}/actions/start"), None, 200).await;
    wait_for(&cf, &worker, &["RUNNING", "RUNNING", "RUNNING"]).await;

    // Deleted, the app takes its processes with it.
    let (_, location, _) = cf.send(Method::DELETE, &format!("/v3/apps/{app}"), None).await;
    cf.job_completes(&location.unwrap()).await;
    assert_eq!(cf.send(Method::GET, &format!("/v3/processes/{worker}"), None).await.0, 404);
    platform.shutdown().await;
}

/// `wf push` of a manifest with `processes:` gives each type its
/// instances, memory and command, as cf push does: the worker runs two
/// instances from the first push, and a bad process type is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wf_push_applies_a_manifest_s_process_types() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let dir = app_dir(&["examples/hello-http/hello_http.wasm", "tests/fixtures/cli-tool.component.wasm"]);
    std::fs::write(dir.path().join("Procfile"), "web: hello_http.wasm\nworker: cli-tool.component.wasm --fill 1\n")
        .unwrap();
    let manifest = "applications:\n- name: trio\n  memory: 64M\n  processes:\n  - type: worker\n    instances: 2\n    memory: 32M\n";
    std::fs::write(dir.path().join("manifest.yml"), manifest).unwrap();
    let out = platform.wf(&["push", "-p", dir.path().to_str().unwrap()]).await;
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let app = platform.app_guid("trio").await;
    let cf = Cf::admin(&platform).await;
    let worker = cf.expect(Method::GET, &format!("/v3/apps/{app}/processes/worker"), None, 200).await;
    assert_eq!((worker["instances"].as_u64(), worker["memory_in_mb"].as_u64()), (Some(2), Some(32)), "{worker}");
    wait_for(&cf, worker["guid"].as_str().unwrap(), &["RUNNING", "RUNNING"]).await;

    let bad = "applications:\n- name: trio\n  processes:\n  - type: ''\n";
    std::fs::write(dir.path().join("manifest.yml"), bad).unwrap();
    let out = platform.wf(&["push", "-p", dir.path().to_str().unwrap()]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Process type must not be empty"), "{out:?}");
    platform.shutdown().await;
}
