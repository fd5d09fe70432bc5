//! User-provided services end to end: `wf cups`, binding by manifest and
//! by `wf bind-service`, the credentials in an instance's VCAP_SERVICES and
//! DATABASE_URL (CF's shapes), `/v2/apps/:guid/env`, unbinding — and CF's
//! errors for what cannot be done.

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir};
use reqwest::Method;
use serde_json::{Value, json};

const PROBE: &str = "tests/fixtures/crasher-app/crasher.wasm";

async fn instance_env(platform: &TestPlatform) -> Value {
    let (status, body) = platform.via_router("probe.localhost", "/env").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn wf_ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

on_both_databases!(bound_services_reach_the_instance_env, super::bound_services_reach_the_instance_env);

async fn bound_services_reach_the_instance_env(platform: TestPlatform) {
    platform.login().await;
    let db = r#"{"uri":"postgresql://user:secret@db.example.com:5432/orders","username":"user"}"#;
    wf_ok(&platform.wf(&["cups", "orders-db", "-p", db]).await);
    wf_ok(
        &platform
            .wf(&[
                "create-user-provided-service",
                "logger",
                "-p",
                r#"{"token":"t0k"}"#,
                "-l",
                "syslog://logs.example.com:514",
            ])
            .await,
    );
    let taken = platform.wf(&["cups", "orders-db", "-p", "{}"]).await;
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("The service instance name is taken: orders-db"));

    let app = app_dir(&[PROBE]);
    std::fs::write(
        app.path().join("manifest.yml"),
        "applications:\n- name: probe\n  memory: 32M\n  services:\n  - orders-db\n  - logger\n",
    )
    .unwrap();
    let out = platform.wf(&["push", "-p", app.path().to_str().unwrap()]).await;
    assert!(wf_ok(&out).contains("Binding service orders-db to probe"));

    let env = instance_env(&platform).await;
    assert_eq!(env["DATABASE_URL"], "postgres://user:secret@db.example.com:5432/orders", "CF's scheme for Rails");
    let services: Value = serde_json::from_str(env["VCAP_SERVICES"].as_str().unwrap()).unwrap();
    let provided = services["user-provided"].as_array().expect("grouped by label");
    assert_eq!(provided.len(), 2);
    assert_eq!(provided[0]["name"], "orders-db");
    assert_eq!(provided[0]["instance_name"], "orders-db");
    assert_eq!(provided[0]["label"], "user-provided");
    assert_eq!(provided[0]["credentials"], serde_json::from_str::<Value>(db).unwrap());
    assert_eq!(provided[0]["tags"], json!([]));
    assert_eq!(provided[1]["name"], "logger");
    assert_eq!(provided[1]["syslog_drain_url"], "syslog://logs.example.com:514");

    let guid = platform.app_guid("probe").await;
    let shown = platform.get(&format!("/v2/apps/{guid}/env")).await;
    assert_eq!(shown["system_env_json"]["VCAP_SERVICES"], services);
    let bindings = platform.get(&format!("/v2/apps/{guid}/service_bindings")).await;
    assert_eq!(bindings["total_results"], 2);
    let binding = &bindings["resources"][0]["entity"];
    assert_eq!(binding["credentials"], serde_json::from_str::<Value>(db).unwrap());
    // The binding's instance is found where it points (cf create-app-manifest follows it).
    let instance = platform.get(binding["service_instance_url"].as_str().unwrap()).await;
    assert_eq!(instance["entity"]["name"], "orders-db", "{instance}");
    assert_eq!(instance["entity"]["type"], "user_provided_service_instance");

    // CF's errors.
    let instance = binding["service_instance_guid"].as_str().unwrap().to_string();
    let twice = json!({"app_guid": guid, "service_instance_guid": instance}).to_string();
    let (status, error) = platform.api(Method::POST, "/v2/service_bindings", Some(&twice)).await;
    assert_eq!((status, error["code"].as_i64()), (400, Some(90003)), "{error}");
    let (status, error) =
        platform.api(Method::DELETE, &format!("/v2/user_provided_service_instances/{instance}"), None).await;
    assert_eq!((status, error["code"].as_i64()), (400, Some(10006)), "{error}");
    let bad = json!({"name": "bad", "space_guid": "x", "credentials": "not an object"}).to_string();
    let (status, error) = platform.api(Method::POST, "/v2/user_provided_service_instances", Some(&bad)).await;
    assert_eq!((status, error["code"].as_i64()), (400, Some(60003)), "{error}");

    // Updated credentials reach the bindings (cf uups).
    let logger = bindings["resources"][1]["entity"]["service_instance_guid"].as_str().unwrap().to_string();
    let update = json!({"credentials": {"token": "new"}}).to_string();
    let path = format!("/v2/user_provided_service_instances/{logger}");
    assert_eq!(platform.api(Method::PUT, &path, Some(&update)).await.0, 201);
    let bindings = platform.get(&format!("/v2/apps/{guid}/service_bindings")).await;
    assert_eq!(bindings["resources"][1]["entity"]["credentials"], json!({"token": "new"}));

    let listed = wf_ok(&platform.wf(&["services"]).await);
    assert!(listed.lines().any(|l| l.starts_with("orders-db") && l.ends_with("probe")), "{listed}");

    // Unbound, and after a restart the instance no longer has it.
    wf_ok(&platform.wf(&["unbind-service", "probe", "orders-db"]).await);
    wf_ok(&platform.wf(&["restart", "probe"]).await);
    platform.wait_for_states(&guid, &["RUNNING"], Duration::from_secs(20)).await;
    let env = instance_env(&platform).await;
    assert!(env.get("DATABASE_URL").is_none(), "{env}");
    let services: Value = serde_json::from_str(env["VCAP_SERVICES"].as_str().unwrap()).unwrap();
    assert_eq!(services["user-provided"].as_array().unwrap().len(), 1);
    wf_ok(&platform.wf(&["delete-service", "logger"]).await);
    assert_eq!(platform.get(&format!("/v2/apps/{guid}/service_bindings")).await["total_results"], 0);
    // cf delete-service's request, for a user-provided instance.
    let path = format!("/v2/service_instances/{instance}?accepts_incomplete=true&async=true");
    assert_eq!(platform.api(Method::DELETE, &path, None).await.0, 202, "a job, as asked");
    let gone = format!("/v2/user_provided_service_instances/{instance}");
    let error = common::eventually("the instance deleted", Duration::from_secs(10), || async {
        let (status, error) = platform.api(Method::GET, &gone, None).await;
        (status == 404).then_some(error)
    })
    .await;
    assert_eq!(error["code"], 60004, "{error}");
    platform.shutdown().await;
}
