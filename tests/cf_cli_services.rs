//! Replays what the cf CLI v6 (6.40.1, traced with CF_TRACE against this
//! platform) sends for `marketplace`, `create-service`, `services`,
//! `service`, `bind-service`, `create-service-key`, `service-keys`,
//! `service-key`, `update-service`, `rename-service`, `unbind-service`,
//! `delete-service-key`, `delete-service` and `service-access` — the same
//! paths, queries and bodies — and checks each answer has what the client
//! reads. The broker is the tests' own (`common::broker`).

mod common;

use common::TestPlatform;
use common::broker::start_broker;
use reqwest::Method;
use serde_json::{Value, json};

fn guid(resource: &Value) -> String {
    resource["metadata"]["guid"].as_str().unwrap().to_string()
}

/// A request the client sends and the status it expects; the answer.
async fn expect(platform: &TestPlatform, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
    let (got, answer) = platform.api(method.clone(), path, body.map(|b| b.to_string()).as_deref()).await;
    assert_eq!(got, status, "{method} {path}: {answer}");
    answer
}

on_both_databases!(cf_cli_v6_service_commands, super::cf_cli_v6_service_commands);

async fn cf_cli_v6_service_commands(platform: TestPlatform) {
    let (url, _broker) = start_broker().await;
    let registration = json!({"name": "pg", "broker_url": url, "auth_username": "u", "auth_password": "p"});
    expect(&platform, Method::POST, "/v2/service_brokers", Some(registration), 201).await;
    for plan in platform.get("/v2/service_plans").await["resources"].as_array().unwrap() {
        expect(
            &platform,
            Method::PUT,
            &format!("/v2/service_plans/{}", guid(plan)),
            Some(json!({"public": true})),
            201,
        )
        .await;
    }
    let space = guid(&platform.get("/v2/spaces?q=name:dev").await["resources"][0]);
    let app =
        expect(&platform, Method::POST, "/v2/apps", Some(json!({"name": "hello", "space_guid": space})), 201).await;
    let app = guid(&app);
    let get = |path: String| {
        let platform = &platform;
        async move { expect(platform, Method::GET, &path, None, 200).await }
    };

    // cf marketplace [-s pgsql]
    let services = get(format!("/v2/spaces/{space}/services?q=label%3Apgsql")).await;
    let service = guid(&services["resources"][0]);
    let plans = get(format!("/v2/service_plans?q=service_guid%3A{service}")).await;
    let plan_named = |name: &str| {
        let plan = plans["resources"].as_array().unwrap().iter().find(|p| p["entity"]["name"] == name).unwrap();
        assert!(plan["entity"]["free"].is_boolean() && plan["entity"]["description"].is_string(), "{plan}");
        guid(plan)
    };
    let (small, large) = (plan_named("small"), plan_named("large"));

    // cf create-service pgsql small db -c '{"a":1}' -t x,y
    let body = json!({"name": "db", "space_guid": space, "service_plan_guid": small, "parameters": {"a": 1},
        "tags": ["x", "y"]});
    let created =
        expect(&platform, Method::POST, "/v2/service_instances?accepts_incomplete=true", Some(body), 201).await;
    assert_eq!(created["entity"]["last_operation"]["state"], "succeeded");
    let db = guid(&created);
    let found = get(format!(
        "/v2/spaces/{space}/service_instances?return_user_provided_service_instances=true&q=name%3Adb&inline-relations-depth=1"
    ))
    .await;
    let entity = &found["resources"][0]["entity"];
    assert_eq!(
        (entity["service_guid"].as_str(), entity["type"].as_str()),
        (Some(service.as_str()), Some("managed_service_instance"))
    );
    get(format!("/v2/services/{service}")).await;

    // cf services / cf service db
    let listed = get(format!("/v2/spaces/{space}/service_instances?return_user_provided_service_instances=true")).await;
    assert_eq!(listed["total_results"], 1);
    let plan = get(format!("/v2/service_plans/{small}")).await;
    assert_eq!(plan["entity"]["service_guid"], service.as_str());
    get(format!("/v2/service_instances/{db}/service_bindings")).await;
    get("/v2/config/feature_flags".into()).await;
    assert_eq!(get(format!("/v2/service_instances/{db}/shared_to")).await["total_results"], 0);

    // cf bind-service hello db -c '{"r":1}'
    let body = json!({"app_guid": app, "parameters": {"r": 1}, "service_instance_guid": db});
    let binding =
        expect(&platform, Method::POST, "/v2/service_bindings?accepts_incomplete=true", Some(body), 201).await;
    assert!(binding["entity"]["credentials"]["uri"].is_string(), "{binding}");

    // cf create-service-key db k1 -c '{"k":1}', cf service-keys db, cf service-key db k1
    let body = json!({"name": "k1", "parameters": {"k": 1}, "service_instance_guid": db});
    let key = expect(&platform, Method::POST, "/v2/service_keys", Some(body), 201).await;
    assert_eq!(get(format!("/v2/service_instances/{db}/service_keys")).await["total_results"], 1);
    let shown = get(format!("/v2/service_instances/{db}/service_keys?q=name%3Ak1")).await;
    assert!(shown["resources"][0]["entity"]["credentials"]["uri"].is_string(), "{shown}");

    // cf update-service db -p large -c '{"b":2}' -t z
    get("/v2/organizations?q=name%3Adefault&inline-relations-depth=1".into()).await;
    get("/v2/service_plan_visibilities".into()).await;
    let body = json!({"service_plan_guid": large, "parameters": {"b": 2}, "tags": ["z"]});
    let path = format!("/v2/service_instances/{db}?accepts_incomplete=true");
    let updated = expect(&platform, Method::PUT, &path, Some(body), 201).await;
    assert_eq!(updated["entity"]["service_plan_guid"], large.as_str());
    assert_eq!(updated["entity"]["tags"], json!(["z"]));

    // cf rename-service db db2
    let renamed = expect(&platform, Method::PUT, &path, Some(json!({"name": "db2"})), 201).await;
    assert_eq!(renamed["entity"]["name"], "db2");

    // cf unbind-service hello db2
    let bindings = get(format!("/v2/service_bindings?q=app_guid%3A{app}&q=service_instance_guid%3A{db}")).await;
    assert_eq!(guid(&bindings["resources"][0]), guid(&binding));
    let path = format!("/v2/service_bindings/{}?accepts_incomplete=true", guid(&binding));
    expect(&platform, Method::DELETE, &path, None, 204).await;

    // cf delete-service-key db2 k1 -f, cf delete-service db2 -f: jobs to poll
    for path in [
        format!("/v2/service_keys/{}?async=true", guid(&key)),
        format!("/v2/service_instances/{db}?accepts_incomplete=true&async=true"),
    ] {
        let job = expect(&platform, Method::DELETE, &path, None, 202).await;
        let job = get(job["metadata"]["url"].as_str().unwrap().to_string()).await;
        assert_eq!(job["entity"]["status"], "finished", "{job}");
    }
    let left = get(format!("/v2/spaces/{space}/service_instances?return_user_provided_service_instances=true")).await;
    assert_eq!(left["total_results"], 0);

    // cf service-access
    let brokers = get("/v2/service_brokers".into()).await;
    let broker = guid(&brokers["resources"][0]);
    let services = get(format!("/v2/services?q=service_broker_guid+IN+{broker}")).await;
    assert_eq!(services["total_results"], 2);
    let plans = get(format!("/v2/service_plans?q=service_guid+IN+{service}")).await;
    assert_eq!(plans["total_results"], 3);
    get("/v2/service_plan_visibilities".into()).await;
    platform.shutdown().await;
}
