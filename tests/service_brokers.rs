//! Service brokers (OSB API): registering one reads its catalog with basic
//! auth and the OSB headers, and stores its services and plans; updating
//! reads it again; a broker that fails — unreachable, wrong password, 5xx,
//! not JSON, a catalog that breaks the spec — gives CF's error and stores
//! nothing; plans are private until an admin makes them public or visible
//! to an org, and users see only what their orgs may use; deleting removes
//! what the broker offered. A broker of the test's own.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use common::TestPlatform;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct FakeBroker {
    catalog: Arc<Mutex<Value>>,
    /// The OSB headers of the last request.
    seen: Arc<Mutex<Option<(String, String)>>>,
}

fn catalog(plans: &[&str]) -> Value {
    let plans: Vec<Value> = plans
        .iter()
        .map(|p| json!({"id": format!("plan-{p}"), "name": p, "description": format!("{p} database"), "free": *p == "small"}))
        .collect();
    json!({"services": [{"id": "svc-pg", "name": "pgsql", "description": "PostgreSQL", "bindable": true,
        "tags": ["sql", "postgres"], "metadata": {"displayName": "PostgreSQL"}, "plans": plans}]})
}

/// `/{mode}/v2/catalog`: `good…` answers the catalog (basic auth
/// broker:secret); the other modes fail as their names say.
async fn serve_catalog(
    State(broker): State<FakeBroker>,
    Path(mode): Path<String>,
    headers: HeaderMap,
) -> axum::response::Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    *broker.seen.lock().unwrap() = Some((header("x-broker-api-version"), header("x-broker-api-originating-identity")));
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("broker:secret"));
    if header("authorization") != expected {
        return (StatusCode::UNAUTHORIZED, "who are you").into_response();
    }
    match mode.as_str() {
        good if good.starts_with("good") => axum::Json(broker.catalog.lock().unwrap().clone()).into_response(),
        "broken" => (StatusCode::INTERNAL_SERVER_ERROR, "the database is down").into_response(),
        "not-json" => "<html>hello</html>".into_response(),
        _ => axum::Json(json!({"services": [{"id": "x", "name": "x", "bindable": true, "plans": []}]})).into_response(),
    }
}

async fn start_broker() -> (String, FakeBroker) {
    let broker = FakeBroker::default();
    *broker.catalog.lock().unwrap() = catalog(&["small", "large"]);
    let app =
        axum::Router::new().route("/{mode}/v2/catalog", axum::routing::get(serve_catalog)).with_state(broker.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, broker)
}

fn registration(name: &str, url: &str, password: &str) -> String {
    json!({"name": name, "broker_url": url, "auth_username": "broker", "auth_password": password}).to_string()
}

async fn names(platform: &TestPlatform, path: &str, field: &str) -> Vec<String> {
    common::sorted_field(&platform.get(path).await, field)
}

on_both_databases!(brokers_catalogs_access_and_failures, super::brokers_catalogs_access_and_failures);

async fn brokers_catalogs_access_and_failures(platform: TestPlatform) {
    let (url, broker) = start_broker().await;
    let (status, created) = platform
        .api(Method::POST, "/v2/service_brokers", Some(&registration("pg-broker", &format!("{url}/good"), "secret")))
        .await;
    assert_eq!(status, 201, "{created}");
    let guid = created["metadata"]["guid"].as_str().unwrap().to_string();
    assert_eq!(created["entity"]["name"], "pg-broker");
    assert_eq!(created["entity"]["auth_username"], "broker");
    assert!(created["entity"].get("auth_password").is_none(), "the password is never shown: {created}");
    let (version, identity) = broker.seen.lock().unwrap().clone().unwrap();
    assert_eq!(version, "2.13");
    let identity = identity.strip_prefix("cloudfoundry ").expect("a cloudfoundry identity");
    let identity: Value =
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(identity).unwrap()).unwrap();
    assert!(identity["user_id"].as_str().is_some_and(|id| !id.is_empty()), "{identity}");

    let services = platform.get("/v2/services").await;
    assert_eq!(services["total_results"], 1, "{services}");
    let service = &services["resources"][0];
    let service_guid = service["metadata"]["guid"].as_str().unwrap().to_string();
    assert_eq!(service["entity"]["label"], "pgsql");
    assert_eq!(service["entity"]["unique_id"], "svc-pg");
    assert_eq!(service["entity"]["bindable"], true);
    assert_eq!(service["entity"]["tags"], json!(["sql", "postgres"]));
    assert_eq!(service["entity"]["service_broker_guid"], guid.as_str());
    assert_eq!(
        serde_json::from_str::<Value>(service["entity"]["extra"].as_str().unwrap()).unwrap()["displayName"],
        "PostgreSQL"
    );
    assert_eq!(
        names(&platform, &format!("/v2/services/{service_guid}/service_plans"), "name").await,
        ["large", "small"]
    );
    let plans = platform.get("/v2/service_plans?q=unique_id:plan-small").await;
    let small = &plans["resources"][0];
    let flags = (small["entity"]["free"].as_bool(), small["entity"]["public"].as_bool());
    assert_eq!(flags, (Some(true), Some(false)), "new plans are private");
    let small = small["metadata"]["guid"].as_str().unwrap().to_string();
    let large = platform.get("/v2/service_plans?q=unique_id:plan-large").await["resources"][0]["metadata"]["guid"]
        .as_str()
        .unwrap()
        .to_string();

    // What `cf marketplace` reads: the services offered in a space.
    let space =
        platform.get("/v2/spaces?q=name:dev").await["resources"][0]["metadata"]["guid"].as_str().unwrap().to_string();
    assert_eq!(names(&platform, &format!("/v2/spaces/{space}/services"), "label").await, ["pgsql"]);

    // Failures: CF's error, and nothing stored.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for (name, url, password, status, error_code) in [
        ("a", format!("{url}/good-a"), "wrong", 502, "CF-ServiceBrokerApiAuthenticationFailed"),
        ("b", format!("http://127.0.0.1:{closed}"), "secret", 502, "CF-ServiceBrokerApiUnreachable"),
        ("c", format!("{url}/broken"), "secret", 502, "CF-ServiceBrokerBadResponse"),
        ("d", format!("{url}/not-json"), "secret", 502, "CF-ServiceBrokerResponseMalformed"),
        ("e", format!("{url}/invalid"), "secret", 502, "CF-ServiceBrokerCatalogInvalid"),
        ("pg-broker", format!("{url}/other"), "secret", 400, "CF-ServiceBrokerNameTaken"),
        ("f", format!("{url}/good"), "secret", 400, "CF-ServiceBrokerUrlTaken"),
        ("g", "ftp://example.com".to_string(), "secret", 400, "CF-ServiceBrokerUrlInvalid"),
    ] {
        let (got, body) =
            platform.api(Method::POST, "/v2/service_brokers", Some(&registration(name, &url, password))).await;
        assert_eq!((got, body["error_code"].as_str()), (status, Some(error_code)), "{name}: {body}");
    }
    let (_, body) = platform
        .api(Method::POST, "/v2/service_brokers", Some(&registration("c", &format!("{url}/broken"), "secret")))
        .await;
    assert!(
        body["description"].as_str().unwrap().contains("500")
            && body["description"].as_str().unwrap().contains("the database is down"),
        "{body}"
    );
    assert_eq!(names(&platform, "/v2/service_brokers", "name").await, ["pg-broker"]);
    assert_eq!(platform.get("/v2/services").await["total_results"], 1);

    // A developer of the default org sees only what their org may use.
    assert!(
        platform
            .wf(&["login", "-a", &platform.api, "-u", "admin", "-p", &platform.admin_password()])
            .await
            .status
            .success()
    );
    assert!(platform.wf(&["create-user", "dev", "dev-pw"]).await.status.success());
    assert!(platform.wf(&["set-space-role", "dev", "default", "dev", "SpaceDeveloper"]).await.status.success());
    let (status, tokens) =
        platform.oauth(&[("grant_type", "password"), ("username", "dev"), ("password", "dev-pw")]).await;
    assert_eq!(status, 200);
    let dev = tokens["access_token"].as_str().unwrap().to_string();
    let as_dev = |method: Method, path: String, body: Option<String>| {
        let (platform, dev) = (&platform, &dev);
        async move { platform.api_with_token(dev, method, &path, body.as_deref()).await }
    };
    let dev_plans = || async {
        let (_, list) = as_dev(Method::GET, "/v2/service_plans".into(), None).await;
        let mut names: Vec<String> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["entity"]["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    assert!(dev_plans().await.is_empty(), "private plans are not offered");
    assert_eq!(as_dev(Method::GET, "/v2/services".into(), None).await.1["total_results"], 0);
    let (status, _) =
        platform.api(Method::PUT, &format!("/v2/service_plans/{small}"), Some(r#"{"public": true}"#)).await;
    assert_eq!(status, 201);
    assert_eq!(dev_plans().await, ["small"]);
    assert_eq!(as_dev(Method::GET, "/v2/services".into(), None).await.1["total_results"], 1);
    let org = platform.get("/v2/organizations?q=name:default").await["resources"][0]["metadata"]["guid"]
        .as_str()
        .unwrap()
        .to_string();
    let visibility = json!({"service_plan_guid": large, "organization_guid": org}).to_string();
    let (status, created_visibility) =
        platform.api(Method::POST, "/v2/service_plan_visibilities", Some(&visibility)).await;
    assert_eq!(status, 201, "{created_visibility}");
    assert_eq!(dev_plans().await, ["large", "small"]);
    let (status, body) = platform.api(Method::POST, "/v2/service_plan_visibilities", Some(&visibility)).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("CF-ServicePlanVisibilityAlreadyExists")));
    let (status, body) = as_dev(Method::POST, "/v2/service_plan_visibilities".into(), Some(visibility.clone())).await;
    assert_eq!(status, 403, "{body}");
    let visibility_guid = created_visibility["metadata"]["guid"].as_str().unwrap();
    let (status, _) =
        platform.api(Method::DELETE, &format!("/v2/service_plan_visibilities/{visibility_guid}"), None).await;
    assert_eq!(status, 204);
    assert_eq!(dev_plans().await, ["small"]);

    // Only admins register brokers for the whole platform, and only they see them.
    let (status, _) = as_dev(
        Method::POST,
        "/v2/service_brokers".into(),
        Some(registration("mine", &format!("{url}/good-mine"), "secret")),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(as_dev(Method::GET, "/v2/service_brokers".into(), None).await.1["total_results"], 0);

    // Updating reads the catalog again: a plan gone is gone, the service kept.
    *broker.catalog.lock().unwrap() = catalog(&["small"]);
    let (status, body) =
        platform.api(Method::PUT, &format!("/v2/service_brokers/{guid}"), Some(r#"{"name": "pg"}"#)).await;
    assert_eq!((status, body["entity"]["name"].as_str()), (201, Some("pg")), "{body}");
    assert_eq!(names(&platform, "/v2/service_plans", "name").await, ["small"]);
    assert_eq!(platform.get("/v2/services").await["resources"][0]["metadata"]["guid"], service_guid.as_str());

    let (status, _) = platform.api(Method::DELETE, &format!("/v2/service_brokers/{guid}"), None).await;
    assert_eq!(status, 204);
    assert_eq!(platform.get("/v2/services").await["total_results"], 0);
    assert_eq!(platform.get("/v2/service_plans").await["total_results"], 0);
    platform.shutdown().await;
}

/// The same through `wf`: register, list, enable and disable access, see the marketplace, delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brokers_and_the_marketplace_from_wf() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let (url, _broker) = start_broker().await;
    let run = |args: Vec<String>| {
        let platform = &platform;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = platform.wf(&args).await;
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "wf {args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
            stdout
        }
    };
    let args = |text: &str| text.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    run(args(&format!("create-service-broker pg broker secret {url}/good"))).await;
    assert!(run(args("service-brokers")).await.contains(&format!("pg                       {url}/good")));
    let market = run(args("marketplace")).await;
    assert!(market.contains("pgsql") && market.contains("small, large") && market.contains("PostgreSQL"), "{market}");
    run(args("enable-service-access pgsql -p small -o default")).await;
    run(args("enable-service-access pgsql -p small -o default")).await; // already visible: fine
    let visibilities = platform.get("/v2/service_plan_visibilities").await;
    assert_eq!(visibilities["total_results"], 1, "{visibilities}");
    let public = || async { platform.get("/v2/service_plans?q=public:true").await["total_results"].as_u64().unwrap() };
    assert_eq!(platform.get("/v2/service_plans?q=public:false").await["total_results"], 2);
    let (status, body) = platform.api(Method::GET, "/v2/service_plans?q=public:maybe", None).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("CF-BadQueryParameter")));
    assert_eq!(public().await, 0);
    run(args("enable-service-access pgsql")).await;
    assert_eq!(public().await, 2);
    run(args("disable-service-access pgsql -p small -o default")).await;
    assert_eq!(platform.get("/v2/service_plan_visibilities").await["total_results"], 0);
    run(args("enable-service-access pgsql -p large -o default")).await;
    run(args("disable-service-access pgsql")).await;
    assert_eq!(public().await, 0, "private again");
    assert_eq!(platform.get("/v2/service_plan_visibilities").await["total_results"], 0, "and for every org");
    run(args("delete-service-broker pg -f")).await;
    assert!(!run(args("marketplace")).await.contains("pgsql"));
    platform.shutdown().await;
}
