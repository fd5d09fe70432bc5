//! Creating and changing an app, whichever API version asks: the checks
//! (quotas, a package before a start), the stored change, a new version
//! when what an instance runs changes, the audit events, and then what
//! the change sets off ([`super::app_observer`]). v2's `PUT /v2/apps/:guid`
//! and v3's app, process and action endpoints all come here.

use serde_json::{Value, json};

use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, taken_or};
use super::model::app::{App, NewApp};
use super::model::deployment::Deployment;
use super::model::event::{self, Actee, Actor};
use super::model::sql::{Assignments, SqlValue};
use super::model::{APPS, metadata, stack};
use super::permissions::{is_space_developer, require};
use super::{Cc, app_observer, new_guid, quotas, runner};
use crate::cc::model::Record;
use crate::protocol::STACK;

pub const DEFAULT_MEMORY_MB: i64 = 1024;
pub const DEFAULT_DISK_MB: i64 = 1024;
pub const STATES: [&str; 2] = ["STOPPED", "STARTED"];
pub const HEALTH_CHECKS: [&str; 4] = ["port", "process", "none", "http"];

/// The fields a request changes (None: left as they are), already checked
/// one by one by the API version that read them.
#[derive(Debug, Default)]
pub struct AppChanges {
    pub name: Option<String>,
    pub memory: Option<i64>,
    pub instances: Option<i64>,
    pub disk_quota: Option<i64>,
    pub state: Option<String>,
    pub command: Option<Option<String>>,
    pub buildpack: Option<Option<String>>,
    /// A JSON object.
    pub environment_json: Option<String>,
    pub health_check_type: Option<String>,
    pub health_check_timeout: Option<Option<i64>>,
    pub health_check_http_endpoint: Option<Option<String>>,
    pub production: Option<bool>,
    pub enable_ssh: Option<bool>,
}

/// The app, if the user sees it (else AppNotFound) and may change it (else NotAuthorized).
pub async fn writable_app(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<App> {
    let app = App::from_row(&APPS.find_for(&cc.db, guid, &user.user).await?);
    require(is_space_developer(&cc.db, &user.user, &app.space_guid).await?)?;
    Ok(app)
}

/// Stores a new app in `space_guid` (the caller has checked the user may
/// create it there) on the stack of `stack_guid` (else the default) and
/// returns its guid; `request` is what the audit event records.
pub async fn create(
    cc: &Cc,
    user: &CurrentUser,
    name: &str,
    space_guid: &str,
    stack_guid: Option<&str>,
    changes: AppChanges,
    request: Value,
) -> ApiResult<String> {
    let started = changes.state.as_deref() == Some("STARTED");
    let (memory, instances) = (changes.memory.unwrap_or(DEFAULT_MEMORY_MB), changes.instances.unwrap_or(1));
    quotas::check_app(&cc.db, space_guid, None, memory, instances, started).await?;
    cc.deas.check_fits(memory, changes.disk_quota.unwrap_or(DEFAULT_DISK_MB))?;
    let stack_guid = match stack_guid {
        Some(guid) => stack::guid_if_exists(&cc.db, guid).await?,
        None => stack::guid_named(&cc.db, STACK).await?,
    }
    .ok_or_else(|| ApiError::new("StackNotFound", &[stack_guid.unwrap_or_default()]))?;

    let new = NewApp {
        name: name.to_string(),
        space_guid: space_guid.to_string(),
        stack_guid,
        memory_mb: memory,
        instances,
        disk_quota_mb: changes.disk_quota.unwrap_or(DEFAULT_DISK_MB),
        state: changes.state.unwrap_or_else(|| "STOPPED".into()),
        command: changes.command.flatten(),
        buildpack: changes.buildpack.flatten(),
        environment_json: changes.environment_json.unwrap_or_else(|| "{}".into()),
        health_check_type: changes.health_check_type.unwrap_or_else(|| "port".into()),
        health_check_timeout: changes.health_check_timeout.flatten(),
        health_check_http_endpoint: changes.health_check_http_endpoint.flatten(),
        production: changes.production.unwrap_or(false),
        enable_ssh: changes.enable_ssh.unwrap_or(false),
    };
    let guid = App::insert(&cc.db, new).await.map_err(|e| taken_or(e, "AppNameTaken", name))?;
    let app = App::find(&cc.db, &guid).await?;
    app_event(cc, user, "audit.app.create", &app, json!({"request": request})).await;
    Ok(guid)
}

/// Applies `changes` to the app stored as `stored` (the caller has
/// checked the user may change it), then acts on the change.
pub async fn update(cc: &Cc, user: &CurrentUser, before: &App, changes: AppChanges, request: Value) -> ApiResult<()> {
    let guid = &before.guid;
    // An app starts from its bits, or from a droplet it was given (`cf push --droplet`).
    let runnable = before.package_updated_at.is_some() || before.is_staged();
    if changes.state.as_deref() == Some("STARTED") && !runnable {
        return Err(ApiError::new("AppPackageInvalid", &["bits have not been uploaded"]));
    }
    if changes.memory.is_some() || changes.instances.is_some() || changes.state.is_some() {
        let memory = changes.memory.unwrap_or(before.memory_mb as i64);
        let instances = changes.instances.unwrap_or(i64::from(before.instances));
        let started = changes.state.as_deref().unwrap_or(&before.state) == "STARTED";
        quotas::check_app(&cc.db, &before.space_guid, Some(guid), memory, instances, started).await?;
    }
    // Past the quotas, a size no DEA could hold (a stopped app's too).
    if changes.memory.is_some() || changes.disk_quota.is_some() {
        let disk = changes.disk_quota.unwrap_or(before.disk_quota_mb as i64);
        cc.deas.check_fits(changes.memory.unwrap_or(before.memory_mb as i64), disk)?;
    }

    let mut update = Assignments::default();
    let text = |v: &String| SqlValue::Text(Some(v.clone()));
    for (column, value) in [
        ("name", &changes.name),
        ("state", &changes.state),
        ("environment_json", &changes.environment_json),
        ("health_check_type", &changes.health_check_type),
    ] {
        if let Some(v) = value {
            update.set(column, text(v));
        }
    }
    for (column, value) in [
        ("command", &changes.command),
        ("buildpack", &changes.buildpack),
        ("health_check_http_endpoint", &changes.health_check_http_endpoint),
    ] {
        if let Some(v) = value {
            update.set(column, SqlValue::Text(v.clone()));
        }
    }
    for (column, value) in
        [("memory", changes.memory), ("instances", changes.instances), ("disk_quota", changes.disk_quota)]
    {
        if let Some(v) = value {
            update.set(column, SqlValue::Int(Some(v)));
        }
    }
    if let Some(v) = changes.health_check_timeout {
        update.set("health_check_timeout", SqlValue::Int(v));
    }
    for (column, value) in [("production", changes.production), ("enable_ssh", changes.enable_ssh)] {
        if let Some(v) = value {
            update.set(column, SqlValue::Bool(v));
        }
    }
    // Anything that changes what an instance runs gives the app a new
    // version (a restart) — a field sent with the value it has is no change
    // (`wf push` and `cf push` send memory, disk and command every time).
    let environment: Option<Value> =
        changes.environment_json.as_deref().and_then(|text| serde_json::from_str(text).ok());
    let restart_needed = changes.memory.is_some_and(|memory| memory != before.memory_mb as i64)
        || changes.disk_quota.is_some_and(|disk| disk != before.disk_quota_mb as i64)
        || changes.command.as_ref().is_some_and(|command| {
            command.as_deref().filter(|command| !command.is_empty()) != before.command.as_deref()
        })
        || environment.is_some_and(|environment| environment != Value::Object(before.environment()))
        || changes.state.as_deref() == Some("STARTED") && !before.is_started();
    if restart_needed {
        // A deployment still rolling out an earlier version ends here.
        Deployment::supersede_active(&cc.db, guid).await?;
        update.set("version", SqlValue::Text(Some(new_guid())));
        update.set("rolled_out_instances", SqlValue::Int(None));
    }
    update.save(&cc.db, "apps", guid, "AppNameTaken", changes.name.as_deref().unwrap_or_default()).await?;

    let after = App::find(&cc.db, guid).await?;
    app_event(cc, user, "audit.app.update", &after, json!({"request": request})).await;
    if before.state != after.state {
        let kind = if after.is_started() { "audit.app.start" } else { "audit.app.stop" };
        app_event(cc, user, kind, &after, json!({})).await;
    }
    app_observer::react_to_change(cc, before, &after).await?;
    Ok(())
}

/// Deletes an app: its instances stopped, then the app and what is its
/// alone (packages, builds, droplets, tasks — which their DEAs then cut
/// off: [`super::tasks`] — and metadata).
pub async fn delete(cc: &Cc, guid: &str) -> ApiResult<()> {
    runner::stop_all(cc, guid).await?;
    App::delete(&cc.db, guid).await?;
    metadata::forget(&cc.db, guid).await
}

/// Records `kind` (audit.app.*) about the app.
pub async fn app_event(cc: &Cc, user: &CurrentUser, kind: &str, app: &App, metadata: Value) {
    let org = event::org_of_space(&cc.db, &app.space_guid).await;
    let actee =
        Actee { guid: &app.guid, kind: "app", name: &app.name, space_guid: &app.space_guid, organization_guid: &org };
    event::record(&cc.db, kind, Actor::User(&user.user), &actee, metadata).await;
}
