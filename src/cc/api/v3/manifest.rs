//! `POST /v3/spaces/:guid/actions/apply_manifest`: what the cf CLI v7
//! pushes with. Every app of the manifest is created if its space has
//! none of that name, then given the manifest's sizes, command, health
//! check, buildpack, stack and env (merged into the app's), its other
//! process types (`processes:`, made if new), and its routes: those listed (made if free), none with `no-route`, or — when it
//! has none yet — its default or a random one. The work is a job.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::apps::accepted_job;
use super::body::invalid;
use crate::cc::Cc;
use crate::cc::app_changes::{self, AppChanges, HEALTH_CHECKS, writable_app};
use crate::cc::auth::CurrentUser;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::model::Record;
use crate::cc::model::app::App;
use crate::cc::model::job::Job;
use crate::cc::model::process::{Process, ProcessChanges, WEB};
use crate::cc::model::route::{self, MappedRoute};
use crate::cc::model::space::Space;
use crate::cc::model::{domain, stack};
use crate::cc::permissions::{is_space_developer, require};
use crate::cc::process_changes;
use crate::cc::routing::{self, NewRoute};
use crate::cc::v3::space::SPACES;
use crate::protocol::MAX_PROCESS_TYPES;
use crate::protocol::manifest::{Manifest, ManifestApp, megabytes};

/// Most apps one manifest may hold.
const MAX_APPS: usize = 100;

pub async fn apply(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(space): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    SPACES.find_for(&cc, &user.user, &space).await?;
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| ApiError::new("MessageParseError", &["the manifest is not UTF-8"]))?;
    let manifest = Manifest::parse(text).map_err(|e| invalid(&format!("{e:#}")))?;
    if manifest.applications.is_empty() || manifest.applications.len() > MAX_APPS {
        return Err(invalid(&format!("Applications must have between 1 and {MAX_APPS} apps")));
    }
    let planned = manifest.applications.iter().map(plan).collect::<ApiResult<Vec<_>>>()?;
    let job = Job::create(&cc.db, &cc.id, "app.apply_manifest").await?;
    let mut outcome = Ok(());
    for (app, changes) in manifest.applications.iter().zip(planned) {
        outcome = apply_app(&cc, &user, &space, app, changes).await;
        if outcome.is_err() {
            break;
        }
    }
    Job::finish(&cc.db, &job, outcome.err()).await;
    Ok(accepted_job(&cc, &job))
}

/// What a manifest entry asks for, checked: the app's changes (its web
/// process's among them) and those of its other process types.
struct Planned {
    app: AppChanges,
    processes: Vec<(String, ProcessChanges)>,
}

fn plan(app: &ManifestApp) -> ApiResult<Planned> {
    let name = &app.name;
    if name.trim().is_empty() {
        return Err(invalid("Name must not be empty"));
    }
    let size = |value: &Option<serde_yaml::Value>, what: &str| -> ApiResult<Option<i64>> {
        match megabytes(value) {
            Ok(Some(0)) | Err(_) => Err(invalid(&format!(
                "For application '{name}': {what} must use a supported unit: B, K, KB, M, MB, G, GB, T, or TB"
            ))),
            Ok(mb) => Ok(mb.map(|mb| mb as i64)),
        }
    };
    let health_check = |kind: &Option<String>| -> ApiResult<()> {
        match kind {
            Some(kind) if !HEALTH_CHECKS.contains(&kind.as_str()) => Err(invalid(&format!(
                "For application '{name}': Health check type must be one of {}",
                HEALTH_CHECKS.join(", ")
            ))),
            _ => Ok(()),
        }
    };
    health_check(&app.health_check_type)?;
    let buildpack = app.buildpack().map_err(|e| invalid(&e.to_string()))?;
    if !app.services.is_empty() {
        return Err(invalid(&format!(
            "For application '{name}': services in a manifest are bound with cf bind-service here"
        )));
    }
    if app.processes.len() > MAX_PROCESS_TYPES {
        return Err(invalid(&format!("For application '{name}': {MAX_PROCESS_TYPES} process types at most")));
    }
    let mut planned = Planned {
        app: AppChanges {
            memory: size(&app.memory, "Memory")?,
            disk_quota: size(&app.disk_quota, "Disk quota")?,
            instances: app.instances.map(i64::from),
            command: app.command.clone().map(Some),
            buildpack: buildpack.map(|b| Some(b).filter(|b| b != "default" && b != "null")),
            health_check_type: app.health_check_type.clone(),
            health_check_timeout: app.timeout.map(|t| Some(i64::from(t))),
            health_check_http_endpoint: app.health_check_http_endpoint.clone().map(Some),
            ..Default::default()
        },
        processes: Vec::new(),
    };
    for process in &app.processes {
        if process.kind.trim().is_empty() {
            return Err(invalid(&format!("For application '{name}': Process type must not be empty")));
        }
        health_check(&process.health_check_type)?;
        let changes = ProcessChanges {
            instances: process.instances.map(i64::from),
            memory: size(&process.memory, "Memory")?,
            disk_quota: size(&process.disk_quota, "Disk quota")?,
            command: process.command.clone().map(Some),
            health_check_type: process.health_check_type.clone(),
            health_check_timeout: process.timeout.map(|t| Some(i64::from(t))),
            health_check_http_endpoint: process.health_check_http_endpoint.clone().map(Some),
        };
        if process.kind != WEB {
            planned.processes.push((process.kind.clone(), changes));
            continue;
        }
        let web = &mut planned.app;
        web.instances = changes.instances.or(web.instances);
        web.memory = changes.memory.or(web.memory);
        web.disk_quota = changes.disk_quota.or(web.disk_quota);
        web.command = changes.command.or(web.command.take());
        web.health_check_type = changes.health_check_type.or(web.health_check_type.take());
        web.health_check_timeout = changes.health_check_timeout.or(web.health_check_timeout);
        web.health_check_http_endpoint = changes.health_check_http_endpoint.or(web.health_check_http_endpoint.take());
    }
    Ok(planned)
}

async fn apply_app(cc: &Cc, user: &CurrentUser, space: &str, app: &ManifestApp, planned: Planned) -> ApiResult<()> {
    let Planned { app: mut changes, processes } = planned;
    let existing = App::named(&cc.db, space, &app.name).await?;
    let stack = match &app.stack {
        Some(name) => Some(
            stack::guid_named(&cc.db, name).await?.ok_or_else(|| invalid(&format!("Stack '{name}' does not exist")))?,
        ),
        None => None,
    };
    let request = json!({"manifest": "[PRIVATE DATA HIDDEN]", "name": app.name});
    let guid = match existing {
        None => {
            if !app.env.is_empty() {
                changes.environment_json = Some(json!(app.env_text()).to_string());
            }
            app_changes::create(cc, user, &app.name, space, stack.as_deref(), changes, request.clone()).await?
        }
        Some(found) => {
            let guid = found.guid;
            let stored = writable_app(cc, user, &guid).await?;
            if !app.env.is_empty() {
                let mut env = stored.environment();
                env.extend(app.env_text().into_iter().map(|(k, v)| (k, Value::String(v))));
                changes.environment_json = Some(Value::Object(env).to_string());
            }
            app_changes::update(cc, user, &stored, changes, request.clone()).await?;
            guid
        }
    };
    for (kind, changes) in processes {
        let process = match Process::of_type(&cc.db, &guid, &kind).await? {
            Some(process) => process,
            None => {
                Process::find(&cc.db, &Process::create(&cc.db, &App::find(&cc.db, &guid).await?, &kind).await?).await?
            }
        };
        process_changes::change(cc, user, &process, changes, request.clone()).await?;
    }
    apply_routes(cc, user, space, &guid, app).await
}

async fn apply_routes(cc: &Cc, user: &CurrentUser, space: &str, app_guid: &str, app: &ManifestApp) -> ApiResult<()> {
    let mapped: Vec<String> = MappedRoute::of_app(&cc.db, app_guid).await?.into_iter().map(|r| r.guid).collect();
    if app.no_route {
        for route in mapped {
            routing::remove_mapping(cc, user, app_guid, &route).await?;
        }
        return Ok(());
    }
    let org = Space::find(&cc.db, space).await?.organization_guid;
    let wanted: Vec<(String, String, String)> = match &app.routes {
        Some(routes) => {
            let mut wanted = Vec::new();
            for route in routes {
                wanted.push(split_route(cc, &org, &route.route).await?);
            }
            wanted
        }
        None if mapped.is_empty() && (app.default_route || app.random_route) => {
            let host = if app.random_route {
                format!("{}-{}", app.name, &crate::cc::new_guid()[..8])
            } else {
                app.name.clone()
            };
            let domain = default_domain(cc, &org).await?;
            vec![(host.to_ascii_lowercase(), domain, String::new())]
        }
        None => Vec::new(),
    };
    for (host, domain, path) in wanted {
        let route = match route::guid_of(&cc.db, &host, &domain, &path).await? {
            Some(route) => route,
            None => {
                let new = NewRoute { host, path, domain_guid: domain, space_guid: space.to_string() };
                routing::create(cc, user, new, json!({"manifest": app.name}))
                    .await
                    .map_err(|e| invalid(&e.description))?
            }
        };
        routing::add_mapping(cc, user, app_guid, &route).await.map_err(|e| invalid(&e.description))?;
    }
    Ok(())
}

/// The org's first shared domain, else its own first.
async fn default_domain(cc: &Cc, org: &str) -> ApiResult<String> {
    let domains = domain::usable_in_org(&cc.db, org).await?;
    let first = domains.into_iter().next().ok_or_else(|| invalid("No domains exist for the default route"))?;
    Ok(first.guid)
}

/// `host.domain/path` as (host, domain guid, path): the longest domain the
/// org may use that the route ends with.
async fn split_route(cc: &Cc, org: &str, route: &str) -> ApiResult<(String, String, String)> {
    let route = route.trim().trim_start_matches("https://").trim_start_matches("http://");
    let (fqdn, path) = match route.find('/') {
        Some(at) => (&route[..at], route[at..].to_string()),
        None => (route, String::new()),
    };
    let fqdn = fqdn.to_ascii_lowercase();
    let mut candidates = vec![(String::new(), fqdn.clone())];
    if let Some((host, domain)) = fqdn.split_once('.') {
        candidates.push((host.to_string(), domain.to_string()));
    }
    let usable = domain::usable_in_org(&cc.db, org).await?;
    for (host, name) in candidates {
        if let Some(domain) = usable.iter().find(|domain| domain.name == name) {
            return Ok((host, domain.guid.clone(), path));
        }
    }
    Err(invalid(&format!("The route '{route}' did not match any existing domains.")))
}

/// An app as a manifest entry: what `GET /v3/apps/:guid/manifest` shows
/// and a diff compares against.
async fn current(cc: &Cc, app: &App) -> ApiResult<Value> {
    let mut entry = json!({
        "name": app.name,
        "stack": crate::protocol::STACK,
        "instances": app.instances,
        "memory": format!("{}M", app.memory_mb),
        "disk_quota": format!("{}M", app.disk_quota_mb),
        "health-check-type": app.health_check_type.clone().unwrap_or_else(|| "port".into()),
    });
    if let Some(buildpack) = &app.buildpack {
        entry["buildpacks"] = json!([buildpack]);
    }
    if let Some(command) = &app.command {
        entry["command"] = json!(command);
    }
    if let Some(endpoint) = app.health_check_http_endpoint.as_ref().filter(|_| entry["health-check-type"] == "http") {
        entry["health-check-http-endpoint"] = json!(endpoint);
    }
    if let Some(timeout) = app.health_check_timeout {
        entry["timeout"] = json!(timeout);
    }
    let others = Process::others_of_app(&cc.db, &app.guid).await?;
    if !others.is_empty() {
        let mut processes =
            vec![json!({"type": WEB, "instances": app.instances, "memory": format!("{}M", app.memory_mb)})];
        for process in others {
            let mut entry = json!({
                "type": process.kind,
                "instances": process.instances,
                "memory": format!("{}M", process.memory_mb),
                "disk_quota": format!("{}M", process.disk_quota_mb),
            });
            if let Some(command) = &process.command {
                entry["command"] = json!(command);
            }
            processes.push(entry);
        }
        entry["processes"] = json!(processes);
    }
    let env = app.environment();
    if !env.is_empty() {
        entry["env"] = Value::Object(env);
    }
    let routes = MappedRoute::of_app(&cc.db, &app.guid).await?;
    if routes.is_empty() {
        entry["no-route"] = json!(true);
    } else {
        entry["routes"] = routes.iter().map(|r| json!({"route": r.uri()})).collect();
    }
    Ok(entry)
}

/// `GET /v3/apps/:guid/manifest` (space developers): the app as a manifest, in YAML.
pub async fn of_app(State(cc): State<Cc>, user: CurrentUser, Path(guid): Path<String>) -> ApiResult<Response> {
    let app = writable_app(&cc, &user, &guid).await?;
    let manifest = json!({"applications": [current(&cc, &app).await?]});
    let yaml = serde_yaml::to_string(&manifest).map_err(anyhow::Error::from)?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/x-yaml")], yaml).into_response())
}

/// `POST /v3/spaces/:guid/manifest_diff`: how applying the manifest would
/// change the space's apps, as JSON-Patch-like operations (`cf push` v8
/// shows it before it applies the manifest).
pub async fn diff(
    State(cc): State<Cc>,
    user: CurrentUser,
    Path(space): Path<String>,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    SPACES.find_for(&cc, &user.user, &space).await?;
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| ApiError::new("MessageParseError", &["the manifest is not UTF-8"]))?;
    Manifest::parse(text).map_err(|e| invalid(&format!("{e:#}")))?;
    let requested: Value = serde_yaml::from_str(text).map_err(|e| invalid(&e.to_string()))?;
    let mut operations = Vec::new();
    for (index, wanted) in requested["applications"].as_array().into_iter().flatten().enumerate() {
        let name = wanted["name"].as_str().unwrap_or_default();
        let was = match App::named(&cc.db, &space, name).await? {
            Some(app) => current(&cc, &app).await?,
            None => json!({}),
        };
        compare(&format!("/applications/{index}"), &was, wanted, &mut operations);
    }
    Ok((StatusCode::CREATED, Json(json!({"diff": operations}))))
}

/// The operations turning `was` into `wanted`, for the fields `wanted`
/// gives (a manifest leaves out what it does not change); lists compare
/// item by item, sizes by megabytes (`1G` is `1024M`).
fn compare(path: &str, was: &Value, wanted: &Value, out: &mut Vec<Value>) {
    match (was, wanted) {
        (Value::Object(was), Value::Object(wanted)) => {
            for (key, value) in wanted {
                let at = format!("{path}/{key}");
                match was.get(key) {
                    None => out.push(json!({"op": "add", "path": at, "value": value})),
                    Some(old) => compare(&at, old, value, out),
                }
            }
        }
        (Value::Array(was), Value::Array(wanted)) => {
            for (index, value) in wanted.iter().enumerate() {
                let at = format!("{path}/{index}");
                match was.get(index) {
                    None => out.push(json!({"op": "add", "path": at, "value": value})),
                    Some(old) => compare(&at, old, value, out),
                }
            }
            for (index, old) in was.iter().enumerate().skip(wanted.len()) {
                out.push(json!({"op": "remove", "path": format!("{path}/{index}"), "was": old}));
            }
        }
        (old, new) if same(old, new) => {}
        (old, new) => out.push(json!({"op": "replace", "path": path, "was": old, "value": new})),
    }
}

/// Equal, or the same size written two ways, or the same number as text.
fn same(old: &Value, new: &Value) -> bool {
    let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    old == new
        || text(old) == text(new)
        || matches!(
            (crate::protocol::manifest::parse_memory(&text(old)), crate::protocol::manifest::parse_memory(&text(new))),
            (Ok(a), Ok(b)) if a == b && text(old).ends_with(['M', 'G', 'B']) && text(new).ends_with(['M', 'G', 'B'])
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_names_what_changes() {
        let was =
            json!({"name": "a", "memory": "1024M", "instances": 1, "routes": [{"route": "a.x"}, {"route": "b.x"}]});
        let wanted =
            json!({"name": "a", "memory": "1G", "instances": 2, "routes": [{"route": "a.x"}], "command": "go"});
        let mut out = Vec::new();
        compare("/applications/0", &was, &wanted, &mut out);
        assert_eq!(
            out,
            vec![
                json!({"op": "add", "path": "/applications/0/command", "value": "go"}),
                json!({"op": "replace", "path": "/applications/0/instances", "was": 1, "value": 2}),
                json!({"op": "remove", "path": "/applications/0/routes/1", "was": {"route": "b.x"}}),
            ]
        );
    }
}
