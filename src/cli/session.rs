//! What `wf login` remembers: the API endpoint, tokens, and the targeted
//! org and space — in `<config dir>/wasmfoundry/config.json`, or under
//! `$WF_HOME` when set (tests use it to keep sessions apart).

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Session {
    pub api: String,
    pub access_token: String,
    pub refresh_token: String,
    pub org_guid: Option<String>,
    pub org_name: Option<String>,
    pub space_guid: Option<String>,
    pub space_name: Option<String>,
    /// Where app routes are served (from /v2/info), for printing URLs.
    pub router_url: Option<String>,
    /// The API's certificate is accepted unchecked (`--skip-ssl-validation`).
    #[serde(default)]
    pub skip_ssl_validation: bool,
}

fn path() -> Result<PathBuf> {
    let dir = match std::env::var_os("WF_HOME") {
        Some(home) => PathBuf::from(home),
        None => dirs::config_dir().context("no config directory for this user")?.join("wasmfoundry"),
    };
    Ok(dir.join("config.json"))
}

impl Session {
    pub fn load() -> Result<Session> {
        let path = path()?;
        let text = std::fs::read_to_string(&path)
            .map_err(|_| anyhow::anyhow!("not logged in: run `wf login -a URL -u USER -p PASSWORD`"))?;
        serde_json::from_str(&text).with_context(|| format!("{} is damaged; log in again", path.display()))
    }

    pub fn save(&self) -> Result<()> {
        let path = path()?;
        std::fs::create_dir_all(path.parent().expect("config file has a directory"))?;
        std::fs::write(&path, serde_json::to_vec_pretty(self)?).with_context(|| format!("writing {}", path.display()))
    }
}
