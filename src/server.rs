//! Running server roles: `wf up` runs them all in one process on the
//! embedded defaults; `wf server --roles …` runs any subset against shared
//! backends. Roles only share the bus, the blobstore and the CCDB, so the
//! same wiring works in one process or across machines.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;

use crate::blobstore::Blobstore;
use crate::bus::Bus;
use crate::cc::CloudController;
use crate::config::Config;
use crate::dea::{Dea, DeaRef};
use crate::hm::HealthManager;
use crate::router::Router;
use crate::runtime::http::LocalHttpApps;
use crate::tls;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Cc,
    Dea,
    Router,
    Hm,
    /// The built-in `postgresql` service broker (when configured).
    Broker,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Cc, Role::Dea, Role::Router, Role::Hm, Role::Broker];

    pub fn parse_list(text: &str) -> Result<Vec<Role>> {
        text.split(',')
            .map(|r| match r.trim() {
                "cc" => Ok(Role::Cc),
                "dea" => Ok(Role::Dea),
                "router" => Ok(Role::Router),
                "hm" => Ok(Role::Hm),
                "broker" => Ok(Role::Broker),
                other => bail!("unknown role {other:?} (roles: cc, dea, router, hm, broker)"),
            })
            .collect()
    }
}

/// The roles running in this process.
pub struct Platform {
    pub cc_address: Option<SocketAddr>,
    /// Where clients reach the CC (`https://` when it serves TLS).
    pub cc_url: Option<String>,
    pub router_address: Option<SocketAddr>,
    /// Where the router serves HTTPS, when it does.
    pub router_tls_address: Option<SocketAddr>,
    /// Where `GET /metrics` is served apart from the CC and router.
    pub metrics_address: Option<SocketAddr>,
    /// Where the built-in postgresql broker listens, when it runs.
    pub broker_address: Option<SocketAddr>,
    pub dea: Option<DeaRef>,
    /// Ends when the DEA has compiled the built-in buildpacks' runtimes
    /// ([`crate::dea::runtimes`]), for what measures a platform at rest.
    pub runtimes_compiled: Option<tokio::task::JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// What a restarted DEA connects to again.
    backends: (Config, Bus, Blobstore),
    /// The HTTP instances of this process's DEA, for its router.
    local_apps: LocalHttpApps,
}

impl Platform {
    pub async fn start(mut config: Config, roles: &[Role]) -> Result<Platform> {
        give_big_buffers_back();
        std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating {}", config.data_dir.display()))?;
        let bus = crate::bus::connect(&config.bus_url).await?;
        let blobstore = Blobstore::open(&config.blobstore_url())?;
        let mut platform = Platform {
            cc_address: None,
            cc_url: None,
            router_address: None,
            router_tls_address: None,
            metrics_address: None,
            broker_address: None,
            dea: None,
            runtimes_compiled: None,
            tasks: Vec::new(),
            backends: (config.clone(), bus.clone(), blobstore.clone()),
            local_apps: LocalHttpApps::default(),
        };

        // Bind first so the real ports (when asked for port 0) are what the
        // CC advertises.
        let cc_listener =
            if roles.contains(&Role::Cc) { Some(bind(config.cc_listen, "the Cloud Controller").await?) } else { None };
        if let Some(listener) = &cc_listener {
            config.cc_listen = listener.local_addr()?;
            platform.cc_address = Some(config.cc_listen);
            platform.cc_url = Some(config.external_url());
        }
        if roles.contains(&Role::Router) {
            let listener = bind(config.router_listen, "the router").await?;
            config.router_listen = listener.local_addr()?;
            platform.router_address = Some(config.router_listen);
            let tls_listener = match config.router_tls_listen {
                Some(address) => {
                    let listener = bind(address, "the router's HTTPS").await?;
                    config.router_tls_listen = Some(listener.local_addr()?);
                    platform.router_tls_address = config.router_tls_listen;
                    let tls_config = tls::server_config(config.router_certificates()?)?;
                    Some(tls::Listener::new(listener, tls_config)?)
                }
                None => None,
            };
            let router = Router::start(&config, bus.clone(), listener, tls_listener, platform.local_apps.clone());
            platform.tasks.push(router.await?);
        }
        if let Some(address) = config.metrics_listen {
            let listener = bind(address, "the metrics endpoint").await?;
            platform.metrics_address = Some(listener.local_addr()?);
            platform.tasks.push(tokio::spawn(crate::metrics::serve(listener)));
        }
        if roles.contains(&Role::Broker)
            && let Some(url) = config.postgresql_broker_url.clone()
        {
            let listener = bind(config.broker_listen, "the postgresql broker").await?;
            config.broker_listen = listener.local_addr()?;
            platform.broker_address = Some(config.broker_listen);
            platform.tasks.push(crate::broker::start(&config, &url, listener).await?);
        }
        if let Some(listener) = cc_listener {
            let cc = CloudController::start(config.clone(), bus.clone(), blobstore.clone()).await?;
            platform.tasks.extend(cc.background.lock().expect("background tasks").drain(..));
            let app = crate::cc::api::router(cc);
            platform.tasks.push(match &config.cc_tls_certificate {
                Some(certificate) => {
                    let tls_config = tls::server_config(tls::Certificates::Files(vec![certificate.clone()]))?;
                    tokio::spawn(serve_cc(tls::Listener::new(listener, tls_config)?, app))
                }
                None => tokio::spawn(serve_cc(listener, app)),
            });
        }
        if roles.contains(&Role::Hm) {
            platform.tasks.push(HealthManager::start(config.clone(), bus.clone()).await?);
        }
        if roles.contains(&Role::Dea) {
            platform.backends.0 = config.clone();
            let (dea, compiled) = start_dea(config, bus, blobstore, platform.local_apps.clone()).await?;
            (platform.dea, platform.runtimes_compiled) = (Some(dea), compiled);
        }
        Ok(platform)
    }

    /// Stops the DEA as a shutdown does and starts it again, which
    /// re-adopts the instances of its snapshot.
    pub async fn restart_dea(&mut self) -> Result<()> {
        if let Some(dea) = self.dea.take() {
            dea.shutdown().await;
        }
        let (config, bus, blobstore) = self.backends.clone();
        let (dea, compiled) = start_dea(config, bus, blobstore, self.local_apps.clone()).await?;
        (self.dea, self.runtimes_compiled) = (Some(dea), compiled);
        Ok(())
    }

    /// Stops every role: instances are stopped and reported, servers closed.
    pub async fn shutdown(self) {
        if let Some(dea) = &self.dea {
            dea.shutdown().await;
        }
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Serves the CC's API on `listener` (plain or TLS).
async fn serve_cc<L>(listener: L, app: axum::Router)
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("the Cloud Controller stopped: {e}");
    }
}

async fn bind(address: SocketAddr, what: &str) -> Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("{what} cannot listen on {address} (use another port with a flag)"))
}

/// glibc's malloc raises its mmap threshold each time it frees a mapped
/// buffer (up to 32 MiB), after which buffers that size come from its
/// heaps and stay resident once freed. A DEA reads a droplet and its
/// component — tens of megabytes for a language runtime's snapshot — for
/// every instance it starts: with the threshold left to float, each idle
/// instance kept ~7 MB of them. Held at 128 KiB (where glibc starts it),
/// big buffers are mapped for themselves and unmapped when freed.
fn give_big_buffers_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; any thread may call it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Starts a DEA, which compiles the runtimes of the release's buildpacks
/// in the background unless told not to ([`crate::dea::runtimes`]).
async fn start_dea(
    config: Config,
    bus: Bus,
    blobstore: Blobstore,
    local_apps: LocalHttpApps,
) -> Result<(DeaRef, Option<tokio::task::JoinHandle<()>>)> {
    let compile_ahead = config.dea_compile_runtimes_ahead;
    let dea = Dea::start(config, bus, blobstore, local_apps).await?;
    let compiled = compile_ahead.then(|| {
        let buildpacks = crate::cc::release::BUILTIN_BUILDPACKS.iter().map(|package| (package.name, package.bits));
        tokio::spawn(crate::dea::runtimes::compile_ahead(Arc::downgrade(&dea), buildpacks.collect()))
    });
    Ok((dea, compiled))
}
