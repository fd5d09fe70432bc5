//! The console's pages, each read from the API with the user's token
//! and shaped for its template ([`super::view`]).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Redirect;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;

use super::Console;
use super::api::{Api, Refused};
use super::session::Session;
use super::view::{
    AppPage, AppRow, Chrome, DeaRow, InstanceRow, InstancesTable, LoginPage, MarketplacePage, Offering, Org, OrgsPage,
    Page, Plan, PlatformPage, ServiceRow, SpacePage, SpaceTile, html, megabytes, uptime,
};

/// The most of anything one page lists (v3's largest page).
const PER_PAGE: &str = "per_page=5000";
/// How many apps' rows a space's page reads at once.
const AT_ONCE: usize = 8;
/// An app page's events, newest first.
const EVENTS: usize = 10;

pub async fn home(State(console): State<Console>, headers: HeaderMap) -> Redirect {
    let signed_in = Session::of(&console.api, &headers).await.is_some();
    Redirect::to(if signed_in { "/console/orgs" } else { "/console/login" })
}

pub async fn login_form() -> Page {
    html(LoginPage { chrome: Chrome::signed_out(), error: None, username: String::new() })
}

/// Every org the user sees, with the spaces they see in it.
pub async fn orgs(State(console): State<Console>, session: Session) -> Page {
    let api = &console.api;
    let orgs = api.get(&format!("/v3/organizations?order_by=name&{PER_PAGE}"), &session.token).await?;
    let spaces = api.get(&format!("/v3/spaces?order_by=name&{PER_PAGE}"), &session.token).await?;
    // Each space's app count is the total of a one-app page.
    let token = &session.token;
    let guids: Vec<String> = resources(&spaces).iter().map(|space| str_at(space, "/guid").to_string()).collect();
    let counts: HashMap<String, u64> = futures::stream::iter(guids)
        .map(|guid| async move {
            let page = api.get(&format!("/v3/apps?space_guids={guid}&per_page=1"), token).await;
            (guid, page.map(|p| u64_at(&p, "/pagination/total_results")).unwrap_or(0))
        })
        .buffered(AT_ONCE)
        .collect()
        .await;
    let orgs = resources(&orgs)
        .iter()
        .map(|org| Org {
            name: str_at(org, "/name").to_string(),
            spaces: resources(&spaces)
                .iter()
                .filter(|space| str_at(space, "/relationships/organization/data/guid") == str_at(org, "/guid"))
                .map(|space| SpaceTile {
                    guid: str_at(space, "/guid").to_string(),
                    name: str_at(space, "/name").to_string(),
                    apps: counts.get(str_at(space, "/guid")).copied().unwrap_or(0),
                })
                .collect(),
        })
        .collect();
    html(OrgsPage { chrome: Chrome::of(&session, Vec::new()), orgs })
}

/// A space's apps: state, instances running of desired, memory, routes.
pub async fn space(State(console): State<Console>, session: Session, Path(guid): Path<String>) -> Page {
    let api = &console.api;
    let token = &session.token;
    let space = api.get(&format!("/v3/spaces/{guid}?include=organization"), token).await?;
    let org = str_at(&space, "/included/organizations/0/name").to_string();
    let apps = api.get(&format!("/v3/apps?space_guids={guid}&order_by=name&{PER_PAGE}"), token).await?;
    // An app's row takes three calls, its stats a round of the DEAs: the
    // rows are read a few at once, as `cf apps` reads them.
    let rows: Vec<AppRow> = futures::stream::iter(resources(&apps).iter().cloned())
        .map(|app| {
            let console = &console;
            async move { app_row(console, &app, token).await }
        })
        .buffered(AT_ONCE)
        .collect()
        .await;
    let instances =
        api.get(&format!("/v3/service_instances?space_guids={guid}&order_by=name&{PER_PAGE}"), token).await?;
    let services = resources(&instances)
        .iter()
        .map(|instance| ServiceRow {
            guid: str_at(instance, "/guid").to_string(),
            name: str_at(instance, "/name").to_string(),
            kind: str_at(instance, "/type").to_string(),
            operation: format!(
                "{} {}",
                str_at(instance, "/last_operation/type"),
                str_at(instance, "/last_operation/state")
            ),
        })
        .collect();
    let name = str_at(&space, "/name").to_string();
    let crumbs = vec![("/console/orgs".to_string(), org.clone()), (format!("/console/spaces/{guid}"), name.clone())];
    html(SpacePage { chrome: Chrome::of(&session, crumbs), guid, name, org, apps: rows, services })
}

/// The admins' overview: each DEA's capacity and use, apps by state, the
/// acting health manager.
pub async fn platform(State(console): State<Console>, session: Session) -> Page {
    let deas = console.api.get("/v3/info/deas", &session.token).await?;
    let hm = console.api.get("/v3/info/health_manager", &session.token).await?;
    let health_manager = (hm["acting"] == true).then(|| str_at(&hm, "/holder").to_string());
    let apps = console.api.get(&format!("/v3/apps?{PER_PAGE}"), &session.token).await?;
    let deas: Vec<DeaRow> = resources(&deas)
        .iter()
        .map(|dea| {
            let (memory, disk) = (u64_at(dea, "/memory_in_mb/total"), u64_at(dea, "/disk_in_mb/total"));
            DeaRow {
                id: str_at(dea, "/guid").to_string(),
                memory_total_mb: memory,
                memory_used_mb: memory.saturating_sub(u64_at(dea, "/memory_in_mb/free")),
                disk_total_mb: disk,
                disk_used_mb: disk.saturating_sub(u64_at(dea, "/disk_in_mb/free")),
                instances: u64_at(dea, "/instances"),
                apps: u64_at(dea, "/apps"),
            }
        })
        .collect();
    let mut apps_by_state: Vec<(String, usize)> = Vec::new();
    for app in resources(&apps) {
        let state = str_at(app, "/state");
        match apps_by_state.iter_mut().find(|(s, _)| s == state) {
            Some((_, count)) => *count += 1,
            None => apps_by_state.push((state.to_string(), 1)),
        }
    }
    apps_by_state.sort();
    let instances = deas.iter().map(|dea| dea.instances).sum();
    let crumbs = vec![("/console/platform".to_string(), "Platform".to_string())];
    html(PlatformPage { chrome: Chrome::of(&session, crumbs), deas, apps_by_state, instances, health_manager })
}

/// The services the user may create instances of, with their plans, and
/// the spaces to create them in.
pub async fn marketplace(State(console): State<Console>, session: Session) -> Page {
    let offerings = console.api.get(&format!("/v3/service_offerings?{PER_PAGE}"), &session.token).await?;
    let plans = console.api.get(&format!("/v3/service_plans?{PER_PAGE}"), &session.token).await?;
    let spaces =
        console.api.get(&format!("/v3/spaces?include=organization&order_by=name&{PER_PAGE}"), &session.token).await?;
    let spaces = resources(&spaces)
        .iter()
        .map(|space| {
            let org = included_name(&spaces, "organizations", str_at(space, "/relationships/organization/data/guid"));
            (str_at(space, "/guid").to_string(), format!("{org} / {}", str_at(space, "/name")))
        })
        .collect();
    let offerings = resources(&offerings)
        .iter()
        .map(|offering| Offering {
            name: str_at(offering, "/name").to_string(),
            description: str_at(offering, "/description").to_string(),
            plans: resources(&plans)
                .iter()
                .filter(|plan| str_at(plan, "/relationships/service_offering/data/guid") == str_at(offering, "/guid"))
                .map(|plan| Plan {
                    guid: str_at(plan, "/guid").to_string(),
                    name: str_at(plan, "/name").to_string(),
                    description: str_at(plan, "/description").to_string(),
                })
                .collect(),
        })
        .collect();
    let crumbs = vec![("/console/marketplace".to_string(), "Marketplace".to_string())];
    html(MarketplacePage { chrome: Chrome::of(&session, crumbs), offerings, spaces })
}

/// A space page's row of `app`.
async fn app_row(console: &Console, app: &Value, token: &str) -> AppRow {
    let guid = str_at(app, "/guid");
    let web = console.api.get(&format!("/v3/apps/{guid}/processes/web"), token).await.unwrap_or_default();
    let stats = console.api.get(&format!("/v3/apps/{guid}/processes/web/stats"), token).await.unwrap_or_default();
    AppRow {
        guid: guid.to_string(),
        name: str_at(app, "/name").to_string(),
        state: str_at(app, "/state").to_string(),
        running: resources(&stats).iter().filter(|i| str_at(i, "/state") == "RUNNING").count(),
        desired: u64_at(&web, "/instances"),
        memory_mb: u64_at(&web, "/memory_in_mb"),
        routes: routes(console, guid, token).await,
        updated: str_at(app, "/updated_at").to_string(),
    }
}

#[derive(Deserialize)]
pub struct Notice {
    done: Option<String>,
}

/// One app: its instances, routes, services, environment, events and logs.
pub async fn app(
    State(console): State<Console>,
    session: Session,
    Path(guid): Path<String>,
    Query(notice): Query<Notice>,
) -> Page {
    let api = &console.api;
    let token = &session.token;
    // Read at once: the instances' stats wait on a round of the DEAs.
    let paths = [
        format!("/v3/apps/{guid}?include=space.organization"),
        format!("/v3/apps/{guid}/processes/web"),
        format!("/v3/apps/{guid}/env"),
        format!("/v3/service_credential_bindings?app_guids={guid}&include=service_instance"),
        format!("/v3/audit_events?target_guids={guid}&order_by=-created_at&per_page={EVENTS}"),
    ];
    let (read, table, routes) = futures::join!(
        futures::future::try_join_all(paths.iter().map(|path| api.get(path, token))),
        instances_table(api, &guid, token),
        routes(&console, &guid, token),
    );
    let ([app, web, env, bindings, events], table) = (<[Value; 5]>::try_from(read?).unwrap_or_default(), table?);
    let running = table.rows.iter().filter(|row| row.state == "RUNNING").count();
    let space_guid = str_at(&app, "/relationships/space/data/guid");
    let in_space =
        api.get(&format!("/v3/service_instances?space_guids={space_guid}&order_by=name&{PER_PAGE}"), token).await?;
    let bound: Vec<(String, String)> = resources(&bindings)
        .iter()
        .map(|binding| {
            let instance = str_at(binding, "/relationships/service_instance/data/guid");
            (str_at(binding, "/guid").to_string(), included_name(&bindings, "service_instances", instance).to_string())
        })
        .collect();
    let name = str_at(&app, "/name").to_string();
    let crumbs = vec![
        ("/console/orgs".to_string(), str_at(&app, "/included/organizations/0/name").to_string()),
        (format!("/console/spaces/{space_guid}"), str_at(&app, "/included/spaces/0/name").to_string()),
        (format!("/console/apps/{guid}"), name.clone()),
    ];
    let page = AppPage {
        chrome: Chrome::of(&session, crumbs),
        state: str_at(&app, "/state").to_string(),
        notice: notice.done,
        running,
        desired: u64_at(&web, "/instances"),
        memory_mb: u64_at(&web, "/memory_in_mb"),
        instances_html: askama::Template::render(&table).unwrap_or_default(),
        routes,
        bindings: bound,
        bindable: resources(&in_space)
            .iter()
            .filter(|instance| {
                let guid = str_at(instance, "/guid");
                !resources(&bindings).iter().any(|b| str_at(b, "/relationships/service_instance/data/guid") == guid)
            })
            .map(|instance| (str_at(instance, "/guid").to_string(), str_at(instance, "/name").to_string()))
            .collect(),
        env: masked(&env["environment_variables"]),
        events: resources(&events)
            .iter()
            .map(|event| {
                let actor = str_at(event, "/actor/name");
                (str_at(event, "/created_at").to_string(), format!("{} by {actor}", str_at(event, "/type")))
            })
            .collect(),
        guid,
        name,
    };
    html(page)
}

/// The instances table alone, which the app page fetches again every few
/// seconds.
pub async fn instances(State(console): State<Console>, session: Session, Path(guid): Path<String>) -> Page {
    html(instances_table(&console.api, &guid, &session.token).await?)
}

async fn instances_table(api: &Api, guid: &str, token: &str) -> Result<InstancesTable, Refused> {
    let stats = api.get(&format!("/v3/apps/{guid}/processes/web/stats"), token).await?;
    let rows: Vec<InstanceRow> = resources(&stats)
        .iter()
        .map(|instance| {
            let memory = u64_at(instance, "/usage/mem");
            InstanceRow {
                index: u64_at(instance, "/index"),
                state: str_at(instance, "/state").to_string(),
                uptime: uptime(u64_at(instance, "/uptime")),
                memory: megabytes(memory),
                memory_bytes: memory,
                cpu: format!("{:.1}%", instance.pointer("/usage/cpu").and_then(Value::as_f64).unwrap_or(0.0) * 100.0),
                host: str_at(instance, "/host").to_string(),
            }
        })
        .collect();
    let quota = resources(&stats).first().map(|i| u64_at(i, "/mem_quota")).unwrap_or(0);
    Ok(InstancesTable { quota_bytes: quota, rows })
}

/// An app's routes as (host/path, URL through the router).
async fn routes(console: &Console, app: &str, token: &str) -> Vec<(String, String)> {
    let Ok(routes) = console.api.get(&format!("/v3/apps/{app}/routes"), token).await else { return Vec::new() };
    let port = match console.router_port {
        80 => String::new(),
        port => format!(":{port}"),
    };
    resources(&routes)
        .iter()
        .map(|route| {
            let url = str_at(route, "/url");
            let (host, path) = url.split_at(url.find('/').unwrap_or(url.len()));
            (url.to_string(), format!("http://{host}{port}{path}"))
        })
        .collect()
}

/// The user's environment variables, a value shown only when its name
/// does not suggest a secret.
fn masked(variables: &Value) -> Vec<(String, String)> {
    const SECRET: [&str; 6] = ["PASSWORD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE"];
    let Some(map) = variables.as_object() else { return Vec::new() };
    let mut pairs: Vec<(String, String)> = map
        .iter()
        .map(|(name, value)| {
            let shown = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
            let secret = SECRET.iter().any(|word| name.to_ascii_uppercase().contains(word));
            (name.clone(), if secret { "••••••••".to_string() } else { shown })
        })
        .collect();
    pairs.sort();
    pairs
}

/// The name of the resource `guid` among `page`'s `included[kind]` (what
/// `?include=` brought), else the guid.
fn included_name<'a>(page: &'a Value, kind: &str, guid: &'a str) -> &'a str {
    let included = page.pointer(&format!("/included/{kind}")).and_then(Value::as_array);
    let named = included.and_then(|all| all.iter().find(|r| str_at(r, "/guid") == guid));
    named.map(|r| str_at(r, "/name")).unwrap_or(guid)
}

fn resources(page: &Value) -> &[Value] {
    page["resources"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn u64_at(value: &Value, pointer: &str) -> u64 {
    value.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}
