//! Replays what cf CLI v6 sends (../shared/reference/cf-cli-v6-push.md) for
//! `cf api`, `cf auth`, `cf target`, `cf push`, then `cf apps`, `cf app`,
//! `cf scale`, `cf routes` and `cf delete`, checking every status and every
//! field the client reads.

mod common;

use std::time::Duration;

use common::{TestPlatform, eventually, repo, zip_of};
use reqwest::Method;
use serde_json::{Value, json};

struct Cf<'a> {
    platform: &'a TestPlatform,
    token: String,
}

impl Cf<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request =
            self.platform.http.request(method, format!("{}{path}", self.platform.api)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn expect(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let (got, value) = self.call(method.clone(), path, body).await;
        assert_eq!(got, status, "{method} {path}: {value}");
        value
    }
}

fn guid(v: &Value) -> String {
    v["metadata"]["guid"].as_str().expect("a guid").to_string()
}

on_both_databases!(cf_cli_v6_api_auth_target_push_and_manage, super::cf_cli_v6_api_auth_target_push_and_manage);

async fn cf_cli_v6_api_auth_target_push_and_manage(platform: TestPlatform) {
    let http = &platform.http;
    let api = &platform.api;

    // cf api
    let info: Value = http.get(format!("{api}/v2/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["api_version"], "2.128.0");
    let auth_endpoint = info["authorization_endpoint"].as_str().unwrap().to_string();
    assert!(info["token_endpoint"].is_string() && info["min_cli_version"].is_null());
    let login: Value = http.get(format!("{auth_endpoint}/login")).send().await.unwrap().json().await.unwrap();
    assert_eq!(login["prompts"]["password"][0], "password");
    let root: Value = http.get(format!("{api}/")).send().await.unwrap().json().await.unwrap();
    let v3 = root["links"]["cloud_controller_v3"]["meta"]["version"].as_str().unwrap();
    assert_eq!(v3, "3.99.0", "the cf CLI v8's minimum; v6 pushes through v2 whatever it is");
    assert_eq!(http.get(format!("{api}/v3")).send().await.unwrap().status().as_u16(), 200);

    // cf auth: password grant with client cf and an empty secret.
    let password = platform.admin_password();
    let (status, tokens) =
        platform.oauth(&[("grant_type", "password"), ("username", "admin"), ("password", &password)]).await;
    assert_eq!(status, 200);
    assert_eq!(tokens["token_type"], "bearer");
    let cf = Cf { platform: &platform, token: tokens["access_token"].as_str().unwrap().to_string() };

    // cf target -o default -s dev
    let orgs = cf.expect(Method::GET, "/v2/organizations?q=name%3Adefault", None, 200).await;
    assert_eq!(orgs["total_results"], 1);
    let org = guid(&orgs["resources"][0]);
    let spaces = cf.expect(Method::GET, &format!("/v2/organizations/{org}/spaces?q=name%3Adev"), None, 200).await;
    let space = guid(&spaces["resources"][0]);

    // cf push myapp -b wasm_buildpack -i 2 -m 64M
    let found = cf.expect(Method::GET, &format!("/v2/apps?q=name%3Amyapp&q=space_guid%3A{space}"), None, 200).await;
    assert_eq!(found["total_results"], 0);
    let domains = cf.expect(Method::GET, "/v2/shared_domains", None, 200).await;
    let domain = guid(&domains["resources"][0]);
    assert_eq!(domains["resources"][0]["entity"]["name"], "localhost");
    let private = cf.expect(Method::GET, &format!("/v2/organizations/{org}/private_domains"), None, 200).await;
    assert_eq!(private["total_results"], 0);
    let routes = cf
        .expect(Method::GET, &format!("/v2/routes?q=domain_guid%3A{domain}&q=host%3Amyapp&q=path%3A"), None, 200)
        .await;
    assert_eq!(routes["total_results"], 0);
    cf.expect(Method::GET, &format!("/v2/routes/reserved/domain/{domain}?host=myapp"), None, 404).await;
    let app = cf
        .expect(
            Method::POST,
            "/v2/apps",
            Some(json!({"buildpack":"wasm_buildpack","instances":2,"memory":64,"name":"myapp","space_guid":space})),
            201,
        )
        .await;
    let app_guid = guid(&app);
    assert_eq!(app["entity"]["state"], "STOPPED");
    assert_eq!(app["entity"]["buildpack"], "wasm_buildpack");
    let route = cf
        .expect(
            Method::POST,
            "/v2/routes",
            Some(json!({"host":"myapp","port":null,"domain_guid":domain,"space_guid":space})),
            201,
        )
        .await;
    let route_guid = guid(&route);
    cf.expect(Method::PUT, &format!("/v2/routes/{route_guid}/apps/{app_guid}"), None, 201).await;

    let wasm = std::fs::read(repo().join("examples/hello-http/hello_http.wasm")).unwrap();
    let sha1 = wasmfoundry::blobstore::sha1_hex(&wasm);
    let fingerprint = json!([{"fn":"hello_http.wasm","mode":"644","sha1":sha1,"size":wasm.len()}]);
    let matched = cf.expect(Method::PUT, "/v2/resource_match", Some(fingerprint), 200).await;
    assert_eq!(matched, json!([]), "nothing is in the pool yet");
    let zip = zip_of(&[("hello_http.wasm", &wasm)]);
    let form = reqwest::multipart::Form::new()
        .text("resources", "[]")
        .part("application", reqwest::multipart::Part::bytes(zip).file_name("application.zip"));
    let response = http
        .put(format!("{api}/v2/apps/{app_guid}/bits?async=true"))
        .bearer_auth(&cf.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let job: Value = response.json().await.unwrap();
    let job_url = job["metadata"]["url"].as_str().unwrap().to_string();
    let cf_ref = &cf;
    let job_url_ref = &job_url;
    eventually("the upload job finished", Duration::from_secs(20), || async move {
        let job = cf_ref.expect(Method::GET, job_url_ref, None, 200).await;
        assert_ne!(job["entity"]["status"], "failed", "{job}");
        (job["entity"]["status"] == "finished").then_some(())
    })
    .await;
    // The same file is now in the resource pool.
    let fingerprint = json!([{"fn":"hello_http.wasm","mode":"644","sha1":sha1,"size":wasm.len()}]);
    assert_eq!(cf.expect(Method::PUT, "/v2/resource_match", Some(fingerprint), 200).await.as_array().unwrap().len(), 1);

    let (status, refreshed) = platform
        .oauth(&[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())])
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let started = cf.expect(Method::PUT, &format!("/v2/apps/{app_guid}"), Some(json!({"state":"STARTED"})), 201).await;
    assert_eq!(started["entity"]["state"], "STARTED");
    let app_path = format!("/v2/apps/{app_guid}");
    eventually("staged", Duration::from_secs(30), || async {
        let app = cf.expect(Method::GET, &app_path, None, 200).await;
        (app["entity"]["package_state"] == "STAGED").then_some(())
    })
    .await;
    let instances_path = format!("/v2/apps/{app_guid}/instances");
    eventually("2 instances RUNNING", Duration::from_secs(30), || async {
        let (status, body) = cf.call(Method::GET, &instances_path, None).await;
        if status == 400 {
            assert_eq!(body["code"], 170002, "only NotStaged is expected while staging: {body}");
            return None;
        }
        (body["0"]["state"] == "RUNNING" && body["1"]["state"] == "RUNNING").then_some(())
    })
    .await;
    let stats = cf.expect(Method::GET, &format!("/v2/apps/{app_guid}/stats"), None, 200).await;
    assert_eq!(stats["0"]["state"], "RUNNING");
    assert_eq!(stats["0"]["stats"]["mem_quota"], 64 * 1024 * 1024);
    assert_eq!(stats["1"]["stats"]["uris"], json!(["myapp.localhost"]));
    assert!(stats["0"]["stats"]["usage"]["disk"].as_u64().unwrap() > 100_000, "the instance's files count: {stats}");
    let app_routes = cf.expect(Method::GET, &format!("/v2/apps/{app_guid}/routes"), None, 200).await;
    assert_eq!(app_routes["resources"][0]["entity"]["host"], "myapp");
    cf.expect(Method::GET, &format!("/v2/shared_domains/{domain}"), None, 200).await;
    let stack = app["entity"]["stack_guid"].as_str().unwrap();
    assert_eq!(cf.expect(Method::GET, &format!("/v2/stacks/{stack}"), None, 200).await["entity"]["name"], "wasi-p2");
    assert_eq!(platform.via_router("myapp.localhost", "/").await.0, 200);

    // cf apps
    let summary = cf.expect(Method::GET, &format!("/v2/spaces/{space}/summary"), None, 200).await;
    assert_eq!(summary["apps"][0]["name"], "myapp");
    assert_eq!(summary["apps"][0]["running_instances"], 2);
    assert_eq!(summary["apps"][0]["urls"], json!(["myapp.localhost"]));
    // cf app myapp
    let summary = cf.expect(Method::GET, &format!("/v2/apps/{app_guid}/summary"), None, 200).await;
    assert_eq!(summary["routes"][0]["domain"]["name"], "localhost");
    assert_eq!(summary["available_domains"][0]["name"], "localhost");
    assert_eq!(summary["memory"], 64);

    // cf scale myapp -i 3
    let scaled = cf.expect(Method::PUT, &app_path, Some(json!({"instances": 3})), 201).await;
    assert_eq!(scaled["entity"]["instances"], 3);
    eventually("3 instances RUNNING", Duration::from_secs(30), || async {
        let body = cf.expect(Method::GET, &instances_path, None, 200).await;
        (body["2"]["state"] == "RUNNING").then_some(())
    })
    .await;

    // cf routes
    let routes =
        cf.expect(Method::GET, &format!("/v2/spaces/{space}/routes?inline-relations-depth=1"), None, 200).await;
    assert_eq!(routes["resources"][0]["entity"]["domain"]["entity"]["name"], "localhost");
    assert_eq!(routes["resources"][0]["entity"]["apps"][0]["entity"]["name"], "myapp");

    // cf events myapp
    let events = cf.expect(Method::GET, &format!("/v2/events?q=actee%3A{app_guid}"), None, 200).await;
    let kinds: Vec<&str> =
        events["resources"].as_array().unwrap().iter().map(|e| e["entity"]["type"].as_str().unwrap()).collect();
    for kind in ["audit.app.create", "audit.app.map-route", "audit.app.start", "audit.app.update"] {
        assert!(kinds.contains(&kind), "{kind} recorded: {kinds:?}");
    }

    // cf create-user bob … ; cf set-space-role bob default dev SpaceDeveloper
    let (status, created) = cf
        .call(Method::POST, "/Users", Some(json!({"userName": "bob", "password": "pw", "emails": [{"value": "bob"}]})))
        .await;
    assert_eq!(status, 201, "{created}");
    cf.expect(Method::POST, "/v2/users", Some(json!({"guid": created["id"]})), 201).await;
    let flag = cf.expect(Method::GET, "/v2/config/feature_flags/set_roles_by_username", None, 200).await;
    assert_eq!(flag["enabled"], true);
    let users = cf.expect(Method::GET, "/Users?attributes=id,userName&filter=userName+Eq+%22bob%22", None, 200).await;
    assert_eq!(users["resources"][0]["id"], created["id"]);
    cf.expect(Method::PUT, &format!("/v2/organizations/{org}/users"), Some(json!({"username": "bob"})), 201).await;
    cf.expect(Method::PUT, &format!("/v2/spaces/{space}/developers"), Some(json!({"username": "bob"})), 201).await;
    let developers = cf.expect(Method::GET, &format!("/v2/spaces/{space}/developers"), None, 200).await;
    assert!(developers["resources"].as_array().unwrap().iter().any(|u| u["metadata"]["guid"] == created["id"]));

    // cf space dev / cf org default
    let v3: Value = http.get(format!("{api}/v3")).send().await.unwrap().json().await.unwrap();
    assert!(v3["links"]["isolation_segments"]["href"].is_string() && v3["links"]["spaces"]["href"].is_string());
    let segments = cf.expect(Method::GET, &format!("/v3/isolation_segments?organization_guids={org}"), None, 200).await;
    assert_eq!(segments["pagination"]["total_results"], 0);
    let segment =
        cf.expect(Method::GET, &format!("/v3/spaces/{space}/relationships/isolation_segment"), None, 200).await;
    assert!(segment["data"].is_null());
    for empty in
        ["service_instances?return_user_provided_service_instances=true", "security_groups", "staging_security_groups"]
    {
        assert_eq!(cf.expect(Method::GET, &format!("/v2/spaces/{space}/{empty}"), None, 200).await["total_results"], 0);
    }
    // cf delete-space / delete-org poll a job when deleting with async=true.
    let scratch =
        cf.expect(Method::POST, "/v2/spaces", Some(json!({"name": "scratch", "organization_guid": org})), 201).await;
    let job =
        cf.expect(Method::DELETE, &format!("/v2/spaces/{}?recursive=true&async=true", guid(&scratch)), None, 202).await;
    let job = cf.expect(Method::GET, job["metadata"]["url"].as_str().unwrap(), None, 200).await;
    assert_eq!(job["entity"]["status"], "finished");

    // cf delete myapp -f
    cf.expect(Method::DELETE, &format!("{app_path}?recursive=true"), None, 204).await;
    assert_eq!(cf.expect(Method::GET, &app_path, None, 404).await["error_code"], "CF-AppNotFound");
    eventually("the route is gone from the router", Duration::from_secs(10), || async {
        (platform.via_router("myapp.localhost", "/").await.0 == 404).then_some(())
    })
    .await;
    platform.shutdown().await;
}

on_both_databases!(cf_cli_v6_gaps, super::cf_cli_v6_gaps);

/// What the cf CLI v6 sends for `cf set-running-environment-variable-group`
/// and `set-staging-…` (and whether instances get them), `cf
/// restart-app-instance` (and v3's), `cf delete-user`, and a `cf
/// create-buildpack` of something that is no buildpack.
async fn cf_cli_v6_gaps(platform: TestPlatform) {
    let cf = Cf { platform: &platform, token: platform.token().await };
    let groups = "/v2/config/environment_variable_groups";
    let running = cf
        .expect(Method::PUT, &format!("{groups}/running"), Some(json!({"TIER": "gold", "GREETING": "group"})), 200)
        .await;
    assert_eq!(running, json!({"TIER": "gold", "GREETING": "group"}));
    cf.expect(Method::PUT, &format!("{groups}/staging"), Some(json!({"STAGED_WITH": "group"})), 200).await;
    let refused = cf.expect(Method::PUT, &format!("{groups}/running"), Some(json!({"VCAP_SERVICES": "{}"})), 400).await;
    assert_eq!(refused["error_code"], "CF-EnvironmentVariableGroupInvalid");
    assert_eq!(
        cf.expect(Method::GET, &format!("{groups}/running"), None, 200).await["TIER"],
        "gold",
        "a refusal keeps the group"
    );
    let v3 = cf.expect(Method::GET, "/v3/environment_variable_groups/staging", None, 200).await;
    assert_eq!(v3["var"]["STAGED_WITH"], "group");

    platform.login().await;
    platform.push("gaps", &repo().join("examples/hello-http"), &["-i", "2", "-m", "32M"]).await;
    let app = platform.app_guid("gaps").await;
    cf.expect(Method::PUT, &format!("/v2/apps/{app}"), Some(json!({"environment_json": {"GREETING": "own"}})), 201)
        .await;
    let instances = format!("/v2/apps/{app}/instances");
    eventually("2 instances of the new version RUNNING", Duration::from_secs(30), || async {
        let body = cf.expect(Method::GET, &instances, None, 200).await;
        (body["0"]["state"] == "RUNNING" && body["1"]["state"] == "RUNNING").then_some(())
    })
    .await;
    let env = cf.expect(Method::GET, &format!("/v2/apps/{app}/env"), None, 200).await;
    assert_eq!(
        (&env["running_env_json"]["TIER"], &env["staging_env_json"]["STAGED_WITH"]),
        (&json!("gold"), &json!("group"))
    );
    let env_log = format!("/v2/apps/{app}/instances/0/files/logs/env.log");
    let log = eventually("the instance's env.log", Duration::from_secs(30), || async {
        let response =
            platform.http.get(format!("{}{env_log}", platform.api)).bearer_auth(&cf.token).send().await.unwrap();
        let text = response.text().await.unwrap();
        text.contains("TIER").then_some(text)
    })
    .await;
    assert!(
        log.contains("export TIER=\"gold\"") && log.contains("export GREETING=\"own\""),
        "the app's own wins: {log}"
    );

    // cf restart-app-instance for index 0, v3's for index 1: each comes back as a new instance.
    let since = |body: &Value, index: &str| body[index]["since"].as_f64().unwrap_or_default();
    let before = cf.expect(Method::GET, &instances, None, 200).await;
    cf.expect(Method::DELETE, &format!("/v2/apps/{app}/instances/0"), None, 204).await;
    cf.expect(Method::DELETE, &format!("/v3/processes/{app}/instances/1"), None, 204).await;
    eventually("both instances restarted", Duration::from_secs(60), || async {
        let body = cf.expect(Method::GET, &instances, None, 200).await;
        let restarted = |index: &str| body[index]["state"] == "RUNNING" && since(&body, index) > since(&before, index);
        (restarted("0") && restarted("1")).then_some(())
    })
    .await;
    let out_of_range = cf.expect(Method::DELETE, &format!("/v2/apps/{app}/instances/7"), None, 400).await;
    assert_eq!(out_of_range["error_code"], "CF-InstancesError");

    // cf delete-user: the CC forgets the user's roles, then UAA the login.
    let (status, created) = platform
        .api(
            Method::POST,
            "/Users",
            Some(&json!({"userName": "bob", "password": "pw", "emails": [{"value": "bob"}]}).to_string()),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let bob = created["id"].as_str().unwrap().to_string();
    let org = cf.expect(Method::GET, "/v2/organizations?q=name%3Adefault", None, 200).await["resources"][0]["metadata"]
        ["guid"]
        .as_str()
        .unwrap()
        .to_string();
    cf.expect(Method::PUT, &format!("/v2/organizations/{org}/users/{bob}"), None, 201).await;
    let job = cf.expect(Method::DELETE, &format!("/v2/users/{bob}?async=true"), None, 202).await;
    assert_eq!(job["entity"]["status"], "finished");
    let members = cf.expect(Method::GET, &format!("/v2/organizations/{org}/users"), None, 200).await;
    assert!(
        members["resources"].as_array().unwrap().iter().all(|u| u["metadata"]["guid"] != bob.as_str()),
        "{members}"
    );
    let (status, _) = platform.api(Method::DELETE, &format!("/Users/{bob}"), None).await;
    assert_eq!(status, 200);
    cf.expect(Method::GET, &format!("/v2/users/{bob}"), None, 404).await;

    // cf create-buildpack junk.zip: the record goes with the refused bits.
    let made = cf.expect(Method::POST, "/v2/buildpacks", Some(json!({"name": "junk", "position": 1})), 201).await;
    let guid = made["metadata"]["guid"].as_str().unwrap().to_string();
    let form = reqwest::multipart::Form::new().part(
        "buildpack",
        reqwest::multipart::Part::bytes(zip_of(&[("README", b"no wasm here")])).file_name("junk.zip"),
    );
    let response = platform
        .http
        .put(format!("{}/v2/buildpacks/{guid}/bits", platform.api))
        .bearer_auth(&cf.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    cf.expect(Method::GET, &format!("/v2/buildpacks/{guid}"), None, 404).await;
    let names = cf.expect(Method::GET, "/v2/buildpacks", None, 200).await;
    assert!(names["resources"].as_array().unwrap().iter().all(|b| b["entity"]["name"] != "junk"));
    platform.shutdown().await;
}
