//! manifest.yml, as cf push reads it: `applications:` with name, path,
//! memory, disk_quota, instances, health-check-type, timeout, buildpack,
//! command, env, routes,
//! no-route, random-route and services (instances to bind). Paths are
//! relative to the manifest.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::push::{PushOptions, parse_memory};

#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(default)]
    applications: Vec<ManifestApp>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ManifestApp {
    name: String,
    path: Option<String>,
    memory: Option<serde_yaml::Value>,
    disk_quota: Option<serde_yaml::Value>,
    instances: Option<u32>,
    health_check_type: Option<String>,
    timeout: Option<u32>,
    buildpack: Option<String>,
    command: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, serde_yaml::Value>,
    routes: Option<Vec<ManifestRoute>>,
    #[serde(default)]
    no_route: bool,
    #[serde(default)]
    random_route: bool,
    #[serde(default)]
    services: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ManifestRoute {
    route: String,
}

/// `64M`, `1G` or a bare number of MB, as YAML may give it.
fn megabytes(value: &Option<serde_yaml::Value>) -> Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(serde_yaml::Value::Number(n)) => Ok(n.as_u64()),
        Some(serde_yaml::Value::String(s)) => parse_memory(s).map(Some),
        Some(other) => bail!("invalid size {other:?} in manifest"),
    }
}

/// The apps a manifest file describes, as push options.
pub fn read(file: &Path) -> Result<Vec<PushOptions>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let manifest: Manifest =
        serde_yaml::from_str(&text).with_context(|| format!("{} is not a valid manifest", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    manifest
        .applications
        .into_iter()
        .map(|app| {
            let env = app
                .env
                .into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        serde_yaml::Value::String(s) => s,
                        other => serde_yaml::to_string(&other).unwrap_or_default().trim().to_string(),
                    };
                    (k, text)
                })
                .collect();
            Ok(PushOptions {
                path: base.join(app.path.as_deref().unwrap_or(".")).to_string_lossy().into_owned(),
                memory_mb: megabytes(&app.memory)?,
                disk_quota_mb: megabytes(&app.disk_quota)?,
                instances: app.instances,
                health_check_type: app.health_check_type,
                health_check_timeout: app.timeout,
                buildpack: app.buildpack,
                command: app.command,
                env: Some(env),
                routes: app.routes.map(|r| r.into_iter().map(|r| r.route).collect()),
                no_route: app.no_route,
                random_route: app.random_route,
                services: app.services,
                name: app.name,
            })
        })
        .collect()
}
