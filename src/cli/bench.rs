//! `wf bench api`: how fast the Cloud Controller lists apps when there are
//! many. It starts a CC of its own (SQLite in a temp dir, or a fresh
//! database on the PostgreSQL server given), fills it with `--apps` apps,
//! then times `--requests` calls of each kind of list a client makes and
//! prints p50/p99 per kind.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sqlx::Connection;

use super::bench_load::percentile;
use crate::config::Config;
use crate::server::{Platform, Role};

/// Rows per INSERT while seeding.
const BATCH: usize = 500;

pub async fn api(apps: usize, requests: usize, postgres: Option<String>) -> Result<()> {
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

async fn run(config: Config, apps: usize, requests: usize, backend: &str) -> Result<()> {
    let platform = Platform::start(config.clone(), &[Role::Cc]).await?;
    let api = format!("http://{}", platform.cc_address.context("the CC runs")?);
    let seeded = Instant::now();
    seed_apps(&config.database_url(), apps).await?;
    println!("{backend}: {apps} apps seeded in {:.1}s", seeded.elapsed().as_secs_f64());

    let http = reqwest::Client::new();
    let password = std::fs::read_to_string(config.data_dir.join(crate::cc::seed::ADMIN_PASSWORD_FILE))?;
    let tokens: serde_json::Value = http
        .post(format!("{api}/oauth/token"))
        .basic_auth("cf", Some(""))
        .form(&[("grant_type", "password"), ("username", "admin"), ("password", password.trim())])
        .send()
        .await?
        .json()
        .await?;
    let token = tokens["access_token"].as_str().context("no token")?.to_string();

    let last_page = apps.div_ceil(50).max(1);
    let kinds = [
        ("GET /v2/apps (first page of 50)", "/v2/apps".to_string()),
        ("GET /v2/apps?q=name:… (cf push's lookup)", format!("/v2/apps?q=name:bench-{}", apps / 2)),
        ("GET /v2/apps?page=<last>", format!("/v2/apps?page={last_page}")),
        ("GET /v2/apps?inline-relations-depth=1", "/v2/apps?inline-relations-depth=1".to_string()),
    ];
    println!("{:<44} {:>10} {:>10} {:>10}", "request", "p50 ms", "p99 ms", "max ms");
    for (label, path) in kinds {
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let began = Instant::now();
            let response = http.get(format!("{api}{path}")).bearer_auth(&token).send().await?;
            anyhow::ensure!(response.status().is_success(), "{path} answered {}", response.status());
            response.bytes().await?;
            times.push(began.elapsed());
        }
        times.sort();
        let at = |q: f64| percentile(&times, q);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{label:<44} {:>10.2} {:>10.2} {:>10.2}",
            ms(at(0.50)),
            ms(at(0.99)),
            ms(*times.last().unwrap_or(&Duration::ZERO))
        );
    }
    platform.shutdown().await;
    Ok(())
}

/// Inserts `count` stopped apps into the seeded space, in batches.
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
    tx.commit().await?;
    Ok(())
}
