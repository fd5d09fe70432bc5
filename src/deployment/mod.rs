//! Deployments, as cf-release and BOSH ran Cloud Foundry: a manifest names
//! jobs — which roles each runs, how many instances, with which
//! properties — and `wf deploy -f FILE` runs every job instance as a
//! `wf server --roles …` process of its own, restarting any that dies, as
//! monit did on each BOSH VM. It owns nothing but its directory: each
//! instance's config, data directory, log and pid file.
//!
//! ```yaml
//! properties:              # every job's config (keys as in wf's config file)
//!   database_url: postgres://postgres@127.0.0.1:5432/wf
//!   bus_url: nats://127.0.0.1:4222
//!   blobstore_url: s3://wf-blobs/prod
//! jobs:
//! - name: api
//!   roles: [cc, router]
//! - name: dea
//!   roles: [dea]
//!   instances: 2
//! - name: hm
//!   roles: [hm]
//!   instances: 2
//!   properties: {}         # this job's own, over the shared ones
//! ```
//!
//! A string property may say `((index))`: each instance puts its index
//! there (two routers on one host: `router_listen: 127.0.0.1:808((index))`).

mod supervisor;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_yaml::Value;

pub use supervisor::supervise;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
    pub jobs: Vec<Job>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub name: String,
    pub roles: Vec<String>,
    #[serde(default = "one")]
    pub instances: u32,
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
}

fn one() -> u32 {
    1
}

/// One process to run: a job instance with its config written out.
#[derive(Debug, Clone)]
pub struct JobInstance {
    /// `job/index`.
    pub name: String,
    pub roles: String,
    pub config_file: PathBuf,
    pub log_file: PathBuf,
    pub pid_file: PathBuf,
}

impl Manifest {
    pub fn read(file: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let manifest: Manifest =
            serde_yaml::from_str(&text).with_context(|| format!("{} is not a deployment manifest", file.display()))?;
        if manifest.jobs.is_empty() {
            bail!("{}: the manifest names no jobs", file.display());
        }
        for job in &manifest.jobs {
            crate::server::Role::parse_list(&job.roles.join(",")).with_context(|| format!("job {}", job.name))?;
        }
        Ok(manifest)
    }

    /// Writes each job instance's config under `dir` and says how to run it.
    pub fn instances(&self, dir: &Path) -> Result<Vec<JobInstance>> {
        let mut out = Vec::new();
        for job in &self.jobs {
            for index in 0..job.instances {
                let name = format!("{}/{index}", job.name);
                let base = dir.join(&job.name).join(index.to_string());
                std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
                let mut properties = serde_yaml::Mapping::new();
                properties.insert("data_dir".into(), base.join("data").to_string_lossy().into_owned().into());
                for (key, value) in self.properties.iter().chain(&job.properties) {
                    properties.insert(key.clone().into(), with_index(value, index));
                }
                let config_file = base.join("config.yml");
                std::fs::write(&config_file, serde_yaml::to_string(&properties)?)?;
                // Fail now, not in a restart loop, on a config wf refuses.
                crate::config::Config::load(Some(&config_file), &[]).with_context(|| format!("job {name}"))?;
                out.push(JobInstance {
                    name,
                    roles: job.roles.join(","),
                    config_file,
                    log_file: base.join("job.log"),
                    pid_file: base.join("job.pid"),
                });
            }
        }
        Ok(out)
    }
}

fn with_index(value: &Value, index: u32) -> Value {
    match value {
        Value::String(s) => {
            let replaced = s.replace("((index))", &index.to_string());
            serde_yaml::from_str(&replaced).unwrap_or(Value::String(replaced))
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_get_their_index_and_unknown_roles_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.yml");
        std::fs::write(
            &file,
            "properties:\n  bus_url: nats://127.0.0.1:4222\njobs:\n- name: router\n  roles: [router]\n  instances: 2\n  \
             properties:\n    router_listen: 127.0.0.1:808((index))\n",
        )
        .unwrap();
        let instances = Manifest::read(&file).unwrap().instances(&dir.path().join("d")).unwrap();
        assert_eq!(instances.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["router/0", "router/1"]);
        let config = crate::config::Config::load(Some(&instances[1].config_file), &[]).unwrap();
        assert_eq!(config.router_listen.to_string(), "127.0.0.1:8081");
        assert_eq!(config.bus_url, "nats://127.0.0.1:4222");
        assert!(config.data_dir.ends_with("d/router/1/data"));

        std::fs::write(&file, "jobs:\n- name: x\n  roles: [cc, warden]\n").unwrap();
        let error = format!("{:#}", Manifest::read(&file).unwrap_err());
        assert!(error.contains("job x") && error.contains("unknown role \"warden\""), "{error}");
    }
}
