//! `wf`: the wasmfoundry binary — the server roles (`wf up`, `wf server`)
//! and the client commands (`wf login`, `wf push`, `wf apps`).

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use wasmfoundry::cli::args::{Bench, Command, GuestArgs, PushFlags, Wasm, Wf};
use wasmfoundry::config::Config;
use wasmfoundry::server::{Platform, Role};
use wasmfoundry::{bench, cli};

async fn serve(config: Config, roles: &[Role]) -> Result<()> {
    let platform = Platform::start(config, roles).await?;
    if let Some(api) = &platform.cc_url {
        let skip = if api.starts_with("https:") { " --skip-ssl-validation" } else { "" };
        println!("Cloud Controller API: {api}   (wf login -a {api}{skip} -u admin -p <password>)");
    }
    if let Some(router) = platform.router_address {
        println!("Router:               http://{router}   (apps at http://<app>.localhost:{})", router.port());
    }
    if let Some(router) = platform.router_tls_address {
        println!("Router (HTTPS):       https://{router}   (apps at https://<app>.localhost:{})", router.port());
    }
    if let Some(metrics) = platform.metrics_address {
        println!("Metrics:              http://{metrics}/metrics");
    }
    if platform.dea.is_some() {
        println!("DEA:                  running");
    }
    if roles.contains(&Role::Hm) {
        println!("Health manager:       running");
    }
    if let Some(broker) = platform.broker_address {
        println!("Service broker:       http://{broker}   (postgresql, in wf marketplace)");
    }
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    println!("Stopping...");
    platform.shutdown().await;
    Ok(())
}

async fn deploy(file: &std::path::Path, dir: &std::path::Path) -> Result<()> {
    let manifest = wasmfoundry::deployment::Manifest::read(file)?;
    let instances = manifest.instances(dir)?;
    println!("Deploying {} job instance(s) from {} (Ctrl-C stops them all)", instances.len(), file.display());
    wasmfoundry::deployment::supervise(instances).await
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
    let memory_mb = flags.memory.as_deref().map(wasmfoundry::protocol::manifest::parse_memory).transpose()?;
    let disk_quota_mb = flags.disk.as_deref().map(wasmfoundry::protocol::manifest::parse_memory).transpose()?;
    for mut app in apps {
        app.buildpack = flags.buildpack.clone().or(app.buildpack);
        app.instances = flags.instances.or(app.instances);
        app.memory_mb = memory_mb.or(app.memory_mb);
        app.disk_quota_mb = disk_quota_mb.or(app.disk_quota_mb);
        app.health_check_type = flags.health_check_type.clone().or(app.health_check_type);
        app.health_check_timeout = flags.timeout.or(app.health_check_timeout);
        app.command = flags.command.clone().or(app.command);
        app.no_route |= flags.no_route;
        app.random_route |= flags.random_route;
        cli::push::push(app).await?;
    }
    Ok(())
}

/// A client command piped into `head` ends quietly when the pipe closes,
/// as Unix tools do, instead of panicking on the failed write. (Servers keep
/// ignoring SIGPIPE: a client hanging up must not kill them.)
fn die_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: only SIGPIPE's disposition changes, back to the default; no
    // handler of ours runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WF_LOG").unwrap_or_else(|_| "warn,wasmfoundry=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let command = Wf::parse().command;
    if !matches!(command, Command::Up(_) | Command::Server { .. } | Command::Deploy { .. }) {
        die_on_closed_pipe();
    }
    let result = match command {
        Command::Up(args) => match args.config(Config::UP_PRESETS) {
            Ok(config) => serve(config, &Role::ALL).await,
            Err(e) => Err(e),
        },
        Command::Server { roles, args } => match (Role::parse_list(&roles), args.config(&[])) {
            (Ok(roles), Ok(config)) => serve(config, &roles).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        Command::Deploy { file, dir } => deploy(&file, &dir).await,
        Command::CreateServiceBroker { name, username, password, url, space_scoped } => {
            cli::brokers::create(&name, &username, &password, &url, space_scoped).await
        }
        Command::ServiceBrokers => cli::brokers::list().await,
        Command::DeleteServiceBroker { name, force: _ } => cli::brokers::delete(&name).await,
        Command::UpdateServiceBroker { name, username, password, url } => {
            let body = serde_json::json!({"auth_username": username, "auth_password": password, "broker_url": url});
            cli::brokers::update(&name, body, &format!("Updated service broker {name}")).await
        }
        Command::RenameServiceBroker { name, new_name } => {
            let body = serde_json::json!({"name": new_name});
            cli::brokers::update(&name, body, &format!("Renamed service broker {name} to {new_name}")).await
        }
        Command::Marketplace => cli::brokers::marketplace().await,
        Command::EnableServiceAccess { service, plan, org } => {
            cli::brokers::set_access(&service, plan.as_deref(), org.as_deref(), true).await
        }
        Command::DisableServiceAccess { service, plan, org } => {
            cli::brokers::set_access(&service, plan.as_deref(), org.as_deref(), false).await
        }
        Command::Login { api, username, password, org, space, skip_ssl_validation } => {
            let target = cli::login::Target { api: &api, skip_ssl_validation };
            cli::login::login(target, &username, &password, org.as_deref(), space.as_deref()).await
        }
        Command::Push { name, flags } => push(name, flags).await,
        Command::Apps => cli::apps::apps().await,
        Command::App { name } => cli::apps::show(&name).await,
        Command::Start { name } => cli::apps::set_state(&name, "STARTED").await,
        Command::Stop { name } => cli::apps::set_state(&name, "STOPPED").await,
        Command::Restart { name, strategy, max_in_flight } => {
            cli::deployments::restart(&name, cli::deployments::Strategy { name: strategy, max_in_flight }).await
        }
        Command::ContinueDeployment { name } => cli::deployments::continue_deployment(&name).await,
        Command::CancelDeployment { name } => cli::deployments::cancel_deployment(&name).await,
        Command::Restage { name } => cli::apps::restage(&name).await,
        Command::Scale { name, instances, memory } => {
            match memory.as_deref().map(wasmfoundry::protocol::manifest::parse_memory).transpose() {
                Ok(memory_mb) => cli::apps::scale(&name, instances, memory_mb).await,
                Err(e) => Err(e),
            }
        }
        Command::Delete { name, routes, force: _ } => cli::apps::delete(&name, routes).await,
        Command::RunTask { app, command, name, memory, disk, wait } => {
            let megabytes =
                |text: Option<String>| text.as_deref().map(wasmfoundry::protocol::manifest::parse_memory).transpose();
            match (megabytes(memory), megabytes(disk)) {
                (Ok(memory_mb), Ok(disk_mb)) => {
                    let request = cli::tasks::RunTask {
                        app: &app,
                        command: &command,
                        name: name.as_deref(),
                        memory_mb,
                        disk_mb,
                        wait,
                    };
                    cli::tasks::run(request).await
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        Command::Tasks { app } => cli::tasks::list(&app).await,
        Command::TerminateTask { app, id } => cli::tasks::terminate(&app, id).await,
        Command::Events { name } => cli::apps::events(&name).await,
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
        Command::CreateUserProvidedService { name, credentials, syslog_drain_url } => {
            cli::services::create_user_provided(&name, credentials.as_deref(), syslog_drain_url.as_deref()).await
        }
        Command::CreateService { service, plan, name, parameters, tags } => {
            cli::services::create(&service, &plan, &name, parameters.as_deref(), tags.as_deref()).await
        }
        Command::UpdateService { name, plan, parameters, tags } => {
            cli::services::update(&name, plan.as_deref(), parameters.as_deref(), tags.as_deref()).await
        }
        Command::RenameService { name, new_name } => cli::services::rename(&name, &new_name).await,
        Command::Service { name } => cli::services::show(&name).await,
        Command::Services => cli::services::list().await,
        Command::BindService { app, service, parameters } => {
            cli::services::bind(&app, &service, parameters.as_deref()).await
        }
        Command::UnbindService { app, service } => cli::services::unbind(&app, &service).await,
        Command::DeleteService { name, force: _ } => cli::services::delete(&name, false).await,
        Command::PurgeServiceInstance { name, force: _ } => cli::services::delete(&name, true).await,
        Command::CreateServiceKey { service, key, parameters } => {
            cli::service_keys::create(&service, &key, parameters.as_deref()).await
        }
        Command::ServiceKeys { service } => cli::service_keys::list(&service).await,
        Command::ServiceKey { service, key } => cli::service_keys::show(&service, &key).await,
        Command::DeleteServiceKey { service, key, force: _ } => cli::service_keys::delete(&service, &key).await,
        Command::Bench { what: Bench::Api { apps, requests, postgres } } => {
            bench::api::api(apps, requests, postgres).await
        }
        Command::Bench { what: Bench::Dea { runs, seconds, connections, wasmtime } } => {
            bench::dea::dea(bench::dea::DeaBench { runs, seconds, connections, wasmtime }).await
        }
        Command::Bench { what: Bench::Push { runs, wasmtime } } => bench::push::push(runs, wasmtime).await,
        Command::Bench { what: Bench::Languages { runs, seconds, connections, idle, apps } } => {
            bench::languages::languages(bench::languages::LanguagesBench { runs, seconds, connections, idle, apps })
                .await
        }
        Command::Bench { what: Bench::DeaStart { data_dir, blobstore_url, droplet } } => {
            bench::dea::start_once(data_dir, blobstore_url, droplet).await
        }
        Command::Bench { what: Bench::Load { address, host, path, headers, seconds, requests, connections } } => {
            use bench::load::{Target, Until, generate};
            let until = requests.map(Until::Requests).unwrap_or(Until::Seconds(seconds.unwrap_or(10.0)));
            generate(Target { address, host, path, headers }, until, connections).await
        }
        Command::Bench { what: Bench::Density { instances, seconds } } => {
            bench::density::density(instances, seconds).await
        }
        Command::Bench { what: Bench::Hm { instances, nats_server, postgres } } => {
            bench::hm::hm(bench::hm::HmBench { instances, nats_server, postgres }).await
        }
        Command::Wasm { what: Wasm::Run { guest, file, args } } => match guest_options(guest, file, args) {
            Ok(options) => match cli::wasm::run(options).await {
                Ok(code) => std::process::exit(code),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        Command::Wasm { what: Wasm::Serve { guest, addr, file, args } } => match guest_options(guest, file, args) {
            Ok(options) => cli::wasm::serve(options, addr).await,
            Err(e) => Err(e),
        },
    };
    if let Err(e) = result {
        eprintln!("FAILED\n{e:#}");
        std::process::exit(1);
    }
}

/// What `wf wasm run`/`serve` give the guest.
fn guest_options(guest: GuestArgs, file: String, args: Vec<String>) -> anyhow::Result<cli::wasm::GuestOptions> {
    Ok(cli::wasm::GuestOptions {
        file,
        args,
        dirs: guest.dirs,
        env: guest.env,
        inherit_network: guest.inherit_network,
        memory_mb: wasmfoundry::protocol::manifest::parse_memory(&guest.memory)?,
        timeout: guest.timeout.map(std::time::Duration::from_secs),
    })
}
