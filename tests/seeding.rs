//! Cloud Controllers started together on one empty PostgreSQL all come up:
//! migrating and seeding the CCDB are safe to run at once, and what is
//! seeded is there once.

mod common;

use common::cluster::{Cluster, free_port};
use sqlx::Row;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_ccs_started_together_on_an_empty_postgresql_all_serve_and_seed_once() {
    let Some(mut cluster) = Cluster::new(&[]).await else { return };
    let ccs: Vec<(String, u16)> = (1..=3).map(|n| (format!("cc{n}"), free_port())).collect();
    for (name, port) in &ccs {
        cluster.start_cc_on(name, *port);
    }
    for (name, port) in &ccs {
        cluster.wait_for_cc_at(name, *port).await;
    }
    // Each answers as the same platform: one admin can log in at any.
    let passwords: Vec<String> = ccs
        .iter()
        .filter_map(|(name, _)| {
            std::fs::read_to_string(cluster.platform.dir.path().join(name).join("admin-password")).ok()
        })
        .collect();
    assert_eq!(passwords.len(), 1, "one CC made the admin and wrote its password");
    for (name, port) in &ccs {
        let token = cluster
            .platform
            .http
            .post(format!("http://127.0.0.1:{port}/oauth/token"))
            .basic_auth("cf", Some(""))
            .form(&[("grant_type", "password"), ("username", "admin"), ("password", passwords[0].trim())])
            .send()
            .await
            .unwrap();
        assert_eq!(token.status().as_u16(), 200, "the admin logs in at {name}");
    }
    let db = wasmfoundry::ccdb::connect(&cluster.platform.database_url).await.unwrap();
    for (table, column, key) in [
        ("users", "username", "admin"),
        ("quota_definitions", "name", "default"),
        ("organizations", "name", "default"),
        ("spaces", "name", "dev"),
        ("stacks", "name", "wasi-p2"),
        ("domains", "name", "localhost"),
        ("security_groups", "name", "public_networks"),
    ] {
        let count: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = $1"))
            .bind(key)
            .fetch_one(&db)
            .await
            .unwrap()
            .get("n");
        assert_eq!(count, 1, "one {table} row {key}");
    }
    let buildpacks: i64 = sqlx::query("SELECT COUNT(*) AS n FROM buildpacks").fetch_one(&db).await.unwrap().get("n");
    let distinct: i64 =
        sqlx::query("SELECT COUNT(DISTINCT position) AS n FROM buildpacks").fetch_one(&db).await.unwrap().get("n");
    assert!(buildpacks > 0);
    assert_eq!(distinct, buildpacks, "the built-in buildpacks each once, each at its own position");
    cluster.shutdown().await;
}
