//! The built-in `postgresql` broker against the PostgreSQL server
//! WF_TEST_DATABASE_URL names: the CC registers it by itself with public
//! plans; `wf create-service postgresql small db` makes a database with its
//! plan's connection limit; binding gives an app a role of its own and a
//! DATABASE_URL that connects; another binding (a service key) sees the
//! same tables; a new plan changes the limit; unbinding drops the role
//! (it can no longer connect); deleting the service drops the database.

mod common;

use std::time::Duration;

use common::{TestPlatform, eventually};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

async fn wf_ok(platform: &TestPlatform, args: &[&str]) -> String {
    let out = platform.wf(args).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wf {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

async fn connect(uri: &str) -> Result<sqlx::PgConnection, sqlx::Error> {
    sqlx::PgConnection::connect(uri).await
}

/// A platform whose built-in broker uses the server WF_TEST_DATABASE_URL
/// names, and that URL; None (and a note) when it is unset.
async fn platform_with_broker() -> Option<(TestPlatform, String)> {
    let Ok(server) = std::env::var("WF_TEST_DATABASE_URL") else {
        eprintln!("skipped: set WF_TEST_DATABASE_URL=postgres://… for the postgresql broker");
        return None;
    };
    let platform = TestPlatform::start_configured("local:", None, |config| {
        config.postgresql_broker_url = Some(server.clone());
        config.broker_listen = "127.0.0.1:0".parse().unwrap();
    })
    .await;
    Some((platform, server))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_bind_use_unbind_and_delete_a_database() {
    let Some((platform, server)) = platform_with_broker().await else { return };
    let mut admin = connect(&server).await.expect("the test server");
    platform.login().await;
    let offered = eventually("the broker registered by the CC", Duration::from_secs(15), || async {
        let market = wf_ok(&platform, &["marketplace"]).await;
        market.contains("postgresql").then_some(market)
    })
    .await;
    assert!(offered.contains("small") && offered.contains("medium"), "{offered}");
    let broker_url =
        platform.get("/v2/service_brokers").await["resources"][0]["entity"]["broker_url"].as_str().unwrap().to_string();
    let anonymous = reqwest::get(format!("{broker_url}/v2/catalog")).await.unwrap();
    assert_eq!(anonymous.status(), 401, "the broker wants its credentials");

    wf_ok(&platform, &["create-service", "postgresql", "small", "db"]).await;
    let instance = platform.get("/v2/service_instances?q=name:db").await["resources"][0].clone();
    let instance_guid = instance["metadata"]["guid"].as_str().unwrap().to_string();
    let database = format!("wf_db_{}", instance_guid.replace('-', ""));
    let limit: i32 = sqlx::query_scalar("SELECT datconnlimit FROM pg_database WHERE datname = $1")
        .bind(&database)
        .fetch_one(&mut admin)
        .await
        .expect("the database exists");
    assert_eq!(limit, 10, "the small plan's connection limit");

    let space = platform.get("/v2/spaces?q=name:dev").await["resources"][0]["metadata"]["guid"].clone();
    let app = json!({"name": "web", "space_guid": space}).to_string();
    assert_eq!(platform.api(Method::POST, "/v2/apps", Some(&app)).await.0, 201);
    wf_ok(&platform, &["bind-service", "web", "db"]).await;
    let app_guid = platform.app_guid("web").await;
    let env = platform.get(&format!("/v2/apps/{app_guid}/env")).await;
    let entry = &env["system_env_json"]["VCAP_SERVICES"]["postgresql"][0];
    assert_eq!((entry["label"].as_str(), entry["plan"].as_str()), (Some("postgresql"), Some("small")), "{env}");
    assert_eq!(entry["tags"], json!(["postgresql", "relational"]));
    let credentials = entry["credentials"].clone();
    for field in ["uri", "host", "port", "name", "username", "password"] {
        assert!(!credentials[field].is_null(), "{field} in {credentials}");
    }
    assert_eq!(credentials["name"], database.as_str());
    let uri = credentials["uri"].as_str().unwrap().to_string();

    // The bound role works in its database.
    let mut app_db = connect(&uri).await.expect("the binding's credentials connect");
    sqlx::raw_sql("CREATE TABLE items (name TEXT); INSERT INTO items VALUES ('first')")
        .execute(&mut app_db)
        .await
        .expect("the binding may create tables");
    app_db.close().await.unwrap();

    // A service key is another role that sees the same tables.
    wf_ok(&platform, &["create-service-key", "db", "admin-key"]).await;
    let key: Value = serde_json::from_str(&wf_ok(&platform, &["service-key", "db", "admin-key"]).await).unwrap();
    assert_ne!(key["username"], credentials["username"]);
    let mut key_db = connect(key["uri"].as_str().unwrap()).await.expect("the key connects");
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM items").fetch_all(&mut key_db).await.expect("the key sees the table");
    assert_eq!(names, ["first"]);
    key_db.close().await.unwrap();

    // A new plan: a new connection limit.
    wf_ok(&platform, &["update-service", "db", "-p", "medium"]).await;
    let limit: i32 = sqlx::query_scalar("SELECT datconnlimit FROM pg_database WHERE datname = $1")
        .bind(&database)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(limit, 50);

    // Unbinding drops the app's role.
    wf_ok(&platform, &["unbind-service", "web", "db"]).await;
    assert!(connect(&uri).await.is_err(), "an unbound role cannot connect");
    let role = credentials["username"].as_str().unwrap();
    let roles: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_roles WHERE rolname = $1")
        .bind(role)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(roles, 0);

    // Deleting the service drops the key's role and the database.
    wf_ok(&platform, &["delete-service", "db", "-f"]).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
        .bind(&database)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(left, 0, "the database is gone");
    let roles: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_roles WHERE rolname LIKE $1")
        .bind(format!("wf_%{}", &instance_guid.replace('-', "")[..12]))
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(roles, 0, "the owner role is gone");
    platform.shutdown().await;
}

/// The example app (examples/items, a wasm program with a PostgreSQL client
/// over wasi:sockets) bound to a `postgresql` instance stores and lists items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_items_example_keeps_its_items_in_a_bound_database() {
    let Some((platform, server)) = platform_with_broker().await else { return };
    platform.login().await;
    platform.push("items", &common::repo().join("examples/items"), &[]).await;
    let (status, body) = platform.via_router("items.localhost", "/").await;
    assert_eq!(status, 503, "no database bound yet: {body}");
    assert!(body.contains("bind a postgresql service"), "{body}");

    eventually("the broker registered by the CC", Duration::from_secs(15), || async {
        wf_ok(&platform, &["marketplace"]).await.contains("postgresql").then_some(())
    })
    .await;
    wf_ok(&platform, &["create-service", "postgresql", "small", "items-db"]).await;
    wf_ok(&platform, &["bind-service", "items", "items-db"]).await;
    // The database is on the host's loopback, which default groups leave out.
    let port = url::Url::parse(&server).unwrap().port().unwrap_or(5432).to_string();
    let space = platform.get("/v2/spaces?q=name:dev").await["resources"][0]["metadata"]["guid"].clone();
    let group = json!({"name": "postgresql", "space_guids": [space],
        "rules": [{"protocol": "tcp", "destination": "127.0.0.1", "ports": port}]});
    assert_eq!(platform.api(Method::POST, "/v2/security_groups", Some(&group.to_string())).await.0, 201);
    wf_ok(&platform, &["restart", "items"]).await;

    for item in ["apple", "it's a pear"] {
        let response = platform
            .http
            .post(format!("{}/items", platform.router))
            .header("host", "items.localhost")
            .body(item)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
    }
    let (status, body) = platform.via_router("items.localhost", "/").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!(["apple", "it's a pear"]));

    // The rows are in the instance's own database.
    let instance = platform.get("/v2/service_instances?q=name:items-db").await["resources"][0]["metadata"]["guid"]
        .as_str()
        .unwrap()
        .replace('-', "");
    let database = url::Url::parse(&server).unwrap().join(&format!("wf_db_{instance}")).unwrap();
    let mut db = connect(database.as_str()).await.expect("the instance's database");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items").fetch_one(&mut db).await.unwrap();
    assert_eq!(count, 2);
    db.close().await.unwrap();
    wf_ok(&platform, &["unbind-service", "items", "items-db"]).await;
    wf_ok(&platform, &["delete-service", "items-db", "-f"]).await;
    platform.shutdown().await;
}
