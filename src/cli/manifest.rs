//! manifest.yml as `wf push` reads it ([`crate::protocol::manifest`]),
//! into push options: memory, disk, instances, health check, buildpack,
//! command, env, routes, no-route, random-route and services. Paths are
//! relative to the manifest, written with `/` or `\` (a manifest from
//! Windows reads the same everywhere), and CRLF line endings are lines.

use std::path::Path;

use anyhow::{Context, Result};

use super::push::PushOptions;
use crate::protocol::manifest::{Manifest, megabytes};

/// The apps a manifest file describes, as push options.
pub fn read(file: &Path) -> Result<Vec<PushOptions>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let manifest = Manifest::parse(&text).with_context(|| format!("{} is not a valid manifest", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    manifest
        .applications
        .into_iter()
        .map(|app| {
            let env = app.env_text();
            let buildpack = app.buildpack()?;
            Ok(PushOptions {
                path: base.join(app.path.as_deref().unwrap_or(".").replace('\\', "/")).to_string_lossy().into_owned(),
                memory_mb: megabytes(&app.memory)?,
                disk_quota_mb: megabytes(&app.disk_quota)?,
                instances: app.instances,
                health_check_type: app.health_check_type,
                health_check_timeout: app.timeout,
                buildpack,
                command: app.command,
                env: Some(env),
                routes: app.routes.map(|r| r.into_iter().map(|r| r.route).collect()),
                no_route: app.no_route,
                random_route: app.random_route,
                services: app.services,
                processes: app.processes,
                name: app.name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_written_on_windows_reads_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("manifest.yml");
        let text = "applications:\n- name: web\n  path: site\\public\n  memory: 64M\n  command: |\n    .wf/js.wasm index.js\n  env:\n    GREETING: hello\n";
        std::fs::write(&file, text.replace('\n', "\r\n")).unwrap();
        let apps = read(&file).unwrap();
        assert_eq!(apps.len(), 1);
        let app = &apps[0];
        assert_eq!(app.name, "web");
        assert_eq!(Path::new(&app.path), dir.path().join("site/public"));
        assert_eq!(app.memory_mb, Some(64));
        assert_eq!(app.command.as_deref(), Some(".wf/js.wasm index.js\n"), "no carriage return left in a block");
        assert_eq!(app.env.as_ref().unwrap().get("GREETING").map(String::as_str), Some("hello"));
    }
}
