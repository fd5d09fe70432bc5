//! `wf`: the wasmfoundry binary — the server roles (`wf up`, `wf server`)
//! and the client commands (`wf login`, `wf push`, `wf apps`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use wasmfoundry::cli;
use wasmfoundry::config::Config;
use wasmfoundry::server::{Platform, Role};

#[derive(Parser)]
#[command(name = "wf", version, about = "wasmfoundry: Cloud Foundry v2 for WebAssembly components")]
struct Wf {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole platform in this process (CC, DEA, router) on the embedded defaults.
    Up(ServerArgs),
    /// Run some server roles against shared backends.
    Server {
        /// Comma-separated: cc, dea, router.
        #[arg(long, default_value = "cc,dea,router")]
        roles: String,
        #[command(flatten)]
        args: ServerArgs,
    },
    /// Log in to a Cloud Controller and target an org and space.
    Login {
        #[arg(short = 'a', long = "api")]
        api: String,
        #[arg(short = 'u', long = "username")]
        username: String,
        #[arg(short = 'p', long = "password")]
        password: String,
        #[arg(short = 'o', long = "org")]
        org: Option<String>,
        #[arg(short = 's', long = "space")]
        space: Option<String>,
    },
    /// Push an app (or every app of a manifest): create it, upload its files, stage and start it.
    Push {
        /// The app's name (optional with a manifest).
        name: Option<String>,
        /// The app's directory.
        #[arg(short = 'p', long = "path")]
        path: Option<String>,
        /// A manifest (default: manifest.yml in the app's directory, if any).
        #[arg(short = 'f', long = "manifest")]
        manifest: Option<PathBuf>,
        /// A buildpack by name (default: detect).
        #[arg(short = 'b', long = "buildpack")]
        buildpack: Option<String>,
        #[arg(short = 'i', long = "instances")]
        instances: Option<u32>,
        /// Memory per instance, e.g. 64M or 1G.
        #[arg(short = 'm', long = "memory")]
        memory: Option<String>,
        /// The start command (a component under the app and its arguments).
        #[arg(short = 'c', long = "command")]
        command: Option<String>,
        /// Do not map a route.
        #[arg(long = "no-route")]
        no_route: bool,
        /// Map a route with a random host.
        #[arg(long = "random-route")]
        random_route: bool,
    },
    /// List the apps of the targeted space.
    Apps,
    /// Show an app and its instances.
    App {
        name: String,
    },
    Start {
        name: String,
    },
    Stop {
        name: String,
    },
    Restart {
        name: String,
    },
    /// Change an app's instances or memory.
    Scale {
        name: String,
        #[arg(short = 'i')]
        instances: Option<u32>,
        #[arg(short = 'm')]
        memory: Option<String>,
    },
    /// Delete an app (and with -r its routes).
    Delete {
        name: String,
        #[arg(short = 'r')]
        routes: bool,
        /// Accepted for cf compatibility; wf never asks.
        #[arg(short = 'f')]
        force: bool,
    },
    /// Show an app's recent events.
    Events {
        name: String,
    },
    /// Follow an app's logs (or dump the recent ones).
    Logs {
        name: String,
        #[arg(long)]
        recent: bool,
    },
    /// Show or set the targeted org and space.
    Target {
        #[arg(short = 'o')]
        org: Option<String>,
        #[arg(short = 's')]
        space: Option<String>,
    },
    Orgs,
    Spaces,
    CreateOrg {
        name: String,
    },
    CreateSpace {
        name: String,
        #[arg(short = 'o')]
        org: Option<String>,
    },
    CreateUser {
        username: String,
        password: String,
    },
    /// ROLE: OrgManager, BillingManager or OrgAuditor.
    SetOrgRole {
        username: String,
        org: String,
        role: String,
    },
    /// ROLE: SpaceManager, SpaceDeveloper or SpaceAuditor.
    SetSpaceRole {
        username: String,
        org: String,
        space: String,
        role: String,
    },
    Routes,
    CreateRoute {
        domain: String,
        #[arg(long = "hostname", short = 'n')]
        hostname: String,
    },
    MapRoute {
        app: String,
        domain: String,
        #[arg(long = "hostname", short = 'n')]
        hostname: String,
    },
    /// Add an admin buildpack from a .wasm (or a zip holding one).
    CreateBuildpack {
        name: String,
        path: String,
        position: u32,
    },
    Buildpacks,
    Quotas,
    /// Run WebAssembly here: `wf wasm run FILE [ARGS…]`.
    Wasm {
        #[command(subcommand)]
        what: Wasm,
    },
    /// Benchmarks: `wf bench api` times the CC's app listings at scale.
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

#[derive(Subcommand)]
enum Wasm {
    /// Run a wasi:cli component or a WASI preview 1 module as the platform would.
    Run {
        /// Give the guest a directory: HOST::GUEST (or DIR for the same path).
        #[arg(long = "dir")]
        dirs: Vec<String>,
        /// Set an environment variable: KEY=value.
        #[arg(long = "env")]
        env: Vec<String>,
        /// Memory limit, e.g. 64M.
        #[arg(long, default_value = "256M")]
        memory: String,
        /// Seconds before the guest is stopped.
        #[arg(long)]
        timeout: Option<u64>,
        file: String,
        /// Arguments for the guest.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// GET /v2/apps latency (p50/p99) with many apps, on SQLite or PostgreSQL.
    Api {
        #[arg(long, default_value_t = 10_000)]
        apps: usize,
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// A PostgreSQL server to benchmark on (a scratch database is made and dropped).
        #[arg(long)]
        postgres: Option<String>,
    },
}

#[derive(Args)]
struct ServerArgs {
    /// A YAML config file (keys as in Config; WF_* variables override).
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    cc_listen: Option<SocketAddr>,
    #[arg(long)]
    router_listen: Option<SocketAddr>,
    #[arg(long)]
    bus_url: Option<String>,
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long)]
    blobstore_url: Option<String>,
}

impl ServerArgs {
    fn config(self) -> Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(v) = self.data_dir {
            config.data_dir = v;
        }
        if let Some(v) = self.cc_listen {
            config.cc_listen = v;
        }
        if let Some(v) = self.router_listen {
            config.router_listen = v;
        }
        if let Some(v) = self.bus_url {
            config.bus_url = v;
        }
        config.database_url = self.database_url.or(config.database_url);
        config.blobstore_url = self.blobstore_url.or(config.blobstore_url);
        Ok(config)
    }
}

async fn serve(args: ServerArgs, roles: &[Role]) -> Result<()> {
    let platform = Platform::start(args.config()?, roles).await?;
    if let Some(cc) = platform.cc_address {
        println!("Cloud Controller API: http://{cc}   (wf login -a http://{cc} -u admin -p <password>)");
    }
    if let Some(router) = platform.router_address {
        println!("Router:               http://{router}   (apps at http://<app>.localhost:{})", router.port());
    }
    if platform.dea.is_some() {
        println!("DEA:                  running");
    }
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    println!("Stopping...");
    platform.shutdown().await;
    Ok(())
}

/// `wf push` flags, which override what a manifest says.
struct PushFlags {
    path: Option<String>,
    manifest: Option<PathBuf>,
    buildpack: Option<String>,
    instances: Option<u32>,
    memory: Option<String>,
    command: Option<String>,
    no_route: bool,
    random_route: bool,
}

/// Pushes the named app, or the apps of the manifest, flags winning.
async fn push(name: Option<String>, flags: PushFlags) -> Result<()> {
    let dir = PathBuf::from(flags.path.clone().unwrap_or_else(|| ".".into()));
    let manifest = flags.manifest.clone().or_else(|| Some(dir.join("manifest.yml")).filter(|m| m.exists()));
    let mut apps = match &manifest {
        Some(file) => cli::manifest::read(file)?,
        None => Vec::new(),
    };
    match &name {
        Some(name) => {
            apps.retain(|a| &a.name == name);
            if apps.is_empty() {
                apps.push(cli::push::PushOptions {
                    name: name.clone(),
                    path: dir.to_string_lossy().into_owned(),
                    ..Default::default()
                });
            }
        }
        None if apps.is_empty() => anyhow::bail!("name the app to push, or give a manifest.yml"),
        None => {}
    }
    let memory_mb = flags.memory.as_deref().map(cli::push::parse_memory).transpose()?;
    for mut app in apps {
        app.buildpack = flags.buildpack.clone().or(app.buildpack);
        app.instances = flags.instances.or(app.instances);
        app.memory_mb = memory_mb.or(app.memory_mb);
        app.command = flags.command.clone().or(app.command);
        app.no_route |= flags.no_route;
        app.random_route |= flags.random_route;
        cli::push::push(app).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WF_LOG").unwrap_or_else(|_| "warn,wasmfoundry=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match Wf::parse().command {
        Command::Up(args) => serve(args, &Role::ALL).await,
        Command::Server { roles, args } => match Role::parse_list(&roles) {
            Ok(roles) => serve(args, &roles).await,
            Err(e) => Err(e),
        },
        Command::Login { api, username, password, org, space } => {
            cli::login::login(&api, &username, &password, org.as_deref(), space.as_deref()).await
        }
        Command::Push { name, path, manifest, buildpack, instances, memory, command, no_route, random_route } => {
            let flags = PushFlags { path, manifest, buildpack, instances, memory, command, no_route, random_route };
            push(name, flags).await
        }
        Command::Apps => cli::apps::apps().await,
        Command::App { name } => cli::app::show(&name).await,
        Command::Start { name } => cli::app::set_state(&name, "STARTED").await,
        Command::Stop { name } => cli::app::set_state(&name, "STOPPED").await,
        Command::Restart { name } => cli::app::restart(&name).await,
        Command::Scale { name, instances, memory } => {
            match memory.as_deref().map(cli::push::parse_memory).transpose() {
                Ok(memory_mb) => cli::app::scale(&name, instances, memory_mb).await,
                Err(e) => Err(e),
            }
        }
        Command::Delete { name, routes, force: _ } => cli::app::delete(&name, routes).await,
        Command::Events { name } => cli::app::events(&name).await,
        Command::Logs { name, recent } => cli::logs::logs(&name, recent).await,
        Command::Target { org, space } => cli::target::target(org.as_deref(), space.as_deref()).await,
        Command::Orgs => cli::target::orgs().await,
        Command::Spaces => cli::target::spaces().await,
        Command::CreateOrg { name } => cli::admin::create_org(&name).await,
        Command::CreateSpace { name, org } => cli::admin::create_space(&name, org.as_deref()).await,
        Command::CreateUser { username, password } => cli::admin::create_user(&username, &password).await,
        Command::SetOrgRole { username, org, role } => cli::admin::set_org_role(&username, &org, &role).await,
        Command::SetSpaceRole { username, org, space, role } => {
            cli::admin::set_space_role(&username, &org, &space, &role).await
        }
        Command::Routes => cli::routes::routes().await,
        Command::CreateRoute { domain, hostname } => cli::routes::create_route(&domain, &hostname).await,
        Command::MapRoute { app, domain, hostname } => cli::routes::map_route(&app, &domain, &hostname).await,
        Command::CreateBuildpack { name, path, position } => cli::admin::create_buildpack(&name, &path, position).await,
        Command::Buildpacks => cli::admin::buildpacks().await,
        Command::Quotas => cli::admin::quotas().await,
        Command::Bench { what: Bench::Api { apps, requests, postgres } } => {
            cli::bench::api(apps, requests, postgres).await
        }
        Command::Wasm { what: Wasm::Run { dirs, env, memory, timeout, file, args } } => {
            let options = |memory_mb| cli::wasm::RunOptions {
                file,
                args,
                dirs,
                env,
                memory_mb,
                timeout: timeout.map(std::time::Duration::from_secs),
            };
            match cli::push::parse_memory(&memory).map(options) {
                Ok(options) => match cli::wasm::run(options).await {
                    Ok(code) => std::process::exit(code),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            }
        }
    };
    if let Err(e) = result {
        eprintln!("FAILED\n{e:#}");
        std::process::exit(1);
    }
}
