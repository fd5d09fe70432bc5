//! How an instance starts: its droplet (cached by SHA1) unpacked into the
//! instance directory, the CF environment built, the start command's
//! component (or preview 1 module) compiled or taken from the cache (a
//! snapshot not compiled yet may start from what it was taken of:
//! [`crate::runtime::snapshot_base`]), then,
//! within the app's [`GuestLimits`] and by what it exports:
//!
//! - a `wasi:http/incoming-handler` (WASI 0.2) or `wasi:http/handler`
//!   (WASI 0.3) component is served by the DEA at its gateway (its port is
//!   the instance's: [`super::gateway`]), a store per request
//!   ([`crate::runtime::http`]);
//! - a `wasi:cli/run` component (WASI 0.2 or 0.3), or a preview 1
//!   module's `_start`, runs as a long-lived program that listens on
//!   `$PORT` itself ([`crate::runtime::command`]), with wasi:sockets as
//!   [`SocketPolicy`] allows (a preview 1 module has no sockets: it is a
//!   worker, not a web process). It is RUNNING once its port accepts
//!   connections (CF's port health check), or at once for
//!   `health_check_type` `process` and `none`; its exit is a crash.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wasmtime::component::Component;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use super::egress::SocketPolicy;
use super::env;
use super::health;
use super::instance::{Instance, Server, crash, exited, tell};
use super::log::GuestLogs;
use super::metrics::METRICS;
use super::{Dea, DeaRef, app_limits, droplet};
use crate::blobstore::{keys, sha1_hex};
use crate::bus::BusExt;
use crate::protocol::messages::{DeaStart, InstanceState, LogMessage};
use crate::protocol::vcap::InstanceFacts;
use crate::runtime::Compiled;
use crate::runtime::command::{self, CliVersion};
use crate::runtime::guest::LogStream;
use crate::runtime::http::HttpApp;
use crate::runtime::limits::GuestLimits;
use crate::runtime::linker::file_writes_checked;
use crate::runtime::network::{SocketCheck, allow_network};
use crate::runtime::snapshot_base::{self, Compiling, Start};

/// Starts an instance (under `id` when re-adopting one the DEA saved);
/// failures to start are reported as a crash.
pub async fn start(dea: DeaRef, start: DeaStart, id: Option<String>) {
    // A start beyond the DEA's room (placed on an advert that was out of
    // date) is refused, not run: the health manager places it elsewhere.
    if id.is_none() && dea.instance_room(dea.instance_count()) == 0 {
        return refuse(&dea, &start).await;
    }
    let instance = Instance::add(&dea, start, id);
    tell(&dea, &instance, format!("Cell {} creating container for instance {}", dea.id, instance.id)).await;
    match boot(&dea, &instance).await {
        Ok(()) => {
            METRICS.start(true);
            instance.set_state(InstanceState::Running);
            if let Err(e) = instance.register(&dea).await {
                tracing::warn!("registering routes: {e:#}");
            }
            let _ = dea.advertise().await;
            // After the heartbeat: whoever waits on this line finds the CC knowing it.
            tell(&dea, &instance, "Container became healthy".into()).await;
        }
        Err(e) => {
            METRICS.start(false);
            crash(&dea, &instance, format!("failed to start: {e:#}")).await
        }
    }
    // Its droplet and compiled code are cached now.
    dea.caches_changed.notify_one();
}

/// Reports a start the DEA has no room for as an instance that crashed
/// at once (it never ran: no directory, nothing held).
async fn refuse(dea: &Dea, start: &DeaStart) {
    let why = format!("Cell {} has no room for another instance (it holds its most)", dea.id);
    tracing::warn!("refusing instance {} of app {}: no room", start.index, start.droplet);
    let line = LogMessage::new(start.app_guid(), "CELL", &start.index.to_string(), "ERR", why.clone());
    let _ = dea.bus.publish(&line.subject(), &line).await;
    exited(dea, start, &uuid::Uuid::new_v4().simple().to_string(), "CRASHED", 255, why).await;
}

/// The droplet's bytes, from the DEA's cache (a use, for its order:
/// [`super::cache`]) or the blobstore (checked against its SHA1 before it
/// is cached).
pub(super) async fn droplet_bytes(dea: &Dea, sha1: &str) -> Result<Vec<u8>> {
    let cached = dea.dir.join("droplets").join(format!("{sha1}.tgz"));
    if let Ok(bytes) = tokio::fs::read(&cached).await {
        crate::file_cache::touch(&cached);
        return Ok(bytes);
    }
    let bytes = dea.blobstore.get(&keys::droplet(sha1)).await?.to_vec();
    if sha1_hex(&bytes) != sha1 {
        bail!("droplet {sha1} in the blobstore does not match its SHA1");
    }
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(cached.parent().expect("droplet cache dir"))?;
        crate::write_aside::content_addressed(&cached, &bytes)?;
        Ok(bytes)
    })
    .await?
}

async fn boot(dea: &DeaRef, instance: &Arc<Instance>) -> Result<()> {
    let start = &instance.start;
    let bytes = droplet_bytes(dea, &start.sha1).await?;
    let dir = instance.dir.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        droplet::unpack(&bytes, &dir)?;
        std::fs::create_dir_all(dir.join("tmp"))?;
        std::fs::create_dir_all(dir.join("logs"))?;
        Ok(())
    })
    .await??;
    let info = droplet::read_staging_info(&instance.dir)?;
    let environment_at = |port: u16| {
        let facts = InstanceFacts {
            instance_id: &instance.id,
            host: &dea.config.dea_host,
            port,
            started_at: instance.started_at,
        };
        env::with_profile_d(env::instance(start, &facts, &info.config_vars), &instance.dir.join("app"))
    };

    // An HTTP app is served at the DEA's gateway, its port; a program
    // listens itself, on a port chosen free here and let go.
    let command = start.effective_start_command(&info.start_command);
    let mut environment = environment_at(dea.gateway_port);
    let (component_path, mut args) = env::start_program(&command, &environment)?;
    let wasm = tokio::fs::read(instance.dir.join("app").join(&component_path))
        .await
        .with_context(|| format!("reading {component_path} named by the start command"))?;
    let sha1 = instance.code_sha1.get_or_init(|| sha1_hex(&wasm)).clone();
    let (program, snapshot) = compile(dea, instance, sha1, wasm).await?;
    let kind = AppKind::of(&program, dea.runtime.engine());
    let port = match kind {
        Some(AppKind::Http) | None => dea.gateway_port,
        Some(AppKind::Command) => {
            let free = TcpListener::bind((dea.config.dea_host.as_str(), 0)).await.context("choosing the app's port")?;
            let port = free.local_addr()?.port();
            // Its $PORT (and a start command naming it) are its own.
            environment = environment_at(port);
            args = env::start_program(&command, &environment)?.1;
            port
        }
    };
    instance.status.lock().expect("instance status").port = port;
    tokio::fs::write(instance.dir.join("logs/env.log"), env::env_log(&environment)).await?;

    let logs = GuestLogs::new(
        dea.bus.clone(),
        start.app_guid(),
        &start.log_source(),
        &start.index.to_string(),
        Some(&instance.dir.join("logs")),
    )?;
    let sockets = SocketPolicy { port: Some(port), rules: Arc::new(start.egress_network_rules.clone()) }.check();
    let limits = GuestLimits {
        max_busy: Some(Duration::from_secs(dea.config.max_busy_seconds)),
        ..app_limits(&start.limits, &instance.dir, sockets.clone(), logs.stderr.clone())
    };
    if let Some(disk) = limits.disk.as_ref().filter(|_| !file_writes_checked(&program, dea.runtime.engine())) {
        disk.mark_writes_unchecked();
    }
    *instance.limits.lock().expect("instance limits") = Some(limits.clone());
    let (app_dir, tmp_dir) = (instance.dir.join("app"), instance.dir.join("tmp"));
    let make_wasi = move || {
        let (out, err) = (&logs.stdout, &logs.stderr);
        instance_view(&environment, &args, (out, err), (&app_dir, &tmp_dir), Some(sockets.clone()))
    };

    match (&program, kind) {
        (Compiled::Component(component), Some(AppKind::Http)) => {
            serve(dea, instance, component, snapshot, make_wasi, limits).await
        }
        (_, Some(AppKind::Command)) => {
            // A program is one store: it starts from the snapshot.
            let program = match snapshot {
                Some(compiling) => Compiled::Component(compiling.await??),
                None => program,
            };
            run_program(dea, instance, program, make_wasi()?, limits).await
        }
        _ => bail!(
            "{component_path} is neither an HTTP app (exporting wasi:http/incoming-handler@0.2 or handler@0.3) \
             nor a program (exporting wasi:cli/run@0.2 or @0.3, or a preview 1 module's _start)"
        ),
    }
}

/// The start command's guest (`wasm`, of SHA1 `sha1`) compiled, or taken
/// from the cache; a snapshot not compiled yet starts from its base where
/// this DEA has it, and the app's log says so, then says when the
/// snapshot takes over.
async fn compile(
    dea: &DeaRef,
    instance: &Arc<Instance>,
    sha1: String,
    wasm: Vec<u8>,
) -> Result<(Compiled, Option<Compiling>)> {
    match snapshot_base::start(&dea.runtime, sha1, wasm).await? {
        Start::Compiled(program) => Ok((program, None)),
        Start::Base { base, snapshot } => {
            let why = "Starting from the app's runtime, which loads the app, while its snapshot compiles";
            tell(dea, instance, why.into()).await;
            let (dea, instance) = (dea.clone(), instance.clone());
            let compiled = tokio::spawn(async move {
                let compiled = snapshot.await??;
                tell(&dea, &instance, "Snapshot compiled: new requests start from it".into()).await;
                Ok(compiled)
            });
            Ok((Compiled::Component(base), Some(compiled)))
        }
    }
}

/// The WASI a guest runs with as an instance sees it (staging's
/// pre-initialisation too): its environment and arguments, its stdout and
/// stderr, the app at HOME and scratch space at TMPDIR (read-write), and
/// sockets where `network` allows.
pub(super) fn instance_view(
    environment: &[(String, String)],
    args: &[String],
    (stdout, stderr): (&LogStream, &LogStream),
    (app_dir, tmp_dir): (&Path, &Path),
    network: Option<SocketCheck>,
) -> Result<WasiCtxBuilder> {
    let mut wasi = WasiCtx::builder();
    wasi.envs(environment).args(args).stdout(stdout.clone()).stderr(stderr.clone());
    wasi.preopened_dir(app_dir, env::HOME, FsPerms::ReadWrite)?;
    wasi.preopened_dir(tmp_dir, env::TMPDIR, FsPerms::ReadWrite)?;
    if let Some(check) = network {
        allow_network(&mut wasi, check);
    }
    Ok(wasi)
}

/// What a guest is, by what it exports.
enum AppKind {
    Http,
    Command,
}

impl AppKind {
    fn of(program: &Compiled, engine: &wasmtime::Engine) -> Option<AppKind> {
        match program {
            Compiled::Module(module) => module.get_export("_start").is_some().then_some(AppKind::Command),
            Compiled::Component(component) => {
                let http = component.component_type().exports(engine).any(|(name, _)| {
                    name.starts_with("wasi:http/incoming-handler@0.2") || name.starts_with("wasi:http/handler@0.3")
                });
                if http { Some(AppKind::Http) } else { CliVersion::of(component, engine).map(|_| AppKind::Command) }
            }
        }
    }
}

/// Serves an HTTP app at the DEA's gateway until stopped; a crash of one
/// of its requests crashes the instance. Returns once it passed its
/// health check (only `http` checks ask the app anything: the DEA itself
/// accepts its connections).
async fn serve(
    dea: &DeaRef,
    instance: &Arc<Instance>,
    component: &Component,
    snapshot: Option<Compiling>,
    make_wasi: impl Fn() -> Result<WasiCtxBuilder> + Send + Sync + 'static,
    limits: GuestLimits,
) -> Result<()> {
    let (crashes, mut crashed) = mpsc::unbounded_channel();
    let request_timeout = Duration::from_secs(dea.config.request_timeout);
    let app = HttpApp::new(
        &dea.runtime,
        component,
        make_wasi,
        GuestLimits { max_busy: None, ..limits },
        request_timeout,
        crashes,
    )
    .map_err(|e| anyhow!("the component cannot be served: {e:#}"))?;
    let app = match snapshot {
        Some(compiling) => app.until_compiled(compiling),
        None => app,
    };
    let drain = tokio_util::sync::CancellationToken::new();
    let app = Arc::new(app);
    let listed = dea.local_apps.list(&instance.id, &app);
    let task = tokio::spawn(app.clone().run(listed, drain.clone()));
    app.ready().await;
    *instance.server.lock().expect("instance server") = Some(Server::Http { task, drain });
    let (dea_ref, instance_ref) = (dea.clone(), instance.clone());
    tokio::spawn(async move {
        if let Some(description) = crashed.recv().await {
            crash(&dea_ref, &instance_ref, description).await;
        }
    });
    let at = health::At { host: &dea.config.dea_host, port: dea.gateway_port, instance: Some(&instance.id) };
    health::wait_until_healthy(&instance.start, at, dea.config.health_check_timeout).await
}

/// Runs a command app; returns once it passed its health check. Its end,
/// whenever it comes, is a crash (a web process is not meant to exit).
async fn run_program(
    dea: &DeaRef,
    instance: &Arc<Instance>,
    program: Compiled,
    wasi: WasiCtxBuilder,
    limits: GuestLimits,
) -> Result<()> {
    let (ended, mut has_ended) = tokio::sync::oneshot::channel();
    let runtime = dea.runtime.clone();
    let program = crate::runtime::spawn(async move {
        let exit = command::run(&runtime, &program, wasi, limits, None).await;
        let _ = ended.send(match exit {
            Ok(exit) => match exit.ending {
                Some(ending) => ending.to_string(),
                None => format!("the app exited with status {}", exit.code),
            },
            Err(e) => format!("the app failed to run: {e:#}"),
        });
    });
    *instance.server.lock().expect("instance server") = Some(Server::Program(program.abort_handle()));

    let port = instance.status.lock().expect("instance status").port;
    let at = health::At { host: &dea.config.dea_host, port, instance: None };
    let healthy = health::wait_until_healthy(&instance.start, at, dea.config.health_check_timeout);
    tokio::select! {
        checked = healthy => if let Err(e) = checked {
            program.abort();
            return Err(e);
        },
        ended = &mut has_ended => bail!("{}", ended.unwrap_or_else(|_| "the app ended".into())),
    }
    let (dea, instance) = (dea.clone(), instance.clone());
    tokio::spawn(async move {
        if let Ok(description) = has_ended.await {
            crash(&dea, &instance, description).await;
        }
    });
    Ok(())
}
