//! Services through the v3 API, as the cf CLI v7 sends them, against a
//! real OSB broker: `create-service` (a job; one whose broker works
//! asynchronously completes when the broker's operation does),
//! `bind-service` and `create-service-key` (credential bindings and their
//! details), `create-user-provided-service` and its binding (at once),
//! `cf services`' space summary, `unbind-service`, `delete-service` (its
//! binding and key unbound at the broker first), and clean refusals; and
//! the broker itself: `create-service-broker`, `rename-service-broker`,
//! `enable-service-access`/`disable-service-access` (public, some orgs',
//! admins'), `service-access`, `delete-service-broker`.

mod common;

use std::time::Duration;

use common::broker::start_broker;
use common::v3::Cf;
use common::{TestPlatform, app_dir, eventually};
use reqwest::Method;
use serde_json::{Value, json};

/// A platform that polls brokers every 100 ms.
async fn platform(database_url: Option<String>) -> TestPlatform {
    TestPlatform::start_configured("local:", database_url, |config| config.broker_poll_interval_ms = 100).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    services_through_v3(platform(None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    let database = common::fresh_postgres().await.expect("WF_TEST_DATABASE_URL names a PostgreSQL server");
    services_through_v3(platform(Some(database)).await).await;
}

/// POSTs and follows the job it answers with; the job's final state.
async fn as_job(cf: &Cf<'_>, path: &str, body: Value) -> Value {
    sent_as_job(cf, Method::POST, path, body).await
}

/// Sends and follows the job it answers with; the job's final state.
async fn sent_as_job(cf: &Cf<'_>, method: Method, path: &str, body: Value) -> Value {
    let (status, location, answer) = cf.send(method, path, Some(("application/json", body.to_string()))).await;
    assert_eq!(status, 202, "{path}: {answer}");
    let job = location.expect("a job").trim_start_matches(&cf.platform.api).to_string();
    eventually("the job ended", Duration::from_secs(30), || async {
        let state = cf.expect(Method::GET, &job, None, 200).await;
        (state["state"] != "PROCESSING").then_some(state)
    })
    .await
}

async fn services_through_v3(platform: TestPlatform) {
    let (url, broker) = start_broker().await;
    platform.login().await;
    let cf = Cf::admin(&platform).await;
    // cf create-service-broker pg u p URL; cf enable-service-access pgsql
    let registration = json!({"name": "pg", "url": url, "authentication": {"type": "basic", "credentials": {"username": "u", "password": "p"}}});
    assert_eq!(as_job(&cf, "/v3/service_brokers", registration).await["state"], "COMPLETE");
    let plans = cf.expect(Method::GET, "/v3/service_plans?include=space.organization", None, 200).await;
    assert_eq!(plans["resources"][0]["visibility_type"], "admin", "admins' only until enabled: {plans}");
    for plan in plans["resources"].as_array().unwrap() {
        let path = format!("/v3/service_plans/{}/visibility", plan["guid"].as_str().unwrap());
        assert_eq!(cf.expect(Method::POST, &path, Some(json!({"type": "public"})), 200).await["type"], "public");
    }
    drop(cf);
    platform.push("reader", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "32M"]).await;
    let app = platform.app_guid("reader").await;
    let cf = Cf::admin(&platform).await;
    let space = cf.expect(Method::GET, "/v3/spaces?names=dev", None, 200).await["resources"][0]["guid"].clone();
    let plan = |name: &'static str| {
        let cf = &cf;
        async move {
            let plans = cf.expect(Method::GET, &format!("/v3/service_plans?names={name}"), None, 200).await;
            plans["resources"][0]["guid"].clone()
        }
    };

    // cf create-service pgsql small db; and a slow (asynchronous) one.
    let managed = |name: &str, plan: Value| {
        json!({"type": "managed", "name": name, "tags": ["primary"],
               "relationships": {"space": {"data": {"guid": space}}, "service_plan": {"data": {"guid": plan}}}})
    };
    let job = as_job(&cf, "/v3/service_instances", managed("db", plan("small").await)).await;
    assert_eq!(job["state"], "COMPLETE", "{job}");
    let job = as_job(&cf, "/v3/service_instances", managed("later", plan("slow").await)).await;
    assert_eq!(job["state"], "COMPLETE", "the job ends with the broker's operation: {job}");
    assert!(!broker.requests_to("GET", "/v2/service_instances/").is_empty(), "the broker's operation was polled");
    let found = cf.expect(Method::GET, "/v3/service_instances?names=db,later&order_by=name", None, 200).await;
    let names: Vec<&str> = found["resources"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["db", "later"]);
    assert_eq!(found["resources"][0]["type"], "managed");
    assert_eq!(found["resources"][0]["last_operation"]["state"], "succeeded");
    let db = found["resources"][0]["guid"].as_str().unwrap().to_string();

    // cf bind-service reader db: the broker's credentials, in the app's env.
    let binding = json!({"type": "app", "relationships": {"app": {"data": {"guid": app}}, "service_instance": {"data": {"guid": db}}}});
    assert_eq!(as_job(&cf, "/v3/service_credential_bindings", binding.clone()).await["state"], "COMPLETE");
    let bindings = cf.expect(Method::GET, &format!("/v3/service_credential_bindings?app_guids={app}"), None, 200).await;
    assert_eq!(bindings["pagination"]["total_results"], 1);
    let bound = bindings["resources"][0]["guid"].as_str().unwrap().to_string();
    assert_eq!(bindings["resources"][0]["type"], "app");
    let details = cf.expect(Method::GET, &format!("/v3/service_credential_bindings/{bound}/details"), None, 200).await;
    assert!(details["credentials"]["uri"].as_str().is_some_and(|u| u.starts_with("postgres")), "{details}");
    let env = cf.expect(Method::GET, &format!("/v3/apps/{app}/env"), None, 200).await;
    assert_eq!(env["system_env_json"]["VCAP_SERVICES"]["pgsql"][0]["name"], "db", "{env}");
    let (status, title) = cf.error(Method::POST, "/v3/service_credential_bindings", Some(binding)).await;
    assert_eq!((status, title.as_str()), (400, "CF-ServiceBindingAppServiceTaken"));

    // cf create-service-key db k1, cf service-key db k1.
    let key = json!({"type": "key", "name": "k1", "relationships": {"service_instance": {"data": {"guid": db}}}});
    assert_eq!(as_job(&cf, "/v3/service_credential_bindings", key).await["state"], "COMPLETE");
    let keys = cf
        .expect(
            Method::GET,
            &format!("/v3/service_credential_bindings?type=key&service_instance_guids={db}"),
            None,
            200,
        )
        .await;
    assert_eq!(keys["resources"][0]["name"], "k1");
    let key_guid = keys["resources"][0]["guid"].as_str().unwrap();
    let details =
        cf.expect(Method::GET, &format!("/v3/service_credential_bindings/{key_guid}/details"), None, 200).await;
    assert!(details["credentials"]["uri"].is_string(), "{details}");

    // cf create-user-provided-service logs -p '{…}', bound at once.
    let ups = json!({"type": "user-provided", "name": "logs", "credentials": {"token": "t"},
                     "relationships": {"space": {"data": {"guid": space}}}});
    let ups = cf.expect(Method::POST, "/v3/service_instances", Some(ups), 201).await;
    assert_eq!(ups["type"], "user-provided");
    let ups_guid = ups["guid"].as_str().unwrap().to_string();
    let ups_binding = json!({"type": "app", "relationships": {"app": {"data": {"guid": app}}, "service_instance": {"data": {"guid": ups_guid}}}});
    let bound_ups = cf.expect(Method::POST, "/v3/service_credential_bindings", Some(ups_binding), 201).await;
    let details = cf
        .expect(
            Method::GET,
            &format!("/v3/service_credential_bindings/{}/details", bound_ups["guid"].as_str().unwrap()),
            None,
            200,
        )
        .await;
    assert_eq!(details["credentials"]["token"], "t");

    // cf update-user-provided-service logs -p '{"token":"u"}': its binding carries the new credentials.
    let path = format!("/v3/service_instances/{ups_guid}");
    let updated = json!({"credentials": {"token": "u"}, "tags": ["audit"]});
    assert_eq!(cf.expect(Method::PATCH, &path, Some(updated), 200).await["tags"], json!(["audit"]));
    let details = cf
        .expect(
            Method::GET,
            &format!("/v3/service_credential_bindings/{}/details", bound_ups["guid"].as_str().unwrap()),
            None,
            200,
        )
        .await;
    assert_eq!(details["credentials"]["token"], "u");
    let (status, error) = cf.error(Method::PATCH, &path, Some(json!({"parameters": {}}))).await;
    assert_eq!(status, 422, "a user-provided instance has no parameters: {error}");

    // cf rename-service db main (the CC's alone: 200), then cf update-service main -p large (a job at the broker).
    let path = format!("/v3/service_instances/{db}");
    assert_eq!(cf.expect(Method::PATCH, &path, Some(json!({"name": "main"})), 200).await["name"], "main");
    let large = plan("large").await;
    let change = json!({"relationships": {"service_plan": {"data": {"guid": large}}}, "parameters": {"size": 2}});
    assert_eq!(sent_as_job(&cf, Method::PATCH, &path, change).await["state"], "COMPLETE");
    let shown = cf.expect(Method::GET, &path, None, 200).await;
    assert_eq!(shown["relationships"]["service_plan"]["data"]["guid"], large, "{shown}");
    assert_eq!(shown["last_operation"]["type"], "update", "{shown}");
    let asked = broker.requests_to("PATCH", "/v2/service_instances/");
    assert_eq!(asked.last().unwrap().2["plan_id"], "plan-large", "{asked:?}");
    assert_eq!(asked.last().unwrap().2["parameters"], json!({"size": 2}), "{asked:?}");
    let other = plan("basic").await;
    let (status, error) = cf
        .error(Method::PATCH, &path, Some(json!({"relationships": {"service_plan": {"data": {"guid": other}}}})))
        .await;
    assert_eq!(status, 400, "a plan of another service: {error}");
    cf.expect(Method::PATCH, &path, Some(json!({"name": "db"})), 200).await;

    // cf services (v7 reads the space summary): both, with their bound app.
    let summary = platform.get(&format!("/v2/spaces/{}/summary", space.as_str().unwrap())).await;
    let services = summary["services"].as_array().unwrap();
    let db_summary = services.iter().find(|s| s["name"] == "db").expect("db in the summary");
    assert_eq!(db_summary["service_plan"]["name"], "large", "the plan cf update-service gave it");
    assert_eq!(db_summary["bound_app_count"], 1);
    assert!(services.iter().any(|s| s["name"] == "logs" && s.get("service_plan").is_none()), "{summary}");
    assert_eq!(summary["apps"][0]["service_names"], json!(["db", "logs"]));

    // cf unbind-service reader logs: 204 for a user-provided instance's binding.
    let path = format!("/v3/service_credential_bindings/{}", bound_ups["guid"].as_str().unwrap());
    assert_eq!(cf.send(Method::DELETE, &path, None).await.0, 204);
    assert_eq!(cf.send(Method::DELETE, &format!("/v3/service_instances/{ups_guid}"), None).await.0, 204);

    // cf delete-service db: its binding and key are unbound at the broker, then it is deprovisioned.
    let (status, location, _) = cf.send(Method::DELETE, &format!("/v3/service_instances/{db}"), None).await;
    assert_eq!(status, 202);
    cf.job_completes(&location.unwrap()).await;
    assert_eq!(cf.send(Method::GET, &format!("/v3/service_instances/{db}"), None).await.0, 404);
    assert_eq!(broker.requests_to("DELETE", &format!("/v2/service_instances/{db}/service_bindings/")).len(), 2);
    assert_eq!(broker.requests_to("DELETE", &format!("/v2/service_instances/{db}?")).len(), 1);

    // cf disable-service-access pgsql -p large; enable for one org; service-access.
    let large = plan("large").await;
    let visibility = format!("/v3/service_plans/{}/visibility", large.as_str().unwrap());
    assert_eq!(cf.expect(Method::PATCH, &visibility, Some(json!({"type": "admin"})), 200).await["type"], "admin");
    let org =
        cf.expect(Method::GET, "/v3/organizations?names=default", None, 200).await["resources"][0]["guid"].clone();
    let for_org = json!({"type": "organization", "organizations": [{"guid": org}]});
    let shown = cf.expect(Method::POST, &visibility, Some(for_org), 200).await;
    assert_eq!(
        (shown["type"].as_str(), shown["organizations"][0]["name"].as_str()),
        (Some("organization"), Some("default"))
    );
    let path = format!("{visibility}/{}", org.as_str().unwrap());
    assert_eq!(cf.send(Method::DELETE, &path, None).await.0, 204);
    assert_eq!(cf.expect(Method::GET, &visibility, None, 200).await["type"], "admin");

    // cf rename-service-broker pg pg2 (the catalog is read again), then delete it.
    let brokers = cf.expect(Method::GET, "/v3/service_brokers?names=pg", None, 200).await;
    let pg = brokers["resources"][0]["guid"].as_str().unwrap().to_string();
    let (status, location, _) = cf
        .send(
            Method::PATCH,
            &format!("/v3/service_brokers/{pg}"),
            Some(("application/json", json!({"name": "pg2"}).to_string())),
        )
        .await;
    assert_eq!(status, 202);
    cf.job_completes(&location.unwrap()).await;
    assert_eq!(cf.expect(Method::GET, &format!("/v3/service_brokers/{pg}"), None, 200).await["name"], "pg2");
    let later =
        cf.expect(Method::GET, "/v3/service_instances?names=later", None, 200).await["resources"][0]["guid"].clone();
    let (_, location, _) =
        cf.send(Method::DELETE, &format!("/v3/service_instances/{}", later.as_str().unwrap()), None).await;
    cf.job_completes(&location.unwrap()).await;
    let (status, location, _) = cf.send(Method::DELETE, &format!("/v3/service_brokers/{pg}"), None).await;
    assert_eq!(status, 202);
    cf.job_completes(&location.unwrap()).await;
    assert_eq!(cf.expect(Method::GET, "/v3/service_offerings", None, 200).await["pagination"]["total_results"], 0);

    // Refusals: an unknown type, no plan, an instance that is not there.
    let (status, title) =
        cf.error(Method::POST, "/v3/service_instances", Some(json!({"type": "shared", "name": "x"}))).await;
    assert_eq!((status, title.as_str()), (422, "CF-UnprocessableEntity"));
    let no_plan = json!({"type": "managed", "name": "x", "relationships": {"space": {"data": {"guid": space}}}});
    let (status, _) = cf.error(Method::POST, "/v3/service_instances", Some(no_plan)).await;
    assert_eq!(status, 422);
    let gone = json!({"type": "key", "name": "k", "relationships": {"service_instance": {"data": {"guid": db}}}});
    let (status, title) = cf.error(Method::POST, "/v3/service_credential_bindings", Some(gone)).await;
    assert_eq!((status, title.as_str()), (404, "CF-ResourceNotFound"));
    platform.shutdown().await;
}
