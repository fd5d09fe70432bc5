//! The role matrix: each CF role against each resource, read and write,
//! proving nobody sees or changes anything outside their orgs and spaces —
//! 404 for what they cannot see, 403 for what they see but may not change.

mod common;

use common::TestPlatform;
use reqwest::Method;
use serde_json::{Value, json};

struct World {
    org: String,
    space: String,
    app: String,
    domain: String,
    /// A member of the org with no space role, whom managers give roles to.
    bystander: String,
}

async fn call(platform: &TestPlatform, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = platform.http.request(method, format!("{}{path}", platform.api)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn create_user(platform: &TestPlatform, admin: &str, name: &str) -> String {
    let (status, body) = call(
        platform,
        admin,
        Method::POST,
        "/Users",
        Some(json!({"userName": name, "password": "secret-pw", "emails": [{"value": name}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let guid = body["id"].as_str().unwrap().to_string();
    let (status, _) = call(platform, admin, Method::POST, "/v2/users", Some(json!({"guid": guid}))).await;
    assert_eq!(status, 201);
    guid
}

async fn token_of(platform: &TestPlatform, name: &str) -> String {
    let (status, body) =
        platform.oauth(&[("grant_type", "password"), ("username", name), ("password", "secret-pw")]).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn grant(platform: &TestPlatform, admin: &str, path: String) {
    let (status, body) = call(platform, admin, Method::PUT, &path, None).await;
    assert_eq!(status, 201, "PUT {path}: {body}");
}

async fn build_world(platform: &TestPlatform, admin: &str) -> (World, Vec<(&'static str, String)>) {
    let created = |v: (u16, Value)| {
        assert_eq!(v.0, 201, "{}", v.1);
        v.1["metadata"]["guid"].as_str().unwrap().to_string()
    };
    let org = created(call(platform, admin, Method::POST, "/v2/organizations", Some(json!({"name": "acme"}))).await);
    let space = created(
        call(platform, admin, Method::POST, "/v2/spaces", Some(json!({"name": "a1", "organization_guid": org}))).await,
    );
    let other = created(call(platform, admin, Method::POST, "/v2/organizations", Some(json!({"name": "other"}))).await);
    let other_space = created(
        call(platform, admin, Method::POST, "/v2/spaces", Some(json!({"name": "o1", "organization_guid": other})))
            .await,
    );
    let app = created(
        call(platform, admin, Method::POST, "/v2/apps", Some(json!({"name": "app-a", "space_guid": space}))).await,
    );
    let domain =
        platform.get("/v2/shared_domains").await["resources"][0]["metadata"]["guid"].as_str().unwrap().to_string();

    let mut users = Vec::new();
    for (name, org_roles, space_roles) in [
        ("orgmgr", vec!["users", "managers"], vec![]),
        ("orgaud", vec!["users", "auditors"], vec![]),
        ("orguser", vec!["users"], vec![]),
        ("spdev", vec!["users"], vec!["developers"]),
        ("spmgr", vec!["users"], vec!["managers"]),
        ("spaud", vec!["users"], vec!["auditors"]),
    ] {
        let guid = create_user(platform, admin, name).await;
        for role in org_roles {
            grant(platform, admin, format!("/v2/organizations/{org}/{role}/{guid}")).await;
        }
        for role in space_roles {
            grant(platform, admin, format!("/v2/spaces/{space}/{role}/{guid}")).await;
        }
        users.push((name, token_of(platform, name).await));
    }
    let outsider = create_user(platform, admin, "outsider").await;
    grant(platform, admin, format!("/v2/organizations/{other}/users/{outsider}")).await;
    grant(platform, admin, format!("/v2/spaces/{other_space}/developers/{outsider}")).await;
    users.push(("outsider", token_of(platform, "outsider").await));
    let bystander = create_user(platform, admin, "bystander").await;
    grant(platform, admin, format!("/v2/organizations/{org}/users/{bystander}")).await;
    (World { org, space, app, domain, bystander }, users)
}

/// What one user gets reading: statuses, and how many rows listings show.
async fn reads(platform: &TestPlatform, token: &str, w: &World) -> Vec<String> {
    let mut out = Vec::new();
    let mut record = |label: &str, status: u16| out.push(format!("{label}={status}"));
    record("read org", call(platform, token, Method::GET, &format!("/v2/organizations/{}", w.org), None).await.0);
    record("read space", call(platform, token, Method::GET, &format!("/v2/spaces/{}", w.space), None).await.0);
    record("read app", call(platform, token, Method::GET, &format!("/v2/apps/{}", w.app), None).await.0);
    // Listings record how many they show, or the status when refused.
    let count = |(status, body): (u16, Value)| {
        if status == 200 { body["total_results"].as_u64().unwrap() as u16 } else { status }
    };
    record("apps listed", count(call(platform, token, Method::GET, "/v2/apps", None).await));
    let org_spaces = format!("/v2/organizations/{}/spaces", w.org);
    record("org spaces listed", count(call(platform, token, Method::GET, &org_spaces, None).await));
    out
}

/// What one user gets changing things.
async fn writes(platform: &TestPlatform, token: &str, w: &World, who: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut record = |label: &str, status: u16| out.push(format!("{label}={status}"));
    record(
        "update app",
        call(platform, token, Method::PUT, &format!("/v2/apps/{}", w.app), Some(json!({"instances": 1}))).await.0,
    );
    let new_app = json!({"name": format!("by-{who}"), "space_guid": w.space});
    record("create app", call(platform, token, Method::POST, "/v2/apps", Some(new_app)).await.0);
    let new_route = json!({"host": format!("r-{who}"), "domain_guid": w.domain, "space_guid": w.space});
    record("create route", call(platform, token, Method::POST, "/v2/routes", Some(new_route)).await.0);
    record(
        "rename space",
        call(platform, token, Method::PUT, &format!("/v2/spaces/{}", w.space), Some(json!({"name": "a1"}))).await.0,
    );
    let give = format!("/v2/spaces/{}/auditors/{}", w.space, w.bystander);
    record("give space role", call(platform, token, Method::PUT, &give, None).await.0);
    record(
        "rename org",
        call(platform, token, Method::PUT, &format!("/v2/organizations/{}", w.org), Some(json!({"name": "acme"})))
            .await
            .0,
    );
    out
}

on_both_databases!(
    each_role_sees_and_changes_exactly_what_cf_allows,
    super::each_role_sees_and_changes_exactly_what_cf_allows
);

async fn each_role_sees_and_changes_exactly_what_cf_allows(platform: TestPlatform) {
    let admin = platform.token().await;
    let (world, users) = build_world(&platform, &admin).await;

    //                 read org, space, app, apps listed, org spaces listed, update app, create app, create route, rename space, give role, rename org
    let expected: [(&str, [u16; 11]); 8] = [
        ("admin", [200, 200, 200, 1, 1, 201, 201, 201, 201, 201, 201]),
        ("orgmgr", [200, 200, 200, 1, 1, 403, 403, 403, 201, 201, 201]),
        ("orgaud", [200, 404, 404, 0, 0, 404, 400, 404, 404, 404, 403]),
        ("orguser", [200, 404, 404, 0, 0, 404, 400, 404, 404, 404, 403]),
        ("spdev", [200, 200, 200, 1, 1, 201, 201, 201, 403, 403, 403]),
        ("spmgr", [200, 200, 200, 1, 1, 403, 403, 403, 201, 201, 403]),
        ("spaud", [200, 200, 200, 1, 1, 403, 403, 403, 403, 403, 403]),
        ("outsider", [404, 404, 404, 0, 404, 404, 400, 404, 404, 404, 404]),
    ];
    let labels = [
        "read org",
        "read space",
        "read app",
        "apps listed",
        "org spaces listed",
        "update app",
        "create app",
        "create route",
        "rename space",
        "give space role",
        "rename org",
    ];
    let token = |who: &str| {
        if who == "admin" { admin.clone() } else { users.iter().find(|(n, _)| *n == who).unwrap().1.clone() }
    };
    // Everyone reads before anyone writes, so listings count the same rows.
    let mut got: Vec<Vec<String>> = Vec::new();
    for (who, _) in &expected {
        got.push(reads(&platform, &token(who), &world).await);
    }
    for (i, (who, _)) in expected.iter().enumerate() {
        got[i].extend(writes(&platform, &token(who), &world, who).await);
    }
    let mut failures = Vec::new();
    for ((who, codes), got) in expected.iter().zip(&got) {
        let want: Vec<String> = labels.iter().zip(codes).map(|(l, c)| format!("{l}={c}")).collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            if g != w {
                failures.push(format!("{who}: got {g}, want {w}"));
            }
        }
    }
    assert!(failures.is_empty(), "role matrix mismatches:\n{}", failures.join("\n"));

    // Roles given from the user's side show on both sides.
    let (status, _) = call(
        &platform,
        &admin,
        Method::PUT,
        &format!("/v2/users/{}/audited_spaces/{}", world.bystander, world.space),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let auditors = platform.get(&format!("/v2/spaces/{}/auditors", world.space)).await;
    assert!(
        auditors["resources"].as_array().unwrap().iter().any(|u| u["metadata"]["guid"] == world.bystander.as_str())
    );
    let audited = platform.get(&format!("/v2/users/{}/audited_spaces", world.bystander)).await;
    assert_eq!(audited["total_results"], 1);
    let (status, _) = call(
        &platform,
        &admin,
        Method::DELETE,
        &format!("/v2/users/{}/audited_spaces/{}", world.bystander, world.space),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(platform.get(&format!("/v2/users/{}/audited_spaces", world.bystander)).await["total_results"], 0);
    platform.shutdown().await;
}
