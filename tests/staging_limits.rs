//! Staging runs under the same kinds of limits as instances: a buildpack
//! that loops is cut off at `max_staging_runtime` (StagingTimeExpired), one
//! that hogs memory fails its compile, and its sockets reach only what the
//! staging security groups allow.

mod common;

use common::{TestPlatform, app_dir, repo};
use reqwest::Method;
use serde_json::{Value, json};

const HOSTILE: &str = "tests/fixtures/hostile_buildpack.wasm";
const HELLO: &str = "examples/hello-http/hello_http.wasm";

/// Installs the hostile buildpack as an admin buildpack.
async fn install_hostile_buildpack(platform: &TestPlatform) {
    let (status, created) =
        platform.api(Method::POST, "/v2/buildpacks", Some(&json!({"name": "hostile"}).to_string())).await;
    assert_eq!(status, 201, "{created}");
    let guid = created["metadata"]["guid"].as_str().unwrap();
    let bytes = std::fs::read(repo().join(HOSTILE)).unwrap();
    let form = reqwest::multipart::Form::new()
        .part("buildpack", reqwest::multipart::Part::bytes(bytes).file_name("hostile.wasm"));
    let response = platform
        .http
        .put(format!("{}/v2/buildpacks/{guid}/bits", platform.api))
        .bearer_auth(platform.token().await)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
}

/// Pushes hello with the hostile buildpack doing `does`; returns the push
/// output (success or not) and the app as the CC has it.
async fn push_doing(platform: &TestPlatform, name: &str, does: &str) -> (bool, String, Value) {
    let app = app_dir(&[HELLO]);
    let manifest = format!(
        "applications:\n- name: {name}\n  memory: 32M\n  buildpack: hostile\n  env:\n    BUILDPACK_DOES: \"{does}\"\n"
    );
    std::fs::write(app.path().join("manifest.yml"), manifest).unwrap();
    let out = platform.wf(&["push", "-p", app.path().to_str().unwrap()]).await;
    let guid = platform.app_guid(name).await;
    let entity = platform.get(&format!("/v2/apps/{guid}")).await["entity"].clone();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), entity)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staging_is_cut_off_at_its_time_and_memory_limits() {
    let platform = TestPlatform::start_configured("local:", None, |config| config.max_staging_runtime = 2).await;
    platform.login().await;
    install_hostile_buildpack(&platform).await;

    let (pushed, _, app) = push_doing(&platform, "spinner", "spin").await;
    assert!(!pushed);
    assert_eq!(app["staging_failed_reason"], "StagingTimeExpired", "{app}");

    let (pushed, _, app) = push_doing(&platform, "hog", "hog").await;
    assert!(!pushed);
    assert_eq!(app["staging_failed_reason"], "BuildpackCompileFailed", "{app}");
    assert!(app["staging_failed_description"].as_str().unwrap().contains("out of memory"), "{app}");

    // The DEA stages on, and the staged app runs.
    let (pushed, out, _) = push_doing(&platform, "fine", "nothing").await;
    assert!(pushed, "{out}");
    assert_eq!(platform.via_router("fine.localhost", "/").await.0, 200);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buildpacks_connect_only_where_staging_security_groups_allow() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    install_hostile_buildpack(&platform).await;
    let cc = platform.api.trim_start_matches("http://").to_string();
    let (pushed, out, _) = push_doing(&platform, "probe", &format!("connect:{cc}")).await;
    assert!(pushed, "{out}");
    assert!(out.contains(&format!("probe {cc}: refused")), "{out}");

    // A staging default (not a running one) lets staging reach it.
    let port = cc.rsplit(':').next().unwrap();
    let group = json!({"name": "cc", "rules": [{"protocol": "tcp", "destination": "127.0.0.1", "ports": port}]});
    let (status, created) = platform.api(Method::POST, "/v2/security_groups", Some(&group.to_string())).await;
    assert_eq!(status, 201, "{created}");
    let group_guid = created["metadata"]["guid"].as_str().unwrap();
    let path = format!("/v2/config/staging_security_groups/{group_guid}");
    assert_eq!(platform.api(Method::PUT, &path, None).await.0, 200);
    let (pushed, out, _) = push_doing(&platform, "probe", &format!("connect:{cc}")).await;
    assert!(pushed, "{out}");
    assert!(out.contains(&format!("probe {cc}: connected")), "{out}");
    platform.shutdown().await;
}
