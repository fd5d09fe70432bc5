//! Brokered service instances end to end, against a broker of the test's
//! own (a real HTTP server on loopback): provision, update, rename and
//! deprovision, synchronous and asynchronous (202, then `last_operation`
//! polled by the CC); bindings and service keys made and deleted at the
//! broker; VCAP_SERVICES carrying the broker's credentials under the
//! service's label; failures (5xx, 400 with a description, timeouts, a
//! broker that needs async) giving CF's errors, leaving no instance behind
//! and deleting at the broker what may have been made (orphan
//! mitigation); quotas on instances and paid plans; plans gone from a
//! catalog staying inactive while instances use them.

mod common;

use std::time::Duration;

use common::broker::{Broker, catalog, start_broker};
use common::{TestPlatform, eventually};
use reqwest::Method;
use serde_json::{Value, json};

/// A platform that polls brokers every 100 ms and waits 1 s for an answer.
async fn platform(database_url: Option<String>) -> TestPlatform {
    TestPlatform::start_configured("local:", database_url, |config| {
        config.broker_poll_interval_ms = 100;
        config.broker_client_timeout_seconds = 1;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    instances_bindings_and_keys(platform(None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    match common::fresh_postgres().await {
        Some(db) => instances_bindings_and_keys(platform(Some(db)).await).await,
        None => eprintln!("skipped: set WF_TEST_DATABASE_URL=postgres://… to run on PostgreSQL"),
    }
}

fn guid(resource: &Value) -> String {
    resource["metadata"]["guid"].as_str().unwrap().to_string()
}

struct World<'a> {
    platform: &'a TestPlatform,
    broker: Broker,
    space: String,
    org: String,
}

impl World<'_> {
    async fn plan(&self, name: &str) -> String {
        guid(&self.platform.get(&format!("/v2/service_plans?q=name:{name}")).await["resources"][0])
    }

    async fn create(&self, name: &str, plan: &str, extra: Value, accepts_incomplete: bool) -> (u16, Value) {
        let mut body = json!({"name": name, "space_guid": self.space, "service_plan_guid": self.plan(plan).await});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let path =
            if accepts_incomplete { "/v2/service_instances?accepts_incomplete=true" } else { "/v2/service_instances" };
        self.platform.api(Method::POST, path, Some(&body.to_string())).await
    }

    async fn instance_names(&self) -> Vec<String> {
        let list = self.platform.get(&format!("/v2/spaces/{}/service_instances", self.space)).await;
        common::sorted_field(&list, "name")
    }

    /// Waits until the instance's last operation is no longer in progress.
    async fn settled(&self, guid: &str) -> Value {
        let platform = self.platform;
        eventually("the broker operation ends", Duration::from_secs(15), || async move {
            let (status, instance) = platform.api(Method::GET, &format!("/v2/service_instances/{guid}"), None).await;
            if status == 404 {
                return Some(Value::Null);
            }
            (instance["entity"]["last_operation"]["state"] != "in progress").then_some(instance)
        })
        .await
    }
}

async fn instances_bindings_and_keys(platform: TestPlatform) {
    let (url, broker) = start_broker().await;
    let registration = json!({"name": "pg", "broker_url": url, "auth_username": "u", "auth_password": "p"});
    let (status, body) = platform.api(Method::POST, "/v2/service_brokers", Some(&registration.to_string())).await;
    assert_eq!(status, 201, "{body}");
    for plan in platform.get("/v2/service_plans").await["resources"].as_array().unwrap() {
        let path = format!("/v2/service_plans/{}", guid(plan));
        assert_eq!(platform.api(Method::PUT, &path, Some(r#"{"public":true}"#)).await.0, 201);
    }
    let space = platform.get("/v2/spaces?q=name:dev").await["resources"][0].clone();
    let world = World {
        platform: &platform,
        broker: broker.clone(),
        org: space["entity"]["organization_guid"].as_str().unwrap().to_string(),
        space: guid(&space),
    };

    synchronous_lifecycle(&world).await;
    asynchronous_operations(&world).await;
    failures_leave_nothing_behind(&world).await;
    quotas_and_retired_plans(&world).await;
    platform.shutdown().await;
}

async fn synchronous_lifecycle(world: &World<'_>) {
    let platform = world.platform;
    let (status, instance) =
        world.create("db", "small", json!({"parameters": {"size": 10}, "tags": ["mine"]}), true).await;
    assert_eq!(status, 201, "{instance}");
    let db = guid(&instance);
    let e = &instance["entity"];
    assert_eq!(e["type"], "managed_service_instance");
    assert_eq!(
        (e["last_operation"]["type"].as_str(), e["last_operation"]["state"].as_str()),
        (Some("create"), Some("succeeded"))
    );
    assert_eq!(e["dashboard_url"], format!("http://dash.example/{db}"));
    assert_eq!(e["service_plan_guid"], world.plan("small").await);
    // cf services reads the service from the instance.
    let service = platform.get("/v2/services?q=label:pgsql").await;
    assert_eq!(e["service_guid"], service["resources"][0]["metadata"]["guid"], "{instance}");
    let provisions = world.broker.requests_to("PUT", &format!("/v2/service_instances/{db}"));
    let (_, path, body) = &provisions[0];
    assert_eq!(path, &format!("/v2/service_instances/{db}?accepts_incomplete=true"));
    assert_eq!((body["service_id"].as_str(), body["plan_id"].as_str()), (Some("svc-pg"), Some("plan-small")));
    assert_eq!(body["parameters"], json!({"size": 10}));
    assert_eq!(body["space_guid"], world.space.as_str());
    assert_eq!(body["organization_guid"], world.org.as_str());
    assert_eq!(body["context"]["platform"], "cloudfoundry");
    assert_eq!(body["context"]["instance_name"], "db");

    // Listed as CF lists it, beside a user-provided one in the space.
    let ups = json!({"name": "ups", "space_guid": world.space, "credentials": {"k": "v"}}).to_string();
    assert_eq!(platform.api(Method::POST, "/v2/user_provided_service_instances", Some(&ups)).await.0, 201);
    assert_eq!(platform.get("/v2/service_instances").await["total_results"], 1, "brokered instances only");
    assert_eq!(world.instance_names().await, ["db", "ups"]);
    let by_plan = platform.get(&format!("/v2/service_plans/{}/service_instances", world.plan("small").await)).await;
    assert_eq!(by_plan["total_results"], 1);
    let (status, taken) = world.create("db", "small", json!({}), true).await;
    assert_eq!((status, taken["error_code"].as_str()), (400, Some("CF-ServiceInstanceNameTaken")));

    // A binding: the broker makes credentials; VCAP_SERVICES carries them.
    let app = json!({"name": "web", "space_guid": world.space}).to_string();
    let (_, app) = platform.api(Method::POST, "/v2/apps", Some(&app)).await;
    let app = guid(&app);
    let binding = json!({"app_guid": app, "service_instance_guid": db, "parameters": {"role": "rw"}}).to_string();
    let (status, bound) = platform.api(Method::POST, "/v2/service_bindings", Some(&binding)).await;
    assert_eq!(status, 201, "{bound}");
    let binding_guid = guid(&bound);
    let binds = world.broker.requests_to("PUT", &format!("/v2/service_instances/{db}/service_bindings/{binding_guid}"));
    assert_eq!(binds.len(), 1);
    assert_eq!(binds[0].2["app_guid"], app.as_str());
    assert_eq!(binds[0].2["bind_resource"]["app_guid"], app.as_str());
    assert_eq!(binds[0].2["parameters"], json!({"role": "rw"}));
    let uri = bound["entity"]["credentials"]["uri"].as_str().unwrap().to_string();
    assert!(uri.starts_with("postgres://u"), "{bound}");
    let (status, _) = platform.api(Method::POST, "/v2/service_bindings", Some(&binding)).await;
    assert_eq!(status, 400, "bound once");
    let env = platform.get(&format!("/v2/apps/{app}/env")).await;
    let entry = &env["system_env_json"]["VCAP_SERVICES"]["pgsql"][0];
    assert_eq!(entry["name"], "db");
    assert_eq!(entry["instance_name"], "db");
    assert_eq!(entry["label"], "pgsql");
    assert_eq!(entry["plan"], "small");
    assert_eq!(entry["tags"], json!(["sql", "postgres", "mine"]));
    assert_eq!(entry["credentials"]["uri"], uri.as_str());
    assert_eq!(entry["volume_mounts"], json!([]));
    // A service that is not bindable.
    let (_, queue) = world.create("q", "basic", json!({}), false).await;
    let unbindable = json!({"app_guid": app, "service_instance_guid": guid(&queue)}).to_string();
    let (status, error) = platform.api(Method::POST, "/v2/service_bindings", Some(&unbindable)).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-UnbindableService")));

    // A key: a binding without an app.
    let key = json!({"name": "k1", "service_instance_guid": db}).to_string();
    let (status, key) = platform.api(Method::POST, "/v2/service_keys", Some(&key)).await;
    assert_eq!(status, 201, "{key}");
    let key_guid = guid(&key);
    let keyed = world.broker.requests_to("PUT", &format!("/v2/service_instances/{db}/service_bindings/{key_guid}"));
    assert!(keyed[0].2.get("app_guid").is_none(), "a key has no app: {:?}", keyed[0].2);
    assert!(key["entity"]["credentials"]["uri"].as_str().is_some());
    let listed = platform.get(&format!("/v2/service_instances/{db}/service_keys")).await;
    assert_eq!(listed["total_results"], 1);
    let ups_guid = guid(&platform.get("/v2/user_provided_service_instances?q=name:ups").await["resources"][0]);
    let ups_key = json!({"name": "k", "service_instance_guid": ups_guid}).to_string();
    let (status, error) = platform.api(Method::POST, "/v2/service_keys", Some(&ups_key)).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-ServiceKeyNotSupported")));

    // Update: a new plan and parameters go to the broker; a new name does not.
    let calls = world.broker.requests.lock().unwrap().len();
    let (status, renamed) =
        platform.api(Method::PUT, &format!("/v2/service_instances/{db}"), Some(r#"{"name":"maindb"}"#)).await;
    assert_eq!((status, renamed["entity"]["name"].as_str()), (201, Some("maindb")));
    assert_eq!(world.broker.requests.lock().unwrap().len(), calls, "a rename is the CC's alone");
    let change = json!({"service_plan_guid": world.plan("large").await, "parameters": {"size": 20}}).to_string();
    let (status, updated) =
        platform.api(Method::PUT, &format!("/v2/service_instances/{db}?accepts_incomplete=true"), Some(&change)).await;
    assert_eq!(status, 201, "{updated}");
    assert_eq!(updated["entity"]["service_plan_guid"], world.plan("large").await);
    assert_eq!(updated["entity"]["last_operation"]["type"], "update");
    let patch = &world.broker.requests_to("PATCH", &format!("/v2/service_instances/{db}"))[0].2;
    assert_eq!(
        (patch["plan_id"].as_str(), patch["previous_values"]["plan_id"].as_str()),
        (Some("plan-large"), Some("plan-small"))
    );
    assert_eq!(patch["parameters"], json!({"size": 20}));
    let other_service = json!({"service_plan_guid": world.plan("basic").await}).to_string();
    let (status, error) = platform.api(Method::PUT, &format!("/v2/service_instances/{db}"), Some(&other_service)).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-ServicePlanInvalid")));
    let (status, error) =
        platform.api(Method::PUT, &format!("/v2/user_provided_service_instances/{db}"), Some("{}")).await;
    assert_eq!(status, 404, "a brokered instance is not user-provided: {error}");

    // A failed update changes nothing, says why, and leaves the instance usable.
    let failing = json!({"name": "renamed", "parameters": {"mode": "fail-500"}}).to_string();
    let (status, error) = platform.api(Method::PUT, &format!("/v2/service_instances/{db}"), Some(&failing)).await;
    assert_eq!((status, error["error_code"].as_str()), (502, Some("CF-ServiceBrokerBadResponse")), "{error}");
    let after = platform.get(&format!("/v2/service_instances/{db}")).await;
    assert_eq!(after["entity"]["name"], "maindb", "the name is kept when the broker fails");
    let operation = &after["entity"]["last_operation"];
    assert_eq!((operation["type"].as_str(), operation["state"].as_str()), (Some("update"), Some("failed")));
    let key2 = json!({"name": "k2", "service_instance_guid": db}).to_string();
    let (status, key2) = platform.api(Method::POST, "/v2/service_keys", Some(&key2)).await;
    assert_eq!(status, 201, "still usable after a failed update: {key2}");
    let path = format!("/v2/service_keys/{}", guid(&key2));
    assert_eq!(platform.api(Method::DELETE, &path, None).await.0, 204);

    // Delete: not while bound, unless recursive — then unbind, forget the key, deprovision.
    let (status, error) = platform.api(Method::DELETE, &format!("/v2/service_instances/{db}"), None).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-AssociationNotEmpty")));
    let (status, _) = platform
        .api(Method::DELETE, &format!("/v2/service_instances/{db}?recursive=true&accepts_incomplete=true"), None)
        .await;
    assert_eq!(status, 204);
    for unbound in [&binding_guid, &key_guid] {
        let path =
            format!("/v2/service_instances/{db}/service_bindings/{unbound}?plan_id=plan-large&service_id=svc-pg");
        assert_eq!(world.broker.requests_to("DELETE", &path).len(), 1, "unbound {unbound} at the broker");
    }
    assert_eq!(world.broker.requests_to("DELETE", &format!("/v2/service_instances/{db}?")).len(), 1);
    assert!(!world.broker.instances.lock().unwrap().contains_key(&db));
    assert_eq!(world.instance_names().await, ["q", "ups"]);
    assert_eq!(platform.get(&format!("/v2/apps/{app}/service_bindings")).await["total_results"], 0);
}

async fn asynchronous_operations(world: &World<'_>) {
    let platform = world.platform;
    // A broker that only works asynchronously, for a client that does not accept that.
    let (status, error) = world.create("slow1", "slow", json!({}), false).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-ServiceBrokerAsyncRequired")), "{error}");
    assert!(!world.instance_names().await.contains(&"slow1".to_string()), "nothing left behind");

    let (status, instance) = world.create("slow1", "slow", json!({}), true).await;
    assert_eq!(status, 202, "{instance}");
    let slow = guid(&instance);
    assert_eq!(instance["entity"]["last_operation"]["state"], "in progress");
    assert_eq!(instance["entity"]["dashboard_url"], format!("http://dash.example/{slow}"), "given in the first answer");
    let binding_early = json!({"name": "k", "service_instance_guid": slow}).to_string();
    let (status, error) = platform.api(Method::POST, "/v2/service_keys", Some(&binding_early)).await;
    assert_eq!((status, error["error_code"].as_str()), (409, Some("CF-AsyncServiceInstanceOperationInProgress")));
    let done = world.settled(&slow).await;
    assert_eq!(done["entity"]["last_operation"]["state"], "succeeded", "{done}");
    assert_eq!(done["entity"]["last_operation"]["description"], "ready");
    let polls = world.broker.requests_to("GET", &format!("/v2/service_instances/{slow}/last_operation"));
    assert_eq!(polls.len(), 3, "polled until it ended: {polls:?}");
    assert!(polls[0].1.contains(&format!("operation=provision-{slow}")), "{polls:?}");
    assert!(polls[0].1.contains("plan_id=plan-slow"), "{polls:?}");

    // An asynchronous failure: the instance stays, failed, to be deleted.
    let (status, failing) = world.create("slow2", "slow", json!({"parameters": {"mode": "fail-async"}}), true).await;
    assert_eq!(status, 202);
    let failing = guid(&failing);
    let failed = world.settled(&failing).await;
    let operation = &failed["entity"]["last_operation"];
    assert_eq!((operation["type"].as_str(), operation["state"].as_str()), (Some("create"), Some("failed")));
    assert_eq!(operation["description"], "no capacity left");

    // An asynchronous delete: 202, then gone when the broker says 410.
    let (status, deleting) =
        platform.api(Method::DELETE, &format!("/v2/service_instances/{slow}?accepts_incomplete=true"), None).await;
    assert_eq!(status, 202, "{deleting}");
    assert_eq!(deleting["entity"]["last_operation"]["type"], "delete");
    assert_eq!(world.settled(&slow).await, Value::Null, "deleted when the broker finished");
    let (status, _) =
        platform.api(Method::DELETE, &format!("/v2/service_instances/{failing}?accepts_incomplete=true"), None).await;
    assert!(status == 202 || status == 204, "{status}");
    assert_eq!(world.settled(&failing).await, Value::Null);
}

async fn failures_leave_nothing_behind(world: &World<'_>) {
    let before = world.instance_names().await;
    for (mode, status, code, orphan) in [
        ("fail-500", 502, "CF-ServiceBrokerBadResponse", true),
        ("reject", 502, "CF-ServiceBrokerRequestRejected", false),
        ("slow-answer", 502, "CF-ServiceBrokerApiTimeout", true),
        ("garbage", 502, "CF-ServiceBrokerResponseMalformed", true),
    ] {
        let name = format!("broken-{mode}");
        let (got, error) = world.create(&name, "small", json!({"parameters": {"mode": mode}}), true).await;
        assert_eq!((got, error["error_code"].as_str()), (status, Some(code)), "{mode}: {error}");
        if mode == "reject" {
            let description = error["description"].as_str().unwrap();
            assert!(description.contains("size must be small or large"), "the broker's words: {description}");
        }
        assert_eq!(world.instance_names().await, before, "{mode}: no instance left behind");
        let provisions: Vec<String> = world
            .broker
            .requests_to("PUT", "/v2/service_instances/")
            .into_iter()
            .filter(|(_, _, body)| common::broker::mode(body) == mode)
            .map(|(_, path, _)| path.split('?').next().unwrap().to_string())
            .collect();
        let id = provisions.last().unwrap().trim_start_matches("/v2/service_instances/").to_string();
        if orphan {
            let broker = world.broker.clone();
            eventually(&format!("{mode}: the orphan is deleted at the broker"), Duration::from_secs(10), || {
                let broker = broker.clone();
                let id = id.clone();
                async move {
                    (!broker.requests_to("DELETE", &format!("/v2/service_instances/{id}?")).is_empty()).then_some(())
                }
            })
            .await;
        } else {
            assert!(world.broker.requests_to("DELETE", &format!("/v2/service_instances/{id}?")).is_empty());
        }
    }
    // A binding the broker failed to make is unbound there too.
    let (_, instance) = world.create("for-binding", "small", json!({}), true).await;
    let instance = guid(&instance);
    let app = json!({"name": "web2", "space_guid": world.space}).to_string();
    let (_, app) = world.platform.api(Method::POST, "/v2/apps", Some(&app)).await;
    let binding =
        json!({"app_guid": guid(&app), "service_instance_guid": instance, "parameters": {"mode": "fail-500"}})
            .to_string();
    let (status, error) = world.platform.api(Method::POST, "/v2/service_bindings", Some(&binding)).await;
    assert_eq!((status, error["error_code"].as_str()), (502, Some("CF-ServiceBrokerBadResponse")));
    assert_eq!(world.platform.get(&format!("/v2/apps/{}/service_bindings", guid(&app))).await["total_results"], 0);
    let broker = world.broker.clone();
    eventually("the failed binding is deleted at the broker", Duration::from_secs(10), || {
        let broker = broker.clone();
        let prefix = format!("/v2/service_instances/{instance}/service_bindings/");
        async move { (!broker.requests_to("DELETE", &prefix).is_empty()).then_some(()) }
    })
    .await;
}

async fn quotas_and_retired_plans(world: &World<'_>) {
    let platform = world.platform;
    // A space quota allowing no more instances and no paid plans.
    let used = platform.get("/v2/service_instances").await["total_results"].as_i64().unwrap();
    let quota = json!({"name": "space-tight", "organization_guid": world.org, "non_basic_services_allowed": false,
        "total_services": used, "memory_limit": 1024, "total_routes": 10})
    .to_string();
    let (status, quota) = platform.api(Method::POST, "/v2/space_quota_definitions", Some(&quota)).await;
    assert_eq!(status, 201, "{quota}");
    let assignment = format!("/v2/space_quota_definitions/{}/spaces/{}", guid(&quota), world.space);
    assert_eq!(platform.api(Method::PUT, &assignment, None).await.0, 201);
    let (status, error) = world.create("paid", "large", json!({}), true).await;
    assert_eq!(
        (status, error["error_code"].as_str()),
        (400, Some("CF-ServiceInstanceServicePlanNotAllowedBySpaceQuota"))
    );
    let (status, error) = world.create("too-many", "small", json!({}), true).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-ServiceInstanceSpaceQuotaExceeded")));
    assert_eq!(platform.api(Method::DELETE, &assignment, None).await.0, 204);

    // An org quota allowing one more instance and no paid plans.
    let quota = json!({"name": "tight", "non_basic_services_allowed": false, "total_services": used + 1,
        "memory_limit": 10240, "total_routes": 100})
    .to_string();
    let (status, quota) = platform.api(Method::POST, "/v2/quota_definitions", Some(&quota)).await;
    assert_eq!(status, 201, "{quota}");
    let path = format!("/v2/organizations/{}", world.org);
    let body = json!({"quota_definition_guid": guid(&quota)}).to_string();
    assert_eq!(platform.api(Method::PUT, &path, Some(&body)).await.0, 201);
    let (status, error) = world.create("paid", "large", json!({}), true).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-ServiceInstanceServicePlanNotAllowed")));
    assert_eq!(world.create("one-more", "small", json!({}), true).await.0, 201);
    let (status, error) = world.create("too-many", "small", json!({}), true).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-ServiceInstanceQuotaExceeded")));

    // The broker drops plan "small", which instances use: it stays, inactive.
    let small = world.plan("small").await;
    *world.broker.catalog.lock().unwrap() = catalog(&["large", "slow"]);
    let broker = guid(&platform.get("/v2/service_brokers").await["resources"][0]);
    let (status, _) = platform.api(Method::PUT, &format!("/v2/service_brokers/{broker}"), Some("{}")).await;
    assert_eq!(status, 201);
    let plan = platform.get(&format!("/v2/service_plans/{small}")).await;
    assert_eq!(plan["entity"]["active"], false, "{plan}");
    let body = json!({"name": "late", "space_guid": world.space, "service_plan_guid": small}).to_string();
    let (status, error) = platform.api(Method::POST, "/v2/service_instances", Some(&body)).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-ServicePlanInvalid")), "{error}");
    let (status, error) = platform.api(Method::DELETE, &format!("/v2/service_brokers/{broker}"), None).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-ServiceBrokerNotRemovable")));
}

/// Runs `wf`, asserting it succeeds; returns its stdout.
async fn wf_ok(platform: &TestPlatform, args: &[&str]) -> String {
    let out = platform.wf(args).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wf {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brokered_services_from_wf_and_who_sees_them() {
    let platform = platform(None).await;
    let (url, broker) = start_broker().await;
    platform.login().await;
    wf_ok(&platform, &["create-service-broker", "pgb", "u", "p", &url]).await;
    wf_ok(&platform, &["rename-service-broker", "pgb", "pg"]).await;
    wf_ok(&platform, &["update-service-broker", "pg", "u", "p", &url]).await;
    let brokers = wf_ok(&platform, &["service-brokers"]).await;
    assert!(brokers.lines().any(|l| l.split_whitespace().eq(["pg", url.as_str()])) && !brokers.contains("pgb"));
    wf_ok(&platform, &["enable-service-access", "pgsql"]).await;
    let marketplace = wf_ok(&platform, &["marketplace"]).await;
    assert!(marketplace.contains("pgsql") && marketplace.contains("small"), "{marketplace}");

    let out = wf_ok(&platform, &["create-service", "pgsql", "small", "db", "-c", r#"{"size":1}"#, "-t", "a, b"]).await;
    assert!(out.contains("Created service db"), "{out}");
    let out = wf_ok(&platform, &["create-service", "pgsql", "slow", "slowdb"]).await;
    assert!(out.contains("Create in progress"), "{out}");
    let shown = eventually("slowdb is ready", Duration::from_secs(15), || async {
        let shown = wf_ok(&platform, &["service", "slowdb"]).await;
        shown.contains("create succeeded").then_some(shown)
    })
    .await;
    assert!(shown.contains("dashboard:       http://dash.example/"), "{shown}");
    let bad = platform.wf(&["create-service", "pgsql", "small", "x", "-c", "[1]"]).await;
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("JSON object"));

    let app = json!({"name": "web", "space_guid": platform.get("/v2/spaces?q=name:dev").await["resources"][0]["metadata"]["guid"]});
    assert_eq!(platform.api(Method::POST, "/v2/apps", Some(&app.to_string())).await.0, 201);
    wf_ok(&platform, &["bind-service", "web", "db", "-c", r#"{"role":"ro"}"#]).await;
    let binds = broker.requests_to("PUT", "/v2/service_instances/");
    assert!(
        binds.iter().any(|(_, path, body)| path.contains("/service_bindings/") && body["parameters"]["role"] == "ro")
    );
    let listed = wf_ok(&platform, &["services"]).await;
    let db_line = listed.lines().find(|l| l.starts_with("db ")).unwrap_or_default();
    for word in ["pgsql", "small", "create succeeded", "web"] {
        assert!(db_line.contains(word), "{word} in {listed}");
    }
    let shown = wf_ok(&platform, &["service", "db"]).await;
    assert!(shown.contains("tags:            a, b"), "{shown}");

    wf_ok(&platform, &["create-service-key", "db", "k1"]).await;
    assert!(wf_ok(&platform, &["service-keys", "db"]).await.contains("k1"));
    let key: Value = serde_json::from_str(&wf_ok(&platform, &["service-key", "db", "k1"]).await).unwrap();
    assert!(key["uri"].as_str().unwrap().starts_with("postgres://"), "{key}");

    wf_ok(&platform, &["update-service", "db", "-p", "large"]).await;
    assert!(wf_ok(&platform, &["service", "db"]).await.contains("plan:            large"));
    wf_ok(&platform, &["rename-service", "db", "maindb"]).await;

    // A developer of another space neither sees nor binds it.
    let org = platform.get("/v2/organizations").await["resources"][0]["metadata"]["guid"].as_str().unwrap().to_string();
    let space = json!({"name": "elsewhere", "organization_guid": org}).to_string();
    let (_, elsewhere) = platform.api(Method::POST, "/v2/spaces", Some(&space)).await;
    wf_ok(&platform, &["create-user", "eve", "eve-pw"]).await;
    let org_name =
        platform.get(&format!("/v2/organizations/{org}")).await["entity"]["name"].as_str().unwrap().to_string();
    wf_ok(&platform, &["set-space-role", "eve", &org_name, "elsewhere", "SpaceDeveloper"]).await;
    let (_, tokens) = platform.oauth(&[("grant_type", "password"), ("username", "eve"), ("password", "eve-pw")]).await;
    let eve = tokens["access_token"].as_str().unwrap().to_string();
    let as_eve = |method: Method, path: String, body: Option<String>| {
        let (platform, eve) = (&platform, &eve);
        async move { platform.api_with_token(eve, method, &path, body.as_deref()).await }
    };
    let maindb = guid(&platform.get("/v2/service_instances?q=name:maindb").await["resources"][0]);
    assert_eq!(as_eve(Method::GET, "/v2/service_instances".into(), None).await.1["total_results"], 0);
    assert_eq!(as_eve(Method::GET, format!("/v2/service_instances/{maindb}"), None).await.0, 404);
    let app = json!({"name": "eve-app", "space_guid": guid(&elsewhere)}).to_string();
    let (status, app) = as_eve(Method::POST, "/v2/apps".into(), Some(app)).await;
    assert_eq!(status, 201, "{app}");
    let binding = json!({"app_guid": guid(&app), "service_instance_guid": maindb}).to_string();
    let (status, error) = as_eve(Method::POST, "/v2/service_bindings".into(), Some(binding)).await;
    assert_eq!((status, error["error_code"].as_str()), (404, Some("CF-ServiceInstanceNotFound")));
    let (status, _) = as_eve(Method::DELETE, format!("/v2/service_instances/{maindb}"), None).await;
    assert_eq!(status, 404);

    // A broker scoped to space dev: its plans are usable there at once, and
    // unseen elsewhere.
    let (scoped_url, _scoped) = start_broker().await;
    let dev =
        platform.get("/v2/spaces?q=name:dev").await["resources"][0]["metadata"]["guid"].as_str().unwrap().to_string();
    let registration = json!({"name": "scoped", "broker_url": scoped_url, "auth_username": "u", "auth_password": "p", "space_guid": dev});
    let (status, scoped) = platform.api(Method::POST, "/v2/service_brokers", Some(&registration.to_string())).await;
    assert_eq!(status, 201, "{scoped}");
    let scoped_services = format!("/v2/services?q=service_broker_guid:{}", guid(&scoped));
    let scoped_service = guid(&platform.get(&scoped_services).await["resources"][0]);
    let scoped_plans = platform.get(&format!("/v2/services/{scoped_service}/service_plans")).await;
    let scoped_plan = guid(&scoped_plans["resources"][0]);
    let in_dev = json!({"name": "scoped-db", "space_guid": dev, "service_plan_guid": scoped_plan}).to_string();
    let (status, body) = platform.api(Method::POST, "/v2/service_instances", Some(&in_dev)).await;
    assert_eq!(status, 201, "a space-scoped plan needs no access enabled in its space: {body}");
    assert_eq!(as_eve(Method::GET, scoped_services.clone(), None).await.1["total_results"], 0);
    assert_eq!(as_eve(Method::GET, "/v2/service_brokers".into(), None).await.1["total_results"], 0);
    let (status, _) = as_eve(Method::GET, format!("/v2/service_plans/{scoped_plan}"), None).await;
    assert_eq!(status, 404, "plans of a broker scoped to another space are unseen");
    let elsewhere_db =
        json!({"name": "x", "space_guid": guid(&elsewhere), "service_plan_guid": scoped_plan}).to_string();
    let (status, error) = as_eve(Method::POST, "/v2/service_instances".into(), Some(elsewhere_db)).await;
    assert_eq!((status, error["error_code"].as_str()), (404, Some("CF-ServicePlanNotFound")), "{error}");
    let in_elsewhere =
        json!({"name": "x", "space_guid": guid(&elsewhere), "service_plan_guid": scoped_plan}).to_string();
    let (status, error) = platform.api(Method::POST, "/v2/service_instances", Some(&in_elsewhere)).await;
    assert_eq!((status, error["error_code"].as_str()), (403, Some("CF-ServiceInstanceSpaceNotAuthorized")));
    let path = format!("/v2/service_instances/{}?purge=true", guid(&body));
    assert_eq!(platform.api(Method::DELETE, &path, None).await.0, 204);

    // Deleting unbinds and deletes the key at the broker; purge asks nothing.
    wf_ok(&platform, &["delete-service", "maindb", "-f"]).await;
    assert!(broker.instances.lock().unwrap().len() == 1, "only slowdb is left at the broker");
    let calls = broker.requests.lock().unwrap().len();
    let purged = wf_ok(&platform, &["purge-service-instance", "slowdb", "-f"]).await;
    assert!(purged.contains("Purged service slowdb"), "{purged}");
    assert_eq!(broker.requests.lock().unwrap().len(), calls, "purge does not ask the broker");
    assert_eq!(platform.get("/v2/service_instances").await["total_results"], 0);
    platform.shutdown().await;
}
