//! The environment of a staging task and of an instance, built as the CF
//! DEA built it: VCAP_APPLICATION, VCAP_SERVICES, MEMORY_LIMIT, then (for
//! instances) HOME, TMPDIR, PORT, VCAP_APP_HOST, VCAP_APP_PORT and
//! CF_INSTANCE_*, then the buildpack's config vars, then the user's env,
//! then the app's `.profile.d/*.env` files — later entries win. The result
//! is also written to the instance's `logs/env.log`.

use crate::protocol::STACK;
use crate::protocol::messages::DeaStart;
use crate::protocol::vcap::{InstanceFacts, database_url, vcap_application, vcap_services};

/// Where an instance's directories appear inside the guest.
pub const HOME: &str = "/home/vcap/app";
pub const TMPDIR: &str = "/home/vcap/tmp";

/// `KEY=value` strings as `(key, value)`.
pub fn parse_pairs(env: &[String]) -> Vec<(String, String)> {
    env.iter().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn common(app: &DeaStart, instance: Option<&InstanceFacts>) -> Vec<(String, String)> {
    let mut env = vec![
        ("VCAP_APPLICATION".into(), vcap_application(app, instance).to_string()),
        ("VCAP_SERVICES".into(), vcap_services(&app.services).to_string()),
        ("MEMORY_LIMIT".into(), format!("{}m", app.limits.memory_mb)),
    ];
    if let Some(url) = database_url(&app.services) {
        env.push(("DATABASE_URL".into(), url));
    }
    env
}

/// The environment buildpacks stage with.
pub fn staging(app: &DeaStart, user_env: &[String]) -> Vec<(String, String)> {
    let mut env = common(app, None);
    env.push(("CF_STACK".into(), STACK.into()));
    env.extend(parse_pairs(user_env));
    env
}

/// The environment of one instance.
pub fn instance(app: &DeaStart, facts: &InstanceFacts, config_vars: &[(String, String)]) -> Vec<(String, String)> {
    let mut env = common(app, Some(facts));
    let port = facts.port.to_string();
    env.extend([
        ("HOME".to_string(), HOME.to_string()),
        ("TMPDIR".to_string(), TMPDIR.to_string()),
        ("PORT".to_string(), port.clone()),
        ("VCAP_APP_HOST".to_string(), "0.0.0.0".to_string()),
        ("VCAP_APP_PORT".to_string(), port.clone()),
        ("CF_INSTANCE_INDEX".to_string(), app.index.to_string()),
        ("CF_INSTANCE_GUID".to_string(), facts.instance_id.to_string()),
        ("CF_INSTANCE_IP".to_string(), facts.host.to_string()),
        ("CF_INSTANCE_PORT".to_string(), port.clone()),
        ("CF_INSTANCE_ADDR".to_string(), format!("{}:{port}", facts.host)),
    ]);
    env.extend(config_vars.iter().cloned());
    env.extend(parse_pairs(&app.env));
    // Later entries win, as in a shell's `export`.
    let mut seen = std::collections::HashSet::new();
    let mut deduped: Vec<(String, String)> = env.into_iter().rev().filter(|(k, _)| seen.insert(k.clone())).collect();
    deduped.reverse();
    deduped
}

/// Adds the app's `.profile.d/*.env` files (KEY=value lines, in file-name
/// order), which CF applies last, over everything else.
pub fn with_profile_d(mut env: Vec<(String, String)>, app_dir: &std::path::Path) -> Vec<(String, String)> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(app_dir.join(".profile.d"))
        .map(|entries| {
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "env")).collect()
        })
        .unwrap_or_default();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let line = line.strip_prefix("export ").unwrap_or(line);
            if let Some((key, value)) = line.split_once('=') {
                let value = value.trim().trim_matches('"').to_string();
                env.retain(|(k, _)| k != key.trim());
                env.push((key.trim().to_string(), value));
            }
        }
    }
    env
}

/// The environment as CF's DEA wrote it to `logs/env.log`: `export` lines.
pub fn env_log(env: &[(String, String)]) -> String {
    env.iter().map(|(k, v)| format!("export {k}=\"{}\"\n", v.replace('\\', "\\\\").replace('"', "\\\""))).collect()
}

/// A start command as the guest runs it: `$VAR`s expanded from `env`, the
/// component's path inside the app (checked), and the guest's arguments
/// (that path, then the command's other words).
pub fn start_program(command: &str, env: &[(String, String)]) -> anyhow::Result<(String, Vec<String>)> {
    let expanded = expand(command, env);
    let mut words = expanded.split_whitespace();
    let first = words.next().ok_or_else(|| anyhow::anyhow!("the start command is empty"))?;
    let component_path =
        crate::blobstore::package::safe_path(first).map_err(|e| anyhow::anyhow!("start command: {e}"))?;
    let args = std::iter::once(component_path.clone()).chain(words.map(str::to_string)).collect();
    Ok((component_path, args))
}

/// Expands `$VAR` and `${VAR}` in a start command from the instance env.
pub fn expand(text: &str, env: &[(String, String)]) -> String {
    let lookup = |name: &str| env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let braced = chars.peek() == Some(&'{');
        if braced {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphanumeric() || n == '_' {
                name.push(n);
                chars.next();
            } else {
                break;
            }
        }
        if braced && chars.peek() == Some(&'}') {
            chars.next();
        }
        if name.is_empty() {
            out.push('$');
        } else {
            out.push_str(&lookup(&name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_variables_like_a_shell() {
        let env = vec![("PORT".to_string(), "61000".to_string())];
        assert_eq!(expand("app.wasm --port $PORT ${PORT}x $ $NONE", &env), "app.wasm --port 61000 61000x $ ");
    }
}
