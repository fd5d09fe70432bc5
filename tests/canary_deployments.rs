//! v3 deployments rolled out step by step: a canary deployment pauses
//! with its canary instances on the new version and the rest on the old
//! (the health manager leaves them so) until continued; steps reach their
//! share of the instances; a paused one can be cancelled; a rolling one
//! starts `max_in_flight` instances at a time, and may scale the web
//! process (`web_instances`, `memory_in_mb`) as it goes. Under load, no
//! request fails throughout.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::v3::{Cf, Load};
use common::{TestPlatform, eventually, repo};
use reqwest::Method;
use serde_json::{Value, json};

/// The version each instance index answers with, read through the router.
async fn versions_by_index(platform: &TestPlatform, host: &str, instances: usize) -> BTreeMap<u64, String> {
    let mut seen = BTreeMap::new();
    for _ in 0..instances * 20 {
        let (status, body) = platform.via_router(host, "/").await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        let version = body["vcap_application"]["application_version"].as_str().unwrap().to_string();
        seen.insert(body["instance_index"].as_u64().unwrap(), version);
        if seen.len() == instances {
            break;
        }
    }
    seen
}

/// How many indices answer with `version`, once every index answers with
/// it or `before` (the old instances of rolled-out indices have drained).
async fn settled_on(platform: &TestPlatform, host: &str, version: &str, before: &str, new: usize) {
    eventually(&format!("{new} of 4 indices on the new version"), Duration::from_secs(60), || async {
        let seen = versions_by_index(platform, host, 4).await;
        let on_new = seen.values().filter(|v| *v == version).count();
        (seen.len() == 4 && on_new == new && seen.values().all(|v| v == version || v == before)).then_some(())
    })
    .await;
}

async fn app_version(platform: &TestPlatform, app: &str) -> String {
    platform.get(&format!("/v2/apps/{app}")).await["entity"]["version"].as_str().unwrap().to_string()
}

async fn status_of(cf: &Cf<'_>, deployment: &str) -> (String, String) {
    let deployment = cf.expect(Method::GET, &format!("/v3/deployments/{deployment}"), None, 200).await;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    (text(&deployment["status"]["value"]), text(&deployment["status"]["reason"]))
}

async fn wait_for_status(cf: &Cf<'_>, deployment: &str, value: &str, reason: &str) {
    eventually(&format!("deployment {value}/{reason}"), Duration::from_secs(60), || async {
        (status_of(cf, deployment).await == (value.to_string(), reason.to_string())).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_deployment_pauses_on_part_of_the_instances_until_continued() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("bird", &repo().join("examples/hello-http"), &["-i", "4", "-m", "32M"]).await;
    let app = platform.app_guid("bird").await;
    let cf = Cf { platform: &platform, token: platform.token().await };
    let load = Load::start(&platform, "bird.localhost");

    // wf restart --strategy canary: one instance (index 0) on the new version, then PAUSED.
    let old = app_version(&platform, &app).await;
    let out = platform.wf(&["restart", "bird", "--strategy", "canary"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("canary step 1 of 1: PAUSED"), "{stdout}");
    let canary = app_version(&platform, &app).await;
    settled_on(&platform, "bird.localhost", &canary, &old, 1).await;
    let active =
        cf.expect(Method::GET, &format!("/v3/deployments?app_guids={app}&status_values=ACTIVE"), None, 200).await;
    assert_eq!(active["pagination"]["total_results"], 1, "{active}");
    let deployment = &active["resources"][0];
    assert_eq!(deployment["strategy"], "canary");
    assert_eq!(deployment["status"]["reason"], "PAUSED");
    assert_eq!(deployment["status"]["canary"]["steps"], json!({"current": 1, "total": 1}));
    let guid = deployment["guid"].as_str().unwrap().to_string();
    // The health manager keeps it so: several of its ticks later, still one canary.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(versions_by_index(&platform, "bird.localhost", 4).await.values().filter(|v| **v == canary).count(), 1);
    assert_eq!(status_of(&cf, &guid).await.1, "PAUSED");

    // wf continue-deployment: the rest roll out, and it is DEPLOYED.
    let out = platform.wf(&["continue-deployment", "bird"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(status_of(&cf, &guid).await, ("FINALIZED".into(), "DEPLOYED".into()));
    settled_on(&platform, "bird.localhost", &canary, &old, 4).await;
    let (status, error) = cf.refusal(Method::POST, &format!("/v3/deployments/{guid}/actions/continue"), None).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["detail"], "Cannot continue a deployment with status: FINALIZED and reason: DEPLOYED");

    // Steps of 25% and 50%: one index, then two, each step paused; then all.
    let steps = json!({
        "relationships": {"app": {"data": {"guid": app}}},
        "strategy": "canary",
        "options": {"canary": {"steps": [{"instance_weight": 25}, {"instance_weight": 50}]}},
    });
    let stepped = cf.expect(Method::POST, "/v3/deployments", Some(steps), 201).await;
    assert_eq!(stepped["options"]["canary"]["steps"], json!([{"instance_weight": 25}, {"instance_weight": 50}]));
    let stepped = stepped["guid"].as_str().unwrap().to_string();
    let third = app_version(&platform, &app).await;
    wait_for_status(&cf, &stepped, "ACTIVE", "PAUSED").await;
    settled_on(&platform, "bird.localhost", &third, &canary, 1).await;
    cf.expect(Method::POST, &format!("/v3/deployments/{stepped}/actions/continue"), None, 200).await;
    wait_for_status(&cf, &stepped, "ACTIVE", "PAUSED").await;
    let shown = cf.expect(Method::GET, &format!("/v3/deployments/{stepped}"), None, 200).await;
    assert_eq!(shown["status"]["canary"]["steps"], json!({"current": 2, "total": 2}));
    settled_on(&platform, "bird.localhost", &third, &canary, 2).await;

    // Cancelled while paused: the previous droplet rolls back out on every index.
    let out = platform.wf(&["cancel-deployment", "bird"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(status_of(&cf, &stepped).await, ("FINALIZED".into(), "CANCELED".into()));
    let back = app_version(&platform, &app).await;
    settled_on(&platform, "bird.localhost", &back, &back, 4).await;

    // Rolling, two at a time: DEPLOYED with every index on the new version.
    let rolling = json!({"relationships": {"app": {"data": {"guid": app}}}, "options": {"max_in_flight": 2}});
    let rolling = cf.expect(Method::POST, "/v3/deployments", Some(rolling), 201).await;
    assert_eq!(rolling["options"]["max_in_flight"], 2);
    let rolling = rolling["guid"].as_str().unwrap().to_string();
    wait_for_status(&cf, &rolling, "FINALIZED", "DEPLOYED").await;
    let last = app_version(&platform, &app).await;
    settled_on(&platform, "bird.localhost", &last, &last, 4).await;

    // Rolling to a new scale (cf push --strategy rolling --instances 5 -m 48M):
    // the new version runs 5 instances of 48 MB, the deployment says so.
    let scaled = json!({"relationships": {"app": {"data": {"guid": app}}},
                        "options": {"web_instances": 5, "memory_in_mb": 48}});
    let scaled = cf.expect(Method::POST, "/v3/deployments", Some(scaled), 201).await;
    assert_eq!(scaled["options"]["web_instances"], 5, "{scaled}");
    assert_eq!(scaled["options"]["memory_in_mb"], 48, "{scaled}");
    assert_eq!(scaled["options"]["disk_in_mb"], Value::Null, "{scaled}");
    let scaled = scaled["guid"].as_str().unwrap().to_string();
    wait_for_status(&cf, &scaled, "FINALIZED", "DEPLOYED").await;
    let fifth = app_version(&platform, &app).await;
    eventually("5 indices on the scaled version", Duration::from_secs(60), || async {
        let seen = versions_by_index(&platform, "bird.localhost", 5).await;
        (seen.len() == 5 && seen.values().all(|v| *v == fifth)).then_some(())
    })
    .await;
    let web = cf.expect(Method::GET, &format!("/v3/apps/{app}/processes/web"), None, 200).await;
    assert_eq!((&web["instances"], &web["memory_in_mb"]), (&json!(5), &json!(48)), "{web}");

    let (served, failed) = load.stop().await;
    assert!(served > 100, "the load ran: {served} requests");
    assert_eq!(failed, 0, "no request failed during the deployments ({served} served)");
    platform.shutdown().await;
}

/// What a deployment request may not be, refused in CF's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_request_out_of_bounds_is_refused() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("bounds", &repo().join("examples/hello-http"), &["-m", "32M"]).await;
    let app = platform.app_guid("bounds").await;
    let cf = Cf { platform: &platform, token: platform.token().await };
    let app_link = json!({"app": {"data": {"guid": app}}});
    for (body, detail) in [
        (json!({"relationships": app_link, "strategy": "blue-green"}), "Strategy 'blue-green' is not a supported"),
        (json!({"relationships": app_link, "options": {"max_in_flight": 0}}), "Max in flight must be greater"),
        (json!({"relationships": app_link, "options": {"web_instances": 0}}), "Web instances must be greater"),
        (json!({"relationships": app_link, "options": {"memory_in_mb": "big"}}), "Memory in mb must be an integer"),
        (
            json!({"relationships": app_link, "options": {"log_rate_limit_in_bytes_per_second": 100}}),
            "Unknown field(s): 'log_rate_limit_in_bytes_per_second'",
        ),
        (
            json!({"relationships": app_link, "options": {"canary": {"steps": [{"instance_weight": 10}]}}}),
            "Canary steps are only valid for the 'canary' deployment strategy",
        ),
        (
            json!({"relationships": app_link, "strategy": "canary",
                   "options": {"canary": {"steps": [{"instance_weight": 50}, {"instance_weight": 20}]}}}),
            "Canary steps must be sorted in ascending order",
        ),
        (
            json!({"relationships": app_link, "strategy": "canary",
                   "options": {"canary": {"steps": [{"instance_weight": 101}]}}}),
            "instance_weight must be an integer from 1 to 100",
        ),
    ] {
        let (status, error) = cf.refusal(Method::POST, "/v3/deployments", Some(body.clone())).await;
        assert_eq!((status, &error["title"]), (422, &json!("CF-UnprocessableEntity")), "{body}: {error}");
        assert!(error["detail"].as_str().unwrap().contains(detail), "{body}: {error}");
    }
    // A scale past the org's memory quota is refused before anything changes.
    let version = app_version(&platform, &app).await;
    let too_big = json!({"relationships": app_link, "options": {"web_instances": 2, "memory_in_mb": 1_000_000}});
    let (status, error) = cf.refusal(Method::POST, "/v3/deployments", Some(too_big)).await;
    assert_eq!((status, &error["title"]), (400, &json!("CF-AppMemoryQuotaExceeded")), "{error}");
    assert_eq!(app_version(&platform, &app).await, version, "a refused deployment leaves the app as it was");
    let web = cf.expect(Method::GET, &format!("/v3/apps/{app}/processes/web"), None, 200).await;
    assert_eq!((&web["instances"], &web["memory_in_mb"]), (&json!(1), &json!(32)), "{web}");
    let deployments = cf.expect(Method::GET, &format!("/v3/deployments?app_guids={app}"), None, 200).await;
    assert_eq!(deployments["pagination"]["total_results"], 0, "a refused request leaves no deployment");
    let (status, error) = cf.refusal(Method::POST, "/v3/deployments/nope/actions/continue", None).await;
    assert_eq!((status, &error["detail"]), (404, &json!("Deployment not found")), "{error}");
    platform.shutdown().await;
}
