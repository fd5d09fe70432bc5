//! manifest.yml, the file a user pushes apps with, as both sides read it:
//! the `wf` client (its paths and push options) and the Cloud Controller
//! (`POST /v3/spaces/:guid/actions/apply_manifest`, which the cf CLI v7
//! sends its manifest to). `applications:` with name, path, memory,
//! disk_quota, instances, health-check-type, health-check-http-endpoint,
//! timeout, buildpack(s), stack, command, env, routes, no-route,
//! random-route, default-route, services and processes (each type's
//! instances, sizes, command and health check).

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub applications: Vec<ManifestApp>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ManifestApp {
    pub name: String,
    pub path: Option<String>,
    pub memory: Option<serde_yaml::Value>,
    pub disk_quota: Option<serde_yaml::Value>,
    pub instances: Option<u32>,
    pub health_check_type: Option<String>,
    pub health_check_http_endpoint: Option<String>,
    pub timeout: Option<u32>,
    pub buildpack: Option<String>,
    pub buildpacks: Option<Vec<String>>,
    pub stack: Option<String>,
    pub command: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, serde_yaml::Value>,
    pub routes: Option<Vec<ManifestRoute>>,
    #[serde(default)]
    pub no_route: bool,
    #[serde(default)]
    pub random_route: bool,
    #[serde(default)]
    pub default_route: bool,
    #[serde(default)]
    pub services: Vec<String>,
    /// Its process types (`web` is the app's own; the top-level fields
    /// are web's too).
    #[serde(default)]
    pub processes: Vec<ManifestProcess>,
}

/// One process type of an app in a manifest (what the `wf` client sends
/// on to the CC as it read it).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ManifestProcess {
    #[serde(rename = "type")]
    pub kind: String,
    pub command: Option<String>,
    pub instances: Option<u32>,
    pub memory: Option<serde_yaml::Value>,
    pub disk_quota: Option<serde_yaml::Value>,
    pub health_check_type: Option<String>,
    pub health_check_http_endpoint: Option<String>,
    pub timeout: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub struct ManifestRoute {
    pub route: String,
}

impl Manifest {
    /// Reads a manifest (CRLF line endings are lines).
    pub fn parse(text: &str) -> Result<Manifest> {
        serde_yaml::from_str(text).context("not a valid manifest")
    }
}

impl ManifestApp {
    /// Its env, every value as the text an app sees.
    pub fn env_text(&self) -> BTreeMap<String, String> {
        self.env
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_yaml::Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }

    /// Its one buildpack (`buildpack:` or a one-item `buildpacks:`).
    pub fn buildpack(&self) -> Result<Option<String>> {
        match (&self.buildpack, &self.buildpacks) {
            (Some(_), Some(_)) => bail!("{}: give buildpack or buildpacks, not both", self.name),
            (_, Some(list)) if list.len() > 1 => {
                bail!("{}: one buildpack per app (multi-buildpack staging is not supported)", self.name)
            }
            (_, Some(list)) => Ok(list.first().cloned()),
            (one, None) => Ok(one.clone()),
        }
    }
}

/// `64M`, `1G` or a bare number of MB, as YAML may give it.
pub fn megabytes(value: &Option<serde_yaml::Value>) -> Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(serde_yaml::Value::Number(n)) => Ok(n.as_u64()),
        Some(serde_yaml::Value::String(s)) => parse_memory(s).map(Some),
        Some(other) => bail!("invalid size {other:?} in manifest"),
    }
}

/// `64M`, `1G`, `512` (MB) as megabytes.
pub fn parse_memory(text: &str) -> Result<u64> {
    let upper = text.trim().to_ascii_uppercase();
    let (digits, factor) = match upper.strip_suffix("GB").or(upper.strip_suffix('G')) {
        Some(d) => (d, 1024),
        None => (upper.strip_suffix("MB").or(upper.strip_suffix('M')).unwrap_or(&upper), 1),
    };
    let n: u64 = digits.parse().with_context(|| format!("invalid memory {text:?}: use e.g. 64M or 1G"))?;
    Ok(n * factor)
}
