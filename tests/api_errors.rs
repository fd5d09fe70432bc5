//! Bad input gets CF's error body with the right code and status — never a
//! 500 — and never loses what was stored.

mod common;

use common::TestPlatform;
use reqwest::Method;
use serde_json::{Value, json};

fn assert_error(status: u16, body: &Value, expected_status: u16, code: u64, error_code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["error_code"], error_code, "{body}");
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
}

async fn space_guid(platform: &TestPlatform) -> String {
    platform.get("/v2/spaces").await["resources"][0]["metadata"]["guid"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked_on_sqlite() {
    tokens_are_checked(TestPlatform::start("local:").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked_on_postgres() {
    if let Some(platform) = common::postgres_platform().await {
        tokens_are_checked(platform).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_on_sqlite() {
    bad_requests_get_cf_errors_and_lose_nothing(TestPlatform::start("local:").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_on_postgres() {
    if let Some(platform) = common::postgres_platform().await {
        bad_requests_get_cf_errors_and_lose_nothing(platform).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_input_on_sqlite() {
    input_is_bounded(TestPlatform::start("local:").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_input_on_postgres() {
    let database = common::fresh_postgres().await.expect("WF_TEST_DATABASE_URL names a PostgreSQL server");
    input_is_bounded(TestPlatform::start_with("local:", Some(database)).await).await;
}

/// Bodies past their limit, names CF refuses, NUL characters anywhere:
/// each a CF error with its status, never a 500, and nothing stored lost.
async fn input_is_bounded(platform: TestPlatform) {
    let space = space_guid(&platform).await;
    let keeper = json!({"name": "keeper", "space_guid": space, "memory": 64}).to_string();
    let (status, created) = platform.api(Method::POST, "/v2/apps", Some(&keeper)).await;
    assert_eq!(status, 201, "{created}");
    let guid = created["metadata"]["guid"].as_str().unwrap().to_string();

    // 10 MB of JSON: 413 in v2's shape and in v3's.
    let huge = json!({"name": "x".repeat(10 * 1024 * 1024), "space_guid": space}).to_string();
    let (status, body) = platform.api(Method::POST, "/v2/apps", Some(&huge)).await;
    assert_error(status, &body, 413, 10001, "CF-RequestEntityTooLarge");
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{guid}"), Some(&huge)).await;
    assert_error(status, &body, 413, 10001, "CF-RequestEntityTooLarge");
    let (status, body) = platform.api(Method::POST, "/v3/apps", Some(&huge)).await;
    assert_eq!((status, body["errors"][0]["title"].as_str()), (413, Some("CF-RequestEntityTooLarge")), "{body}");

    // Names as CCNG takes them: at most 255 characters, no control characters.
    for name in ["n".repeat(10_000), "bell\u{7}".to_string(), "tab\tname".to_string()] {
        let body = json!({"name": name, "space_guid": space}).to_string();
        let (status, body) = platform.api(Method::POST, "/v2/apps", Some(&body)).await;
        assert_error(status, &body, 400, 100001, "CF-AppInvalid");
        let v3 = json!({"name": name, "relationships": {"space": {"data": {"guid": space}}}}).to_string();
        let (status, body) = platform.api(Method::POST, "/v3/apps", Some(&v3)).await;
        assert_eq!((status, body["errors"][0]["title"].as_str()), (422, Some("CF-UnprocessableEntity")), "{body}");
    }
    let longest = json!({"name": "n".repeat(255), "space_guid": space}).to_string();
    let (status, body) = platform.api(Method::POST, "/v2/apps", Some(&longest)).await;
    assert_eq!(status, 201, "255 characters are a name: {body}");
    let org = platform.get("/v2/organizations").await["resources"][0]["metadata"]["guid"].clone();
    let long_space = json!({"name": "s".repeat(256), "organization_guid": org}).to_string();
    let (status, body) = platform.api(Method::POST, "/v2/spaces", Some(&long_space)).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("CF-SpaceInvalid")), "{body}");

    // A NUL in any string of a body, a path or a query (no CCDB stores one).
    let nul = json!({"name": "a\u{0}b", "space_guid": space}).to_string();
    let (status, body) = platform.api(Method::POST, "/v2/apps", Some(&nul)).await;
    assert_error(status, &body, 400, 1001, "CF-MessageParseError");
    let env = json!({"environment_json": {"KEY": "v\u{0}"}}).to_string();
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{guid}"), Some(&env)).await;
    assert_error(status, &body, 400, 1001, "CF-MessageParseError");
    let v3 = json!({"name": "a\u{0}b", "relationships": {"space": {"data": {"guid": space}}}}).to_string();
    let (status, body) = platform.api(Method::POST, "/v3/apps", Some(&v3)).await;
    assert_eq!((status, body["errors"][0]["title"].as_str()), (400, Some("CF-MessageParseError")), "{body}");
    let (status, body) = platform.api(Method::GET, "/v2/apps/%00", None).await;
    assert_error(status, &body, 404, 10000, "CF-NotFound");
    let (status, body) = platform.api(Method::GET, "/v3/apps/a%00b", None).await;
    assert_eq!((status, body["errors"][0]["title"].as_str()), (404, Some("CF-NotFound")), "{body}");
    let (status, body) = platform.api(Method::GET, "/v2/apps?q=name:a%00", None).await;
    assert_error(status, &body, 400, 10005, "CF-BadQueryParameter");
    let (status, body) = platform.api(Method::GET, "/v3/apps?names=a%00", None).await;
    assert_eq!((status, body["errors"][0]["title"].as_str()), (400, Some("CF-BadQueryParameter")), "{body}");
    let group = json!({"KEY": "v\u{0}"}).to_string();
    let (status, body) =
        platform.api(Method::PUT, "/v2/config/environment_variable_groups/running", Some(&group)).await;
    assert_error(status, &body, 400, 1001, "CF-MessageParseError");
    let (status, body) =
        platform.oauth(&[("grant_type", "password"), ("username", "ad\u{0}min"), ("password", "x")]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")), "{body}");
    let user = json!({"userName": "u".repeat(300), "password": "p"}).to_string();
    let (status, body) = platform.api(Method::POST, "/Users", Some(&user)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scim_resource")), "{body}");

    // Sizes no DEA could hold, even for a stopped app.
    let (status, body) =
        platform.api(Method::PUT, &format!("/v2/apps/{guid}"), Some(r#"{"memory": 1000000000000}"#)).await;
    assert_error(status, &body, 400, 100006, "CF-AppMemoryInvalid");
    let (status, body) =
        platform.api(Method::PUT, &format!("/v2/apps/{guid}"), Some(r#"{"disk_quota": 1000000000000}"#)).await;
    assert_error(status, &body, 400, 100001, "CF-AppInvalid");
    assert!(body["description"].as_str().unwrap().contains("too much disk requested"), "{body}");
    let too_big = json!({"name": "too-big", "space_guid": space, "memory": 1_000_000_000_000_i64}).to_string();
    let (status, body) = platform.api(Method::POST, "/v2/apps", Some(&too_big)).await;
    assert_error(status, &body, 400, 100006, "CF-AppMemoryInvalid");
    let web = platform.get(&format!("/v3/apps/{guid}/processes/web")).await;
    let scale = format!("/v3/processes/{}/actions/scale", web["guid"].as_str().unwrap());
    let (status, body) = platform.api(Method::POST, &scale, Some(r#"{"memory_in_mb": 1000000000000}"#)).await;
    assert_eq!((status, body["errors"][0]["title"].as_str()), (400, Some("CF-AppMemoryInvalid")), "{body}");

    // Nothing stored was lost.
    let kept = platform.get(&format!("/v2/apps/{guid}")).await;
    assert_eq!(
        (kept["entity"]["name"].as_str(), kept["entity"]["environment_json"].clone()),
        (Some("keeper"), json!({}))
    );
    let (status, _) = platform.api(Method::GET, "/v2/config/environment_variable_groups/running", None).await;
    assert_eq!(status, 200);
    platform.shutdown().await;
}

async fn tokens_are_checked(platform: TestPlatform) {
    let raw = |token: Option<String>| {
        let mut request = platform.http.get(format!("{}/v2/apps", platform.api));
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = raw(None).await;
    assert_error(status, &body, 401, 10002, "CF-NotAuthenticated");
    let (status, body) = raw(Some("bearer not-a-jwt".into())).await;
    assert_error(status, &body, 401, 1000, "CF-InvalidAuthToken");

    // A well-formed token signed with another key is refused.
    let claims = json!({"user_id": "x", "sub": "x", "user_name": "admin", "email": "admin", "scope": ["cloud_controller.admin"],
        "aud": ["cloud_controller"], "exp": chrono::Utc::now().timestamp() + 600, "jti": "x"});
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    let (status, body) = raw(Some(format!("bearer {forged}"))).await;
    assert_error(status, &body, 401, 1000, "CF-InvalidAuthToken");

    // A refresh token is not an access token.
    let tokens = platform.tokens().await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = raw(Some(format!("bearer {refresh}"))).await;
    assert_error(status, &body, 401, 1000, "CF-InvalidAuthToken");
    // ...but it gets a new access token that works.
    let (status, renewed) = platform.oauth(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(status, 200, "{renewed}");
    let (status, _) = raw(Some(format!("bearer {}", renewed["access_token"].as_str().unwrap()))).await;
    assert_eq!(status, 200);

    // Wrong passwords are an OAuth error, not a token.
    let (status, body) =
        platform.oauth(&[("grant_type", "password"), ("username", "admin"), ("password", "wrong")]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
    platform.shutdown().await;
}

async fn bad_requests_get_cf_errors_and_lose_nothing(platform: TestPlatform) {
    let space = space_guid(&platform).await;

    let (status, body) = platform.api(Method::POST, "/v2/apps", Some("{not json")).await;
    assert_error(status, &body, 400, 1001, "CF-MessageParseError");
    let (status, body) = platform.api(Method::POST, "/v2/apps", Some("[1, 2]")).await;
    assert_error(status, &body, 400, 1001, "CF-MessageParseError");
    let bad_type = json!({"name": "typed", "space_guid": space, "memory": "lots"}).to_string();
    let (status, body) = platform.api(Method::POST, "/v2/apps", Some(&bad_type)).await;
    assert_error(status, &body, 400, 100001, "CF-AppInvalid");
    let bad_state = json!({"name": "typed", "space_guid": space, "state": "RUNNING"}).to_string();
    let (status, body) = platform.api(Method::POST, "/v2/apps", Some(&bad_state)).await;
    assert_error(status, &body, 400, 100001, "CF-AppInvalid");
    let no_space = json!({"name": "typed", "space_guid": "no-such-space"}).to_string();
    let (status, body) = platform.api(Method::POST, "/v2/apps", Some(&no_space)).await;
    assert_error(status, &body, 400, 1002, "CF-InvalidRelation");

    let good = json!({"name": "keeper", "space_guid": space, "memory": 64, "environment_json": {"A": "1"}}).to_string();
    let (status, created) = platform.api(Method::POST, "/v2/apps", Some(&good)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["entity"]["memory"], 64);
    assert_eq!(created["entity"]["space_url"], format!("/v2/spaces/{space}"));
    let guid = created["metadata"]["guid"].as_str().unwrap().to_string();

    let (status, body) = platform.api(Method::POST, "/v2/apps", Some(&good)).await;
    assert_error(status, &body, 400, 100002, "CF-AppNameTaken");
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{guid}"), Some(r#"{"instances": -1}"#)).await;
    assert_error(status, &body, 400, 100001, "CF-AppInvalid");
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{guid}"), Some(r#"{"state": "STARTED"}"#)).await;
    assert_error(status, &body, 400, 150001, "CF-AppPackageInvalid");
    let (status, body) = platform.api(Method::PUT, &format!("/v2/apps/{guid}"), Some("nope")).await;
    assert_error(status, &body, 400, 1001, "CF-MessageParseError");
    let (status, body) = platform.api(Method::GET, "/v2/apps/no-such-app", None).await;
    assert_error(status, &body, 404, 100004, "CF-AppNotFound");
    let (status, body) = platform.api(Method::PUT, "/v2/apps/no-such-app", Some("{}")).await;
    assert_error(status, &body, 404, 100004, "CF-AppNotFound");
    let (status, body) = platform.api(Method::GET, "/v2/routes/no-such-route", None).await;
    assert_error(status, &body, 404, 210002, "CF-RouteNotFound");
    let (status, body) = platform.api(Method::GET, "/v2/no/such/thing", None).await;
    assert_error(status, &body, 404, 10000, "CF-NotFound");
    let (status, body) = platform.api(Method::GET, "/v2/apps?results-per-page=500", None).await;
    assert_error(status, &body, 400, 10005, "CF-BadQueryParameter");
    let (status, body) = platform.api(Method::GET, "/v2/apps?q=password:x", None).await;
    assert_error(status, &body, 400, 10005, "CF-BadQueryParameter");

    // Bits that are not a zip, or escape the app, are refused; nothing is lost.
    for (name, zip) in [("corrupt", b"PK\x03\x04garbage".to_vec()), ("zip-slip", zip_with("../../etc/evil", b"x"))] {
        let form = reqwest::multipart::Form::new()
            .text("resources", "[]")
            .part("application", reqwest::multipart::Part::bytes(zip).file_name("application.zip"));
        let response = platform
            .http
            .put(format!("{}/v2/apps/{guid}/bits", platform.api))
            .bearer_auth(platform.token().await)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_error(status, &body, 400, 160001, "CF-AppBitsUploadInvalid");
        assert!(body["description"].as_str().unwrap().len() > 30, "{name}: {body}");
    }
    let kept = platform.get(&format!("/v2/apps/{guid}")).await;
    assert_eq!(kept["entity"]["name"], "keeper");
    assert_eq!(kept["entity"]["environment_json"], json!({"A": "1"}));
    assert_eq!(kept["entity"]["package_updated_at"], Value::Null);

    // Lists page through everything.
    for i in 0..3 {
        let body = json!({"name": format!("paged-{i}"), "space_guid": space}).to_string();
        assert_eq!(platform.api(Method::POST, "/v2/apps", Some(&body)).await.0, 201);
    }
    let page = platform.get("/v2/apps?results-per-page=2&order-direction=desc").await;
    assert_eq!(page["total_results"], 4);
    assert_eq!(page["total_pages"], 2);
    assert_eq!(page["resources"][0]["entity"]["name"], "paged-2");
    let next = page["next_url"].as_str().unwrap();
    assert_eq!(platform.get(next).await["resources"][1]["entity"]["name"], "keeper");
    let filtered = platform.get("/v2/apps?q=name%20IN%20paged-0,paged-2").await;
    assert_eq!(filtered["total_results"], 2);
    for (query, count) in
        [("memory<100", 1), ("memory>=1024", 3), ("memory>64", 3), ("memory<=64", 1), ("name:keeper;memory:64", 1)]
    {
        let q: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        assert_eq!(platform.get(&format!("/v2/apps?q={q}")).await["total_results"], count, "q={query}");
    }
    let (status, body) = platform.api(Method::GET, "/v2/apps?q=memory>lots", None).await;
    assert_error(status, &body, 400, 10005, "CF-BadQueryParameter");
    // Relations inline two levels deep: app → space → organization.
    let deep = platform.get("/v2/apps?q=name:keeper&inline-relations-depth=2").await;
    assert_eq!(deep["resources"][0]["entity"]["space"]["entity"]["organization"]["entity"]["name"], "default");
    let (status, body) = platform.api(Method::GET, "/v2/apps?inline-relations-depth=3", None).await;
    assert_error(status, &body, 400, 10005, "CF-BadQueryParameter");
    platform.shutdown().await;
}

fn zip_with(name: &str, contents: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
    writer.write_all(contents).unwrap();
    writer.finish().unwrap().into_inner()
}

on_both_databases!(inlined_lists_are_each_parents_own, super::inlined_lists_are_each_parents_own);

/// With `inline-relations-depth=1`, each row of a page gets its own
/// related rows (one query per relation for the whole page), in creation
/// order, at most 50.
async fn inlined_lists_are_each_parents_own(platform: TestPlatform) {
    let dev = platform.get("/v2/spaces?q=name:dev").await["resources"][0].clone();
    let org = dev["entity"]["organization_guid"].as_str().unwrap().to_string();
    let space = json!({"name": "crowded", "organization_guid": org}).to_string();
    let (status, crowded) = platform.api(Method::POST, "/v2/spaces", Some(&space)).await;
    assert_eq!(status, 201, "{crowded}");
    let app = |name: String, space: &Value| json!({"name": name, "space_guid": space["metadata"]["guid"]}).to_string();
    assert_eq!(platform.api(Method::POST, "/v2/apps", Some(&app("lonely".into(), &dev))).await.0, 201);
    for i in 0..52 {
        assert_eq!(platform.api(Method::POST, "/v2/apps", Some(&app(format!("app-{i:02}"), &crowded))).await.0, 201);
    }
    let spaces = platform.get("/v2/spaces?inline-relations-depth=1").await;
    let apps_of = |name: &str| -> Vec<String> {
        let space = spaces["resources"].as_array().unwrap().iter().find(|s| s["entity"]["name"] == name).unwrap();
        space["entity"]["apps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["entity"]["name"].as_str().unwrap().into())
            .collect()
    };
    assert_eq!(apps_of("dev"), ["lonely"]);
    let crowded_apps = apps_of("crowded");
    assert_eq!(crowded_apps.len(), 50, "inlined lists stop at 50");
    assert_eq!(crowded_apps[..3], ["app-00", "app-01", "app-02"]);
    // Routes reach apps through route_mappings: two apps share one.
    let domain = platform.get("/v2/shared_domains").await["resources"][0]["metadata"]["guid"].clone();
    let guid_of = |name: &str| {
        let page = &spaces["resources"];
        let space = page.as_array().unwrap().iter().find(|s| s["entity"]["name"] == name).unwrap();
        space["metadata"]["guid"].clone()
    };
    let app_guid = |name: &'static str| {
        let platform = &platform;
        async move { platform.get(&format!("/v2/apps?q=name:{name}")).await["resources"][0]["metadata"]["guid"].clone() }
    };
    for (host, space, apps) in [("solo", "dev", vec!["lonely"]), ("shared", "crowded", vec!["app-00", "app-01"])] {
        let route = json!({"host": host, "domain_guid": domain, "space_guid": guid_of(space)}).to_string();
        let (status, route) = platform.api(Method::POST, "/v2/routes", Some(&route)).await;
        assert_eq!(status, 201, "{route}");
        for app in apps {
            let path = format!(
                "/v2/routes/{}/apps/{}",
                route["metadata"]["guid"].as_str().unwrap(),
                app_guid(app).await.as_str().unwrap()
            );
            assert_eq!(platform.api(Method::PUT, &path, None).await.0, 201);
        }
    }
    // Each app of a page inlines its own space and routes.
    let apps = platform.get("/v2/apps?inline-relations-depth=1&results-per-page=100").await;
    for app in apps["resources"].as_array().unwrap() {
        let name = app["entity"]["name"].as_str().unwrap();
        let expected = if name == "lonely" { "dev" } else { "crowded" };
        assert_eq!(app["entity"]["space"]["entity"]["name"], expected);
        let routes: Vec<&str> =
            app["entity"]["routes"].as_array().unwrap().iter().map(|r| r["entity"]["host"].as_str().unwrap()).collect();
        let expected: &[&str] = match name {
            "lonely" => &["solo"],
            "app-00" | "app-01" => &["shared"],
            _ => &[],
        };
        assert_eq!(routes, expected, "routes of {name}");
    }
    platform.shutdown().await;
}
