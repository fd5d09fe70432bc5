//! Org and space quotas are enforced at create, scale, resize, start and
//! route creation, with CF's error codes.

mod common;

use common::{TestPlatform, app_dir};
use reqwest::Method;
use serde_json::{Value, json};

async fn post(platform: &TestPlatform, path: &str, body: Value) -> (u16, Value) {
    platform.api(Method::POST, path, Some(&body.to_string())).await
}

fn guid(v: &Value) -> String {
    v["metadata"]["guid"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_and_space_quotas_hold() {
    let platform = TestPlatform::start("local:").await;
    let quota = json!({"name": "small", "memory_limit": 100, "instance_memory_limit": 64, "app_instance_limit": 3, "total_routes": 2});
    let (status, quota) = post(&platform, "/v2/quota_definitions", quota).await;
    assert_eq!(status, 201, "{quota}");
    assert_eq!(quota["entity"]["memory_limit"], 100);
    let (status, body) = post(&platform, "/v2/quota_definitions", json!({"name": "bad", "memory_limit": -5})).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("CF-QuotaDefinitionInvalid")));
    let (_, org) =
        post(&platform, "/v2/organizations", json!({"name": "tiny", "quota_definition_guid": guid(&quota)})).await;
    assert_eq!(org["entity"]["quota_definition_guid"], guid(&quota).as_str());
    assert_eq!(org["entity"]["quota_definition_url"], format!("/v2/quota_definitions/{}", guid(&quota)));
    let (_, space) = post(&platform, "/v2/spaces", json!({"name": "s", "organization_guid": guid(&org)})).await;
    let space = guid(&space);

    // Per-instance memory is checked even for stopped apps.
    let (status, body) = post(&platform, "/v2/apps", json!({"name": "fat", "space_guid": space, "memory": 128})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(100007)), "{body}");

    // A started app counts against the org's memory.
    let login = platform
        .wf(&["login", "-a", &platform.api, "-u", "admin", "-p", &platform.admin_password(), "-o", "tiny", "-s", "s"])
        .await;
    assert!(login.status.success());
    platform.push("a", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "64M"]).await;
    let app = platform.app_guid("a").await;
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{app}"), Some(r#"{"instances": 2}"#)).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(100005)), "{body}");
    assert!(body["description"].as_str().unwrap().contains("memory limit"), "{body}");
    let kept = platform.get(&format!("/v2/apps/{app}")).await;
    assert_eq!(kept["entity"]["instances"], 1, "a refused change changes nothing");

    // Routes: the push made one, one more fits, the third does not.
    let domain = guid(&platform.get("/v2/shared_domains").await["resources"][0]);
    let (status, _) =
        post(&platform, "/v2/routes", json!({"host": "two", "domain_guid": domain, "space_guid": space})).await;
    assert_eq!(status, 201);
    let (status, body) =
        post(&platform, "/v2/routes", json!({"host": "three", "domain_guid": domain, "space_guid": space})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(310006)), "{body}");

    // A space quota tightens the org's.
    let (status, space_quota) = post(
        &platform,
        "/v2/space_quota_definitions",
        json!({"name": "sq", "organization_guid": guid(&org), "memory_limit": 32}),
    )
    .await;
    assert_eq!(status, 201, "{space_quota}");
    let (status, _) = platform
        .api(Method::PUT, &format!("/v2/space_quota_definitions/{}/spaces/{space}", guid(&space_quota)), None)
        .await;
    assert_eq!(status, 201);
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{app}"), Some(r#"{"state": "STOPPED"}"#)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{app}"), Some(r#"{"state": "STARTED"}"#)).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(310003)), "{body}");
    let spaces = platform.get(&format!("/v2/space_quota_definitions/{}/spaces", guid(&space_quota))).await;
    assert_eq!(spaces["total_results"], 1);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_usage_sums_on_postgres() {
    let Some(platform) = common::postgres_platform().await else { return };
    platform.login().await;
    platform.push("a", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "64M"]).await;
    let app = platform.app_guid("a").await;
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{app}"), Some(r#"{"instances": 2}"#)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{app}"), Some(r#"{"memory": 20000}"#)).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(100005)), "the default quota allows 10 GB: {body}");
    platform.shutdown().await;
}
