//! A droplet's format, as DEAs write it when staging and read it to run an
//! instance, and the CC checks one a user uploads (`cf push --droplet`): a
//! tar.gz of `app/` (what runs) and `staging_info.yml` (CF's: the
//! buildpack that staged it and the start command it found).

use std::io::Read;

use serde::{Deserialize, Serialize};

pub const STAGING_INFO: &str = "staging_info.yml";

/// What staging learned, kept inside the droplet (CF's staging_info.yml).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StagingInfo {
    pub detected_buildpack: String,
    pub start_command: String,
    #[serde(default)]
    pub config_vars: Vec<(String, String)>,
}

/// The largest `staging_info.yml` read.
const MAX_STAGING_INFO_BYTES: u64 = 64 * 1024;

/// The `staging_info.yml` of a droplet's bytes, or why they are no droplet.
pub fn staging_info_of(droplet: &[u8]) -> Result<StagingInfo, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(droplet));
    let entries = archive.entries().map_err(|e| format!("not a tar.gz: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("not a tar.gz: {e}"))?;
        let path = entry.path().map_err(|e| e.to_string())?.to_string_lossy().trim_start_matches("./").to_string();
        if path == STAGING_INFO {
            let mut text = String::new();
            entry.take(MAX_STAGING_INFO_BYTES).read_to_string(&mut text).map_err(|e| e.to_string())?;
            return serde_yaml::from_str(&text).map_err(|e| format!("its {STAGING_INFO} is invalid: {e}"));
        }
    }
    Err(format!("it has no {STAGING_INFO}"))
}
