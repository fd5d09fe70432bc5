//! `wf bench api`: how fast the Cloud Controller answers the requests
//! clients make when there are many apps, on SQLite and (given
//! `--postgres`) on PostgreSQL. For each database it starts a CC of its
//! own, fills it with `--apps` apps (each with a route), and for each kind of request — first
//! page, a filter (cf push's lookup), the last page, a page with
//! inline-relations-depth=1, an app's summary — warms up, then sends
//! `--requests` requests one at a time and again from 16 connections, the
//! load from a process of its own ([`super::load`]). Beside them, the
//! reference measured the same way: `GET /v2/info`, the floor of any CC
//! answer (HTTP, routing, JSON; no database).

use anyhow::{Context, Result};
use sqlx::Connection;

use super::load::{LoadReport, LoadRun, Target, Until};
use crate::config::Config;
use crate::server::{Platform, Role};

/// Rows per INSERT while seeding.
const BATCH: usize = 500;
/// Requests sent before measuring, on each connection count.
const WARM_UP: u64 = 100;
/// The concurrent connections of the second measurement.
const CONNECTIONS: usize = 16;

pub async fn api(apps: usize, requests: usize, postgres: Option<String>) -> Result<()> {
    let requests = requests.max(1000) as u64;
    bench_database(apps, requests, None).await?;
    if let Some(server) = postgres {
        bench_database(apps, requests, Some(server)).await?;
    }
    Ok(())
}

/// One CC on SQLite (no server) or on a scratch database of `postgres`.
async fn bench_database(apps: usize, requests: u64, postgres: Option<String>) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("wf-bench-{}", uuid::Uuid::new_v4().simple()));
    sqlx::any::install_default_drivers();
    let (database_url, scratch_db) = match &postgres {
        Some(server) => {
            let name = format!("wf_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin =
                sqlx::AnyConnection::connect(server).await.context("connecting to the PostgreSQL server")?;
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
            let mut url = url::Url::parse(server)?;
            url.set_path(&name);
            (Some(url.to_string()), Some(name))
        }
        None => (None, None),
    };
    let config = Config {
        data_dir: dir.clone(),
        database_url: database_url.clone(),
        cc_listen: "127.0.0.1:0".parse()?,
        ..Config::default()
    };
    let backend = if postgres.is_some() { "PostgreSQL" } else { "SQLite" };
    let result = run(config.clone(), apps, requests, backend).await;
    if let (Some(server), Some(name)) = (&postgres, &scratch_db) {
        let mut admin = sqlx::AnyConnection::connect(server).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(config: Config, apps: usize, requests: u64, backend: &str) -> Result<()> {
    let platform = Platform::start(config.clone(), &[Role::Cc]).await?;
    let address = platform.cc_address.context("the CC runs")?.to_string();
    let api = format!("http://{address}");
    let seeded = std::time::Instant::now();
    seed_apps(&config.database_url(), apps).await?;
    println!(
        "\n{backend}: {apps} apps seeded in {:.1}s; {requests} requests per figure after {WARM_UP} to warm up",
        seeded.elapsed().as_secs_f64()
    );

    let http = reqwest::Client::new();
    let password = std::fs::read_to_string(config.data_dir.join(crate::cc::seed::ADMIN_PASSWORD_FILE))?;
    let token = super::admin_token(&http, &api, password.trim()).await?;
    let middle = format!("bench-{}", apps / 2);
    let lookup: serde_json::Value =
        http.get(format!("{api}/v2/apps?q=name:{middle}")).bearer_auth(&token).send().await?.json().await?;
    let one_app = lookup["resources"][0]["metadata"]["guid"].as_str().context("the seeded app is listed")?.to_string();

    let last_page = apps.div_ceil(50).max(1);
    let kinds = [
        ("reference: GET /v2/info", "/v2/info".to_string()),
        ("GET /v2/apps (first page of 50)", "/v2/apps".to_string()),
        ("GET /v2/apps?q=name:… (cf push's lookup)", format!("/v2/apps?q=name:{middle}")),
        ("GET /v2/apps?page=<last>", format!("/v2/apps?page={last_page}")),
        ("GET /v2/apps?inline-relations-depth=1", "/v2/apps?inline-relations-depth=1".to_string()),
        ("GET /v2/apps/:guid/summary", format!("/v2/apps/{one_app}/summary")),
    ];
    println!("{:<44} {:>9} {:>9} | {:>10} {:>9} {:>9}", "", "c1 p50 ms", "c1 p99 ms", "c16 req/s", "p50 ms", "p99 ms");
    for (label, path) in kinds {
        let target = Target { path, ..Target::root(&address, &address) }
            .with_header("authorization", &format!("bearer {token}"));
        let one = measure(&target, requests, 1).await?;
        let many = measure(&target, requests, CONNECTIONS).await?;
        println!(
            "{label:<44} {:>9.2} {:>9.2} | {:>10.0} {:>9.2} {:>9.2}",
            one.p50_ms,
            one.p99_ms,
            many.per_second(),
            many.p50_ms,
            many.p99_ms
        );
    }
    platform.shutdown().await;
    Ok(())
}

/// Warms up, then measures `requests` requests from `connections`.
async fn measure(target: &Target, requests: u64, connections: usize) -> Result<LoadReport> {
    LoadRun::run(target.clone(), Until::Requests(WARM_UP), connections).await?;
    let report = LoadRun::run(target.clone(), Until::Requests(requests), connections).await?;
    anyhow::ensure!(
        report.failed == 0,
        "{} answered {} requests with an error: {}",
        target.path,
        report.failed,
        report.failures.join("; ")
    );
    Ok(report)
}

/// Inserts `count` stopped apps into the seeded space, in batches, each
/// with a route of its own.
async fn seed_apps(database_url: &str, count: usize) -> Result<()> {
    let mut db = sqlx::AnyConnection::connect(database_url).await?;
    let space: String = sqlx::query_scalar("SELECT guid FROM spaces ORDER BY id LIMIT 1").fetch_one(&mut db).await?;
    let stack: String = sqlx::query_scalar("SELECT guid FROM stacks ORDER BY id LIMIT 1").fetch_one(&mut db).await?;
    let now = crate::cc::now();
    let mut tx = db.begin().await?;
    for start in (0..count).step_by(BATCH) {
        let rows = (start..(start + BATCH).min(count)).collect::<Vec<_>>();
        let values: Vec<String> = (0..rows.len())
            .map(|i| {
                let b = i * 7;
                format!(
                    "(${}, ${}, ${}, ${}, 64, 1, 1024, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO apps (guid, name, space_guid, stack_guid, memory, instances, disk_quota, state, version, created_at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for i in rows {
            query = query
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(format!("bench-{i}"))
                .bind(space.clone())
                .bind(stack.clone())
                .bind("STOPPED")
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(now.clone());
        }
        query.execute(&mut *tx).await?;
    }
    // A route for each app, so inlined relations have rows to find.
    let domain: String = sqlx::query_scalar("SELECT guid FROM domains ORDER BY id LIMIT 1").fetch_one(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO routes (guid, host, domain_guid, space_guid, created_at) \
         SELECT 'route-' || guid, name, $1, space_guid, created_at FROM apps WHERE name LIKE 'bench-%'",
    )
    .bind(domain)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO route_mappings (guid, app_guid, route_guid, created_at) \
         SELECT 'mapping-' || guid, guid, 'route-' || guid, created_at FROM apps WHERE name LIKE 'bench-%'",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // Statistics and a visibility map, as a database in use has them
    // (autovacuum, or SQLite's `PRAGMA optimize`), so the planners pick
    // the indexes.
    let maintenance = if database_url.starts_with("postgres") { "VACUUM ANALYZE" } else { "ANALYZE" };
    sqlx::query(maintenance).execute(&mut db).await?;
    Ok(())
}
