//! The security groups API: CF's seeded defaults, create/update/delete
//! with rule validation, binding to spaces for running and staging, and
//! the platform defaults — with CF's error codes for what is wrong.

mod common;

use common::TestPlatform;
use reqwest::Method;
use serde_json::{Value, json};

fn names(page: &Value) -> Vec<String> {
    common::sorted_field(page, "name")
}

/// A new user, made a developer of `space`; returns their token.
async fn developer_of(platform: &TestPlatform, space: &str) -> String {
    let user =
        json!({"userName": "dev@example.com", "password": "secret-pw", "emails": [{"value": "dev@example.com"}]});
    let (status, created) = platform.api(Method::POST, "/Users", Some(&user.to_string())).await;
    assert_eq!(status, 201, "{created}");
    let guid = created["id"].as_str().unwrap().to_string();
    let (status, _) = platform.api(Method::POST, "/v2/users", Some(&json!({"guid": guid}).to_string())).await;
    assert_eq!(status, 201);
    let org =
        platform.get(&format!("/v2/spaces/{space}")).await["entity"]["organization_guid"].as_str().unwrap().to_string();
    for path in [format!("/v2/organizations/{org}/users/{guid}"), format!("/v2/spaces/{space}/developers/{guid}")] {
        let (status, body) = platform.api(Method::PUT, &path, None).await;
        assert_eq!(status, 201, "PUT {path}: {body}");
    }
    let (status, tokens) =
        platform.oauth(&[("grant_type", "password"), ("username", "dev@example.com"), ("password", "secret-pw")]).await;
    assert_eq!(status, 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_string()
}

on_both_databases!(security_groups_are_managed_like_cf, super::security_groups_are_managed_like_cf);

async fn security_groups_are_managed_like_cf(platform: TestPlatform) {
    // Seeded as running and staging defaults, like cf-deployment's.
    assert_eq!(names(&platform.get("/v2/security_groups").await), ["dns", "public_networks"]);
    assert_eq!(names(&platform.get("/v2/config/running_security_groups").await), ["dns", "public_networks"]);
    assert_eq!(names(&platform.get("/v2/config/staging_security_groups").await), ["dns", "public_networks"]);

    // Rules are checked.
    for (rules, complaint) in [
        (json!([{"protocol": "sctp", "destination": "10.0.0.0/8"}]), "protocol"),
        (json!([{"protocol": "tcp", "destination": "10.0.0.0/40"}]), "destination"),
        (json!([{"protocol": "tcp", "destination": "10.0.0.1", "ports": "80-x"}]), "ports"),
        (json!([{"protocol": "tcp"}]), "rule number 1"),
        (json!({"protocol": "tcp"}), "must be an array"),
    ] {
        let body = json!({"name": "bad", "rules": rules}).to_string();
        let (status, error) = platform.api(Method::POST, "/v2/security_groups", Some(&body)).await;
        assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-SecurityGroupInvalid")), "{error}");
        assert_eq!(error["code"], 300001);
        assert!(error["description"].as_str().unwrap().contains(complaint), "{error}");
    }

    let rules =
        json!([{"protocol": "tcp", "destination": "10.0.0.0/8", "ports": "443", "description": "kept as given"}]);
    let body = json!({"name": "private", "rules": rules}).to_string();
    let (status, group) = platform.api(Method::POST, "/v2/security_groups", Some(&body)).await;
    assert_eq!(status, 201, "{group}");
    assert_eq!(group["entity"]["rules"], rules);
    assert_eq!(group["entity"]["running_default"], false);
    let guid = group["metadata"]["guid"].as_str().unwrap().to_string();
    let (status, taken) = platform.api(Method::POST, "/v2/security_groups", Some(&body)).await;
    assert_eq!((status, taken["code"].as_i64()), (400, Some(300005)), "{taken}");

    // Bound to a space, for running and for staging.
    let space = platform.get("/v2/spaces").await["resources"][0]["metadata"]["guid"].as_str().unwrap().to_string();
    for (kind, space_side) in [("spaces", "security_groups"), ("staging_spaces", "staging_security_groups")] {
        let (status, _) = platform.api(Method::PUT, &format!("/v2/security_groups/{guid}/{kind}/{space}"), None).await;
        assert_eq!(status, 201);
        assert_eq!(platform.get(&format!("/v2/security_groups/{guid}/{kind}")).await["total_results"], 1);
        assert_eq!(names(&platform.get(&format!("/v2/spaces/{space}/{space_side}")).await), ["private"]);
    }
    // A space developer sees the groups of their spaces, and changes none.
    let developer = developer_of(&platform, &space).await;
    let as_developer = |method: Method, path: String, body: Option<String>| {
        let mut request = platform.http.request(method, format!("{}{path}", platform.api)).bearer_auth(&developer);
        if let Some(body) = body {
            request = request.body(body);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, seen) = as_developer(Method::GET, "/v2/security_groups".into(), None).await;
    assert_eq!((status, names(&seen)), (200, vec!["private".to_string()]));
    let (status, error) = as_developer(Method::POST, "/v2/security_groups".into(), Some(body.clone())).await;
    assert_eq!((status, error["code"].as_i64()), (403, Some(10003)), "{error}");

    let (status, _) = platform.api(Method::DELETE, &format!("/v2/security_groups/{guid}/spaces/{space}"), None).await;
    assert_eq!(status, 204);
    assert_eq!(platform.get(&format!("/v2/spaces/{space}/security_groups")).await["total_results"], 0);

    // Updated; made a default and not.
    let update = json!({"name": "private-networks"}).to_string();
    let (status, updated) = platform.api(Method::PUT, &format!("/v2/security_groups/{guid}"), Some(&update)).await;
    assert_eq!((status, updated["entity"]["name"].as_str()), (201, Some("private-networks")));
    assert_eq!(updated["entity"]["rules"], rules, "rules stay unless sent");
    let (status, _) = platform.api(Method::PUT, &format!("/v2/config/running_security_groups/{guid}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        names(&platform.get("/v2/config/running_security_groups").await),
        ["dns", "private-networks", "public_networks"]
    );
    let (status, _) = platform.api(Method::DELETE, &format!("/v2/config/running_security_groups/{guid}"), None).await;
    assert_eq!(status, 204);
    let (status, error) = platform.api(Method::PUT, "/v2/config/staging_security_groups/nope", None).await;
    assert_eq!((status, error["code"].as_i64()), (400, Some(300003)), "{error}");

    let (status, _) = platform.api(Method::DELETE, &format!("/v2/security_groups/{guid}"), None).await;
    assert_eq!(status, 204);
    let (status, error) = platform.api(Method::GET, &format!("/v2/security_groups/{guid}"), None).await;
    assert_eq!((status, error["code"].as_i64()), (404, Some(300002)), "{error}");
    platform.shutdown().await;
}
