//! UAA's account lockout through `POST /oauth/token`: five wrong passwords
//! within the window lock the account (even the right password is then
//! refused with UAA's words) until the lock period ends or an admin
//! unlocks it (`PATCH /Users/:id/status`); a right password resets the
//! count. On SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::TestPlatform;
use serde_json::{Value, json};

const LOCKED: &str = "Your account has been locked because of too many failed attempts to login.";

async fn platform(database_url: Option<String>) -> TestPlatform {
    TestPlatform::start_configured("local:", database_url, |config| config.login_lockout_seconds = 3).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    logins_lock_after_five_failures(platform(None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    let database = common::fresh_postgres().await.expect("WF_TEST_DATABASE_URL names a PostgreSQL server");
    logins_lock_after_five_failures(platform(Some(database)).await).await;
}

async fn login(platform: &TestPlatform, username: &str, password: &str) -> (u16, Value) {
    platform.oauth(&[("grant_type", "password"), ("username", username), ("password", password)]).await
}

async fn set_status(platform: &TestPlatform, token: &str, user: &str, status: Value) -> (u16, Value) {
    let response = platform
        .http
        .patch(format!("{}/Users/{user}/status", platform.api))
        .bearer_auth(token)
        .json(&status)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn logins_lock_after_five_failures(platform: TestPlatform) {
    let admin_password = platform.admin_password();
    let (status, body) = login(&platform, "admin", &admin_password).await;
    assert_eq!(status, 200, "{body}");
    let admin = body["access_token"].as_str().unwrap().to_string();
    let created = platform
        .http
        .post(format!("{}/Users", platform.api))
        .bearer_auth(&admin)
        .json(&json!({"userName": "bob", "password": "right"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let bob = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    // Four failures, then the right password: the count starts again.
    for _ in 0..4 {
        let (status, body) = login(&platform, "bob", "wrong").await;
        assert_eq!((status, body["error_description"].as_str()), (401, Some("Bad credentials")));
    }
    assert_eq!(login(&platform, "bob", "right").await.0, 200);
    for _ in 0..4 {
        assert_eq!(login(&platform, "bob", "wrong").await.0, 401);
    }
    assert_eq!(login(&platform, "bob", "right").await.0, 200, "4 failures after a success do not lock");

    // Five in a row lock: the right password is refused too, in UAA's words.
    for _ in 0..5 {
        let (status, body) = login(&platform, "bob", "wrong").await;
        assert_eq!((status, body["error_description"].as_str()), (401, Some("Bad credentials")));
    }
    let (status, body) = login(&platform, "bob", "right").await;
    assert_eq!(
        (status, body["error"].as_str(), body["error_description"].as_str()),
        (401, Some("unauthorized"), Some(LOCKED))
    );

    // Only an admin unlocks, and an account cannot be locked by hand.
    let (_, body) = login(&platform, "admin", &admin_password).await;
    assert!(body["access_token"].is_string());
    let (status, _) = set_status(&platform, &admin, &bob, json!({"locked": true})).await;
    assert_eq!(status, 400);
    let (status, body) = set_status(&platform, &admin, "no-such-user", json!({"locked": false})).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("scim_resource_not_found")));
    let (status, body) = set_status(&platform, &admin, &bob, json!({"locked": false})).await;
    assert_eq!((status, body), (200, json!({"locked": false})));
    let (status, body) = login(&platform, "bob", "right").await;
    assert_eq!(status, 200, "unlocked: {body}");
    let bob_token = body["access_token"].as_str().unwrap().to_string();
    let (status, _) = set_status(&platform, &bob_token, &bob, json!({"locked": false})).await;
    assert_eq!(status, 403, "not an admin");

    // A lock ends by itself after the lock period (3 s here).
    for _ in 0..5 {
        login(&platform, "bob", "wrong").await;
    }
    assert_eq!(login(&platform, "bob", "right").await.1["error_description"].as_str(), Some(LOCKED));
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(login(&platform, "bob", "right").await.0, 200, "the lock period is over");

    // The admin is locked as anyone is, and unknown users only get 401s.
    for _ in 0..30 {
        login(&platform, "admin", "guess").await;
        let (status, body) = login(&platform, "nobody", "guess").await;
        assert_eq!((status, body["error_description"].as_str()), (401, Some("Bad credentials")));
    }
    assert_eq!(login(&platform, "admin", &admin_password).await.1["error_description"].as_str(), Some(LOCKED));
    let admin_id = platform
        .http
        .get(format!("{}/Users?filter=userName eq \"admin\"", platform.api))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A token issued before the lock still works: the admin unlocks themself.
    assert_eq!(set_status(&platform, &admin, &admin_id, json!({"locked": false})).await.0, 200);
    assert_eq!(login(&platform, "admin", &admin_password).await.0, 200);
}
