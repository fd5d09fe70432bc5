//! How the CC makes DEAs run what it wants: `dea.<id>.start` per instance
//! on a DEA picked from the pool, `dea.stop`, `dea.update` when routes
//! change, and `dea.find.droplet` to learn what actually runs.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;

use super::Cc;

use super::dea_pool::Needs;
use super::error::{ApiError, ApiResult};
use super::model::event;
use crate::bus::BusExt;
use crate::cc::model::app::App;
use crate::cc::model::process::Process;
use crate::cc::model::route::MappedRoute;
use crate::cc::model::space::Space;
use crate::cc::model::{Record, environment_variable_group, security_group, service_binding};
use crate::protocol::messages::{
    DeaStart, DeaStop, DeaUpdate, DropletExited, FindDroplet, FindDropletReply, InstanceState, Limits, LogMessage,
    subjects,
};

/// How long instance queries wait for DEAs that have not answered.
const FIND_TIMEOUT: Duration = Duration::from_millis(1500);
/// Open-handle cap per instance.
const FDS_LIMIT: u64 = 256;

/// The start message of one instance of a process (of an app's web
/// process: `guid` is the app's), from the process and its app as stored.
pub async fn start_message(cc: &Cc, guid: &str, index: u32) -> ApiResult<DeaStart> {
    let process = Process::find(&cc.db, guid).await?;
    let app = App::find(&cc.db, &process.app_guid).await?;
    let space_name = Space::find(&cc.db, &app.space_guid).await?.name;
    let egress_network_rules = security_group::egress_rules(&cc.db, &app.space_guid, false).await?;
    let droplet = app.droplet_hash.clone().unwrap_or_default();
    let ((uris, route_services), app_guid, process_type) = if process.is_web() {
        (uris(cc, guid).await?, None, None)
    } else if process.effective_command().is_none() {
        let detail =
            format!("the process type {} has no command: give it one, or name it in the Procfile", process.kind);
        return Err(ApiError::new("UnprocessableEntity", &[&detail]));
    } else {
        ((Vec::new(), BTreeMap::new()), Some(app.guid.clone()), Some(process.kind.clone()))
    };
    Ok(DeaStart {
        droplet: process.guid.clone(),
        app: app_guid,
        process_type,
        uris,
        route_services,
        prod: false,
        sha1: droplet.clone(),
        executable_uri: droplet,
        services: service_binding::bound_services(&cc.db, &app.guid).await?,
        limits: Limits { memory_mb: process.memory_mb, disk_mb: process.disk_quota_mb, fds: FDS_LIMIT },
        env: environment_variable_group::merged(
            environment_variable_group::get(&cc.db, "running").await?,
            app.environment(),
        ),
        index,
        space_name,
        users: Vec::new(),
        egress_network_rules,
        name: app.name,
        version: app.version,
        // The web process's own command only: else the buildpack's, from the droplet.
        start_command: if process.is_web() { process.command } else { process.effective_command() },
        space_guid: app.space_guid,
        health_check_type: process.health_check_type,
        health_check_http_endpoint: process.health_check_http_endpoint,
        health_check_timeout: process.health_check_timeout,
    })
}

/// The app's routes, and of those the ones bound to a route service, with its url.
async fn uris(cc: &Cc, guid: &str) -> ApiResult<(Vec<String>, BTreeMap<String, String>)> {
    let routes = MappedRoute::of_app(&cc.db, guid).await?;
    let services = routes.iter().filter_map(|r| Some((r.uri(), r.route_service_url.clone()?))).collect();
    Ok((routes.iter().map(MappedRoute::uri).collect(), services))
}

/// How many instances of a started, staged app are running now.
pub async fn running_instances(cc: &Cc, app: &App) -> ApiResult<u64> {
    if !app.is_started() || !app.is_staged() {
        return Ok(0);
    }
    let expected = app.instances;
    let reports = find_instances(cc, &app.guid, &app.version, false).await?;
    let mut running: Vec<u32> =
        reports.iter().filter(|r| r.state == InstanceState::Running && r.index < expected).map(|r| r.index).collect();
    running.sort();
    running.dedup();
    Ok(running.len() as u64)
}

/// Places and starts these instances of a staged app; the user gets CF's
/// error at once when some found no DEA with room (the health manager
/// starts them when room appears).
pub async fn start_instances(cc: &Cc, guid: &str, indices: impl IntoIterator<Item = u32>) -> ApiResult<()> {
    let indices: Vec<u32> = indices.into_iter().collect();
    let placed = place_instances(cc, guid, &indices).await;
    if placed.len() < indices.len() {
        return Err(ApiError::new("InsufficientRunningResourcesAvailable", &[]));
    }
    Ok(())
}

/// Sends each index to a DEA with room for it; returns those placed.
pub async fn place_instances(cc: &Cc, guid: &str, indices: &[u32]) -> Vec<u32> {
    let Some(&first) = indices.first() else { return Vec::new() };
    let message = match start_message(cc, guid, first).await {
        Ok(message) => message,
        Err(e) => {
            tracing::warn!("starting app {guid}: {}", e.description);
            return Vec::new();
        }
    };
    // Right after start-up no DEA may have advertised yet.
    cc.deas.wait_for_any(Duration::from_secs(5)).await;
    let mut placed = Vec::new();
    for &index in indices {
        let needs =
            Needs { memory: message.limits.memory_mb, disk: message.limits.disk_mb, stack: crate::protocol::STACK };
        let Some(dea) = cc.deas.find_dea(needs, guid) else { continue };
        let message = DeaStart { index, ..message.clone() };
        match cc.bus.publish(&subjects::dea_start(&dea), &message).await {
            Ok(()) => placed.push(index),
            Err(e) => tracing::warn!("starting app {guid} on {dea}: {e:#}"),
        }
    }
    placed
}

pub async fn stop_all(cc: &Cc, guid: &str) -> Result<()> {
    let stop = DeaStop { droplet: guid.into(), version: None, instances: None, indices: None };
    cc.bus.publish(subjects::DEA_STOP, &stop).await
}

/// Stops the instance at `index` of a process (of `instances`; an app's
/// web process: the app's guid) — `cf restart-app-instance`: the health
/// manager starts it again, as CF's does.
pub async fn restart_instance(cc: &Cc, process: &str, instances: u32, index: u32) -> ApiResult<()> {
    if index >= instances {
        return Err(ApiError::new(
            "InstancesError",
            &[&format!("Instance index {index} is out of range: there are {instances} instances")],
        ));
    }
    let stop = DeaStop { droplet: process.into(), version: None, instances: None, indices: Some(vec![index]) };
    cc.bus.publish(subjects::DEA_STOP, &stop).await?;
    Ok(())
}

/// Tells a started app's instances their new routes.
pub async fn routes_changed(cc: &Cc, guid: &str) -> ApiResult<()> {
    if App::find_optional(&cc.db, guid).await?.is_some_and(|app| app.is_started()) {
        let (uris, route_services) = uris(cc, guid).await?;
        let update = DeaUpdate { droplet: guid.into(), uris, route_services, version: None };
        cc.bus.publish(subjects::DEA_UPDATE, &update).await?;
    }
    Ok(())
}

/// Every instance of this app version the DEAs report, in any state: as
/// their heartbeats said (at once), or with stats asked of the DEAs that
/// run them (answered as soon as each has).
pub async fn find_instances(cc: &Cc, guid: &str, version: &str, include_stats: bool) -> Result<Vec<FindDropletReply>> {
    let known: Vec<FindDropletReply> = cc
        .actual
        .instances(Some(guid))
        .into_iter()
        .filter(|r| r.instance.version == version)
        .map(|r| FindDropletReply {
            dea: r.dea,
            droplet: r.instance.droplet,
            version: r.instance.version,
            instance: r.instance.instance,
            index: r.instance.index,
            state: r.instance.state,
            state_timestamp: r.instance.state_timestamp,
            stats: None,
        })
        .collect();
    if !include_stats || known.is_empty() {
        return Ok(known);
    }
    let query = FindDroplet { droplet: guid.into(), version: Some(version.into()), include_stats };
    let replies = cc.bus.request_many(subjects::DEA_FIND_DROPLET, &query, known.len(), FIND_TIMEOUT).await?;
    Ok(replies.iter().filter_map(|m| m.json().ok()).collect())
}

/// The most telling report per index: running beats starting beats crashed.
/// Indexes at or past `instances` (being scaled down) are left out.
pub async fn reports_by_index(
    cc: &Cc,
    guid: &str,
    version: &str,
    instances: u32,
    include_stats: bool,
) -> ApiResult<BTreeMap<u32, FindDropletReply>> {
    let rank = |s: InstanceState| match s {
        InstanceState::Running => 3,
        InstanceState::Starting => 2,
        InstanceState::Crashed => 1,
        _ => 0,
    };
    let mut best: BTreeMap<u32, FindDropletReply> = BTreeMap::new();
    for reply in find_instances(cc, guid, version, include_stats).await? {
        if reply.index >= instances {
            continue;
        }
        match best.get(&reply.index) {
            Some(current) if rank(current.state) >= rank(reply.state) => {}
            _ => {
                best.insert(reply.index, reply);
            }
        }
    }
    Ok(best)
}

/// Counts the crash for the health manager's backoff and records an
/// `app.crash` event, acted by the app itself, carrying the count.
async fn record_crash(cc: &Cc, exit: &DropletExited) {
    let Ok(app) = App::find(&cc.db, &exit.droplet).await else { return };
    let crash_count = match crate::lifecycle::crashes::record(&cc.db, exit).await {
        Ok(record) => record.count,
        Err(e) => return tracing::warn!("counting a crash of app {}: {e}", exit.droplet),
    };
    let (name, space) = (app.name, app.space_guid);
    let org = event::org_of_space(&cc.db, &space).await;
    let actee =
        event::Actee { guid: &exit.droplet, kind: "app", name: &name, space_guid: &space, organization_guid: &org };
    let metadata = serde_json::json!({
        "instance": exit.instance,
        "index": exit.index,
        "exit_status": exit.exit_status,
        "exit_description": exit.exit_description,
        "reason": exit.reason,
        "crash_count": crash_count,
        "version": exit.version,
    });
    event::record(&cc.db, "app.crash", event::Actor::App { guid: &exit.droplet, name: &name }, &actee, metadata).await;
}

/// Exits go into the app's log stream, as CF's CC reported them; crashes
/// also become `app.crash` events.
pub async fn listen_for_exits(cc: Cc) -> Result<()> {
    // One CC of many handles each exit.
    let mut exits = cc.bus.subscribe(subjects::DROPLET_EXITED, Some("cloud_controller")).await?;
    tokio::spawn(async move {
        while let Some(message) = exits.next().await {
            let Ok(exit) = message.json::<DropletExited>() else { continue };
            let text = format!(
                "App instance exited with guid {} payload: {{\"instance\"=>\"{}\", \"index\"=>{}, \"reason\"=>\"{}\", \"exit_status\"=>{}, \"exit_description\"=>\"{}\"}}",
                exit.droplet, exit.instance, exit.index, exit.reason, exit.exit_status, exit.exit_description
            );
            let line = LogMessage::new(&exit.droplet, "API", "0", "OUT", text);
            if let Err(e) = cc.bus.publish(&line.subject(), &line).await {
                tracing::warn!("logging a crash: {e:#}");
            }
            if exit.reason == "CRASHED" {
                record_crash(&cc, &exit).await;
            }
        }
    });
    Ok(())
}
