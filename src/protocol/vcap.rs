//! VCAP_APPLICATION and VCAP_SERVICES: what an app learns of itself and of
//! its bound services, in the shapes CF's DEA gave them. The DEA puts them
//! in every instance's environment and the CC shows them in
//! `/v2/apps/:guid/env`, so both build them here, from the `dea.start`
//! message.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::messages::DeaStart;

/// One running instance, as its environment describes it.
pub struct InstanceFacts<'a> {
    pub instance_id: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub started_at: DateTime<Utc>,
}

pub fn vcap_application(app: &DeaStart, instance: Option<&InstanceFacts>) -> Value {
    let mut value = json!({
        "limits": {"mem": app.limits.memory_mb, "disk": app.limits.disk_mb, "fds": app.limits.fds},
        "application_id": app.app_guid(),
        "application_version": app.version,
        "application_name": app.name,
        "application_uris": app.uris,
        "version": app.version,
        "name": app.name,
        "uris": app.uris,
        "users": if app.users.is_empty() { Value::Null } else { json!(app.users) },
        "space_id": app.space_guid,
        "space_name": app.space_name,
        "process_id": app.droplet,
        "process_type": app.process_type(),
    });
    if let Some(i) = instance {
        let started = i.started_at.format("%Y-%m-%d %H:%M:%S %z").to_string();
        let timestamp = i.started_at.timestamp();
        value["instance_id"] = json!(i.instance_id);
        value["instance_index"] = json!(app.index);
        value["host"] = json!("0.0.0.0");
        value["port"] = json!(i.port);
        value["started_at"] = json!(started);
        value["started_at_timestamp"] = json!(timestamp);
        value["start"] = json!(started);
        value["state_timestamp"] = json!(timestamp);
    }
    value
}

/// VCAP_SERVICES: the bound services (as `dea.start` carries them) by label.
pub fn vcap_services(services: &[Value]) -> Value {
    let mut by_label = serde_json::Map::new();
    for service in services {
        let label = service["label"].as_str().unwrap_or("user-provided").to_string();
        if let Value::Array(list) = by_label.entry(label).or_insert_with(|| json!([])) {
            list.push(service.clone());
        }
    }
    Value::Object(by_label)
}

/// DATABASE_URL, as CF's DEA made it: the `uri` credential of the first
/// bound service that is a MySQL or PostgreSQL URL, with the scheme Rails
/// expects (`mysql2://`, `postgres://`).
pub fn database_url(services: &[Value]) -> Option<String> {
    services.iter().filter_map(|s| s["credentials"]["uri"].as_str()).find_map(|uri| {
        let (scheme, rest) = uri.split_once("://")?;
        match scheme {
            "mysql" | "mysql2" => Some(format!("mysql2://{rest}")),
            "postgres" | "postgresql" => Some(format!("postgres://{rest}")),
            _ => None,
        }
    })
}
