//! A service broker for the tests: a real OSB HTTP server on loopback
//! that provisions synchronously, or asynchronously for plan `slow` (then
//! answers `last_operation` "in progress" twice before it ends), binds with
//! made-up PostgreSQL credentials, and fails on request — parameter `mode`:
//! `fail-500`, `reject` (400 with a description), `slow-answer` (3 s),
//! `garbage` (201 without JSON), `fail-async`. It records every request it gets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use serde_json::{Value, json};

/// What the broker was asked: method, path with query, body.
pub type Request = (String, String, Value);
/// An asynchronous operation: polls left while in progress, final state, description.
type Operation = (u32, &'static str, &'static str);

#[derive(Clone, Default)]
pub struct Broker {
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// Instance id → plan id, as the broker has them.
    pub instances: Arc<Mutex<HashMap<String, String>>>,
    /// Operation id → how it goes.
    pub operations: Arc<Mutex<HashMap<String, Operation>>>,
    pub catalog: Arc<Mutex<Value>>,
}

pub fn catalog(pg_plans: &[&str]) -> Value {
    let plans: Vec<Value> = pg_plans
        .iter()
        .map(|p| json!({"id": format!("plan-{p}"), "name": p, "description": p, "free": *p != "large"}))
        .collect();
    json!({"services": [
        {"id": "svc-pg", "name": "pgsql", "description": "PostgreSQL", "bindable": true, "plan_updateable": true,
         "tags": ["sql", "postgres"], "plans": plans},
        {"id": "svc-queue", "name": "queue", "description": "a queue", "bindable": false,
         "plans": [{"id": "plan-basic", "name": "basic", "description": "basic"}]},
    ]})
}

impl Broker {
    fn log(&self, method: &str, path: String, query: &HashMap<String, String>, body: Value) {
        let mut query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        query.sort();
        let path = if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) };
        self.requests.lock().unwrap().push((method.into(), path, body));
    }

    pub fn requests_to(&self, method: &str, path_prefix: &str) -> Vec<Request> {
        let requests = self.requests.lock().unwrap();
        requests.iter().filter(|(m, p, _)| m == method && p.starts_with(path_prefix)).cloned().collect()
    }
}

type Params = Query<HashMap<String, String>>;

pub fn mode(body: &Value) -> &str {
    body["parameters"]["mode"].as_str().unwrap_or_default()
}

async fn provision(
    State(b): State<Broker>,
    Path(id): Path<String>,
    Query(q): Params,
    body: String,
) -> axum::response::Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    b.log("PUT", format!("/v2/service_instances/{id}"), &q, body.clone());
    let accepts_incomplete = q.get("accepts_incomplete").is_some_and(|v| v == "true");
    let plan = body["plan_id"].as_str().unwrap_or_default().to_string();
    match mode(&body) {
        "fail-500" => return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        "reject" => {
            let answer = json!({"description": "size must be small or large"});
            return (StatusCode::BAD_REQUEST, axum::Json(answer)).into_response();
        }
        "slow-answer" => tokio::time::sleep(Duration::from_secs(3)).await,
        "garbage" => return (StatusCode::CREATED, "<html>created, probably</html>").into_response(),
        _ => {}
    }
    if plan == "plan-slow" {
        if !accepts_incomplete {
            let answer = json!({"error": "AsyncRequired", "description": "This plan is asynchronous."});
            return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(answer)).into_response();
        }
        let outcome =
            if mode(&body) == "fail-async" { (2, "failed", "no capacity left") } else { (2, "succeeded", "ready") };
        b.operations.lock().unwrap().insert(format!("provision-{id}"), outcome);
        b.instances.lock().unwrap().insert(id.clone(), plan);
        let answer =
            json!({"operation": format!("provision-{id}"), "dashboard_url": format!("http://dash.example/{id}")});
        return (StatusCode::ACCEPTED, axum::Json(answer)).into_response();
    }
    b.instances.lock().unwrap().insert(id.clone(), plan);
    (StatusCode::CREATED, axum::Json(json!({"dashboard_url": format!("http://dash.example/{id}")}))).into_response()
}

async fn update(
    State(b): State<Broker>,
    Path(id): Path<String>,
    Query(q): Params,
    body: String,
) -> axum::response::Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    b.log("PATCH", format!("/v2/service_instances/{id}"), &q, body.clone());
    if mode(&body) == "fail-500" {
        return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
    }
    if let Some(plan) = body["plan_id"].as_str() {
        b.instances.lock().unwrap().insert(id, plan.to_string());
    }
    axum::Json(json!({})).into_response()
}

async fn deprovision(State(b): State<Broker>, Path(id): Path<String>, Query(q): Params) -> axum::response::Response {
    b.log("DELETE", format!("/v2/service_instances/{id}"), &q, Value::Null);
    let plan = b.instances.lock().unwrap().get(&id).cloned();
    match plan {
        None => (StatusCode::GONE, axum::Json(json!({}))).into_response(),
        Some(plan) if plan == "plan-slow" && q.get("accepts_incomplete").is_some_and(|v| v == "true") => {
            b.operations.lock().unwrap().insert(format!("deprovision-{id}"), (1, "gone", ""));
            (StatusCode::ACCEPTED, axum::Json(json!({"operation": format!("deprovision-{id}")}))).into_response()
        }
        Some(_) => {
            b.instances.lock().unwrap().remove(&id);
            axum::Json(json!({})).into_response()
        }
    }
}

async fn last_operation(State(b): State<Broker>, Path(id): Path<String>, Query(q): Params) -> axum::response::Response {
    b.log("GET", format!("/v2/service_instances/{id}/last_operation"), &q, Value::Null);
    let operation = q.get("operation").cloned().unwrap_or_default();
    let mut operations = b.operations.lock().unwrap();
    let Some((polls, state, description)) = operations.get_mut(&operation) else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"description": "unknown operation"}))).into_response();
    };
    if *polls > 0 {
        *polls -= 1;
        return axum::Json(json!({"state": "in progress", "description": "working on it"})).into_response();
    }
    if *state == "gone" {
        b.instances.lock().unwrap().remove(&id);
        return (StatusCode::GONE, axum::Json(json!({}))).into_response();
    }
    axum::Json(json!({"state": state, "description": description})).into_response()
}

async fn bind(
    State(b): State<Broker>,
    Path((id, binding)): Path<(String, String)>,
    Query(q): Params,
    body: String,
) -> axum::response::Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    b.log("PUT", format!("/v2/service_instances/{id}/service_bindings/{binding}"), &q, body.clone());
    if mode(&body) == "fail-500" {
        return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
    }
    let credentials = json!({"uri": format!("postgres://u{}:pw@db.example:5432/d{}", &binding[..8], &id[..8]),
        "username": format!("u{}", &binding[..8])});
    (StatusCode::CREATED, axum::Json(json!({"credentials": credentials}))).into_response()
}

async fn unbind(
    State(b): State<Broker>,
    Path((id, binding)): Path<(String, String)>,
    Query(q): Params,
) -> impl IntoResponse {
    b.log("DELETE", format!("/v2/service_instances/{id}/service_bindings/{binding}"), &q, Value::Null);
    axum::Json(json!({}))
}

/// Serves the broker on a free port of loopback; returns its URL.
pub async fn start_broker() -> (String, Broker) {
    let (app, broker) = broker_app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, broker)
}

/// The broker's HTTP routes, to serve as a test needs (over TLS, say).
pub fn broker_app() -> (axum::Router, Broker) {
    let broker = Broker::default();
    *broker.catalog.lock().unwrap() = catalog(&["small", "large", "slow"]);
    let app = axum::Router::new()
        .route(
            "/v2/catalog",
            get(|State(b): State<Broker>| async move { axum::Json(b.catalog.lock().unwrap().clone()) }),
        )
        .route("/v2/service_instances/{id}", put(provision).patch(update).delete(deprovision))
        .route("/v2/service_instances/{id}/last_operation", get(last_operation))
        .route("/v2/service_instances/{id}/service_bindings/{binding}", put(bind).delete(unbind))
        .with_state(broker.clone());
    (app, broker)
}
