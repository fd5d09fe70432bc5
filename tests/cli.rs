//! The `wf` client end to end: admin commands, targeting, a manifest push,
//! and managing the app, as a user types them.

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir, eventually, repo};
use serde_json::Value;

async fn wf_ok(platform: &TestPlatform, args: &[&str]) -> String {
    let out = platform.wf(args).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wf {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

on_both_databases!(wf_commands_manage_orgs_users_and_apps, super::wf_commands_manage_orgs_users_and_apps);

async fn wf_commands_manage_orgs_users_and_apps(platform: TestPlatform) {
    platform.login().await;
    wf_ok(&platform, &["create-org", "acme"]).await;
    wf_ok(&platform, &["create-space", "web", "-o", "acme"]).await;
    wf_ok(&platform, &["create-user", "dev@acme", "s3cret"]).await;
    wf_ok(&platform, &["set-space-role", "dev@acme", "acme", "web", "SpaceDeveloper"]).await;
    assert!(wf_ok(&platform, &["orgs"]).await.contains("acme"));
    assert!(wf_ok(&platform, &["quotas"]).await.contains("default"));
    assert!(wf_ok(&platform, &["buildpacks"]).await.contains("wasm_buildpack"));

    // The developer logs in, lands in their only org and space, and pushes
    // from a manifest.
    let login = platform.wf(&["login", "-a", &platform.api, "-u", "dev@acme", "-p", "s3cret"]).await;
    let login_out = String::from_utf8_lossy(&login.stdout);
    assert!(login.status.success() && login_out.contains("Targeted org acme, space web"), "{login_out}");
    let app = app_dir(&["examples/hello-http/hello_http.wasm"]);
    std::fs::write(
        app.path().join("manifest.yml"),
        "applications:\n- name: shop\n  memory: 32M\n  instances: 2\n  env:\n    GREETING: hi\n  routes:\n  - route: store.localhost\n",
    )
    .unwrap();
    let out = wf_ok(&platform, &["push", "-p", app.path().to_str().unwrap()]).await;
    assert!(out.contains("urls: http://store.localhost:"), "{out}");
    let (status, body) = platform.via_router("store.localhost", "/").await;
    assert_eq!(status, 200, "{body}");
    let hello: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(hello["memory_limit"], "32m");

    let guid = platform.app_guid("shop").await;
    let env = platform.get(&format!("/v2/apps/{guid}/env")).await;
    assert_eq!(env["environment_json"]["GREETING"], "hi");
    // Push returns once one instance runs; the other may still be starting.
    let (p, g) = (&platform, &guid);
    eventually("both instances running", Duration::from_secs(20), || async move {
        let i = p.instances(g).await;
        (i["0"]["state"] == "RUNNING" && i["1"]["state"] == "RUNNING").then_some(())
    })
    .await;
    let shown = wf_ok(&platform, &["app", "shop"]).await;
    assert!(shown.contains("instances:         2/2") && shown.contains("store.localhost"), "{shown}");

    wf_ok(&platform, &["scale", "shop", "-i", "3"]).await;
    let (p, g) = (&platform, &guid);
    eventually("3 instances running", Duration::from_secs(20), || async move {
        (p.instances(g).await["2"]["state"] == "RUNNING").then_some(())
    })
    .await;
    wf_ok(&platform, &["map-route", "shop", "localhost", "--hostname", "shop2"]).await;
    eventually("the new route serves", Duration::from_secs(10), || async {
        (platform.via_router("shop2.localhost", "/").await.0 == 200).then_some(())
    })
    .await;
    let routes = wf_ok(&platform, &["routes"]).await;
    assert!(routes.contains("store") && routes.contains("shop2"), "{routes}");

    wf_ok(&platform, &["stop", "shop"]).await;
    eventually("stopped instances leave the router", Duration::from_secs(10), || async {
        (platform.via_router("store.localhost", "/").await.0 == 404).then_some(())
    })
    .await;
    wf_ok(&platform, &["start", "shop"]).await;
    assert_eq!(platform.via_router("store.localhost", "/").await.0, 200);

    let events = wf_ok(&platform, &["events", "shop"]).await;
    for kind in ["audit.app.create", "audit.app.start", "audit.app.stop", "audit.app.map-route"] {
        assert!(events.contains(kind), "{kind} in:\n{events}");
    }
    let logs = wf_ok(&platform, &["logs", "shop", "--recent"]).await;
    assert!(logs.contains("[STG/0]") && logs.contains("wasm_buildpack detected"), "{logs}");

    wf_ok(&platform, &["delete", "shop", "-r", "-f"]).await;
    assert!(!wf_ok(&platform, &["apps"]).await.contains("shop"));
    assert!(!wf_ok(&platform, &["routes"]).await.contains("store"));
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_manifest_pushes_hello() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let out = wf_ok(&platform, &["push", "-p", repo().join("examples/hello-http").to_str().unwrap()]).await;
    assert!(out.contains("2 of 2 instances running") || out.contains("of 2 instances running"), "{out}");
    let guid = platform.app_guid("hello").await;
    let env = platform.get(&format!("/v2/apps/{guid}/env")).await;
    assert_eq!(env["environment_json"]["GREETING"], "hello from the manifest");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_benchmark_reports_percentiles() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_wf"))
        .args(["bench", "api", "--apps", "120", "--requests", "3"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("SQLite: 120 apps seeded"), "{stdout}");
    let row = stdout.lines().find(|l| l.starts_with("GET /v2/apps (first page")).expect("a row for the first page");
    let p50: f64 = row.split_whitespace().rev().nth(2).unwrap().parse().unwrap();
    assert!(p50 > 0.0, "{row}");
}
