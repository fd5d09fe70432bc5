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
    /// Push an app: create it, upload its files, stage and start it.
    Push {
        name: String,
        /// The app's directory.
        #[arg(short = 'p', long = "path", default_value = ".")]
        path: String,
        /// A buildpack by name (default: detect).
        #[arg(short = 'b', long = "buildpack")]
        buildpack: Option<String>,
        #[arg(short = 'i', long = "instances")]
        instances: Option<u32>,
        /// Memory per instance, e.g. 64M or 1G.
        #[arg(short = 'm', long = "memory")]
        memory: Option<String>,
    },
    /// List the apps of the targeted space.
    Apps,
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
        Command::Push { name, path, buildpack, instances, memory } => {
            match memory.as_deref().map(cli::push::parse_memory).transpose() {
                Ok(memory_mb) => {
                    cli::push::push(cli::push::PushOptions { name, path, buildpack, instances, memory_mb }).await
                }
                Err(e) => Err(e),
            }
        }
        Command::Apps => cli::apps::apps().await,
    };
    if let Err(e) = result {
        eprintln!("FAILED\n{e:#}");
        std::process::exit(1);
    }
}
