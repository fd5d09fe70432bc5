//! The Cloud Controller: CF's source of desired state. It owns the CCDB
//! (orgs, spaces, apps, routes, buildpacks…), serves the v2 REST API and
//! the UAA-compatible login, stores packages in the blobstore, and turns
//! changes of desired state into work for the DEAs on the bus: staging
//! requests to the stager pool, `dea.<id>.start` to the DEA pool, `dea.stop`
//! — its own, and those the health manager asks for on `health.start` and
//! `health.stop`.

pub mod api;
pub mod app_changes;
pub mod app_observer;
pub mod auth;
pub mod buildpacks;
pub mod dea_pool;
pub mod deployments;
pub mod error;
pub mod health_respondent;
pub mod logs;
pub mod membership;
pub mod metrics;
pub mod model;
pub mod osb;
pub mod packages;
pub mod permissions;
pub mod process_changes;
pub mod quotas;
pub mod release;
pub mod rollout;
pub mod route_services;
pub mod routing;
pub mod runner;
pub mod security_groups;
pub mod seed;
pub mod service_brokers;
pub mod service_updates;
pub mod services;
pub mod stager;
pub mod tasks;
pub mod tenancy;
pub mod v2;
pub mod v3;

use std::sync::Arc;

use anyhow::Result;
use sqlx::AnyPool;

use crate::blobstore::Blobstore;
use crate::bus::Bus;
use crate::config::Config;
use crate::lifecycle::actual::ActualState;

/// Everything a CC request handler can reach.
pub struct CloudController {
    /// Lasting across restarts (see [`seed::cc_id`]).
    pub id: String,
    pub config: Config,
    pub db: AnyPool,
    pub bus: Bus,
    pub blobstore: Blobstore,
    pub tokens: auth::TokenIssuer,
    pub deas: dea_pool::DeaPool,
    /// What the DEAs run, from their heartbeats.
    pub actual: Arc<ActualState>,
    pub logs: logs::AppLogs,
    /// The one client every request to a service broker goes through.
    pub broker_client: reqwest::Client,
    /// The CC's own loops (the broker poller, the built-in broker's
    /// registration), for whoever runs the CC to stop with it.
    pub background: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

pub type Cc = Arc<CloudController>;

impl CloudController {
    /// Opens the CCDB (running migrations), seeds the defaults, and starts
    /// listening to the bus for DEA adverts, crashes and app logs.
    pub async fn start(config: Config, bus: Bus, blobstore: Blobstore) -> Result<Cc> {
        let db = crate::ccdb::connect(&config.database_url()).await?;
        let secret = seed::token_secret(&db, &config.data_dir).await?;
        let tokens = auth::TokenIssuer::new(&secret, format!("{}/oauth/token", config.external_url()));
        let id = seed::cc_id(&config.data_dir)?;
        let cc = Arc::new(CloudController {
            id,
            deas: dea_pool::DeaPool::new(config.dea_timeout()),
            actual: Arc::new(ActualState::new(config.dea_timeout())),
            logs: logs::AppLogs::default(),
            broker_client: osb::client::http_client(&config)?,
            background: Default::default(),
            config,
            db,
            bus,
            blobstore,
            tokens,
        });
        seed::seed(&cc).await?;
        dea_pool::listen(cc.clone()).await?;
        crate::lifecycle::actual::listen(&cc.bus, cc.actual.clone()).await?;
        health_respondent::listen(cc.clone()).await?;
        model::job::Job::fail_interrupted(&cc.db, &cc.id).await?;
        stager::resume_lost_stagings(cc.clone());
        logs::listen(cc.clone()).await?;
        runner::listen_for_exits(cc.clone()).await?;
        tasks::listen(cc.clone()).await?;
        deployments::updater(&cc);
        let loops = [Some(osb::poller::spawn(cc.clone())), osb::builtin::register(cc.clone())];
        cc.background.lock().expect("background tasks").extend(loops.into_iter().flatten());
        Ok(cc)
    }
}

/// Timestamps as the v2 API shows them: RFC 3339, UTC, whole seconds.
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}
