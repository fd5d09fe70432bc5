//! The built-in service broker (`--roles broker`, part of `wf up` when
//! `postgresql_broker_url` names a PostgreSQL server): an Open Service
//! Broker API 2.13 server offering `postgresql`. It is a separate role
//! that speaks OSB over HTTP with basic auth, like any broker a CF operator
//! registers; the CC registers it by itself ([`crate::cc::osb::builtin`]).
//! Each instance is a database, each binding a login role of its own
//! ([`postgres`]); every operation finishes synchronously.

pub mod postgres;

use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use base64::Engine;
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres};
use tokio::net::TcpListener;

use crate::config::Config;

/// The service's catalog id, and its plans: (id, name, connection limit, description).
pub const SERVICE_ID: &str = "wf-postgresql";
const PLANS: [(&str, &str, i64, &str); 2] = [
    ("wf-postgresql-small", "small", 10, "A database of its own, 10 connections at most"),
    ("wf-postgresql-medium", "medium", 50, "A database of its own, 50 connections at most"),
];

struct Broker {
    db: PgPool,
    password: String,
    /// Where apps reach the server: host and port of `postgresql_broker_url`.
    host: String,
    port: u16,
}

type Shared = State<Arc<Broker>>;

/// Serves the broker on `listener` until the task is dropped.
pub async fn start(config: &Config, url: &str, listener: TcpListener) -> Result<tokio::task::JoinHandle<()>> {
    let db = crate::ccdb::pool_options::<Postgres>()
        .connect(url)
        .await
        .context("the postgresql broker connecting to postgresql_broker_url")?;
    let parsed = url::Url::parse(url).context("postgresql_broker_url is a URL")?;
    let broker = Arc::new(Broker {
        db,
        password: config.broker_password()?,
        host: parsed.host_str().unwrap_or("127.0.0.1").to_string(),
        port: parsed.port().unwrap_or(5432),
    });
    let app = Router::new()
        .route("/v2/catalog", get(catalog))
        .route("/v2/service_instances/{id}", put(provision).patch(update).delete(deprovision))
        .route("/v2/service_instances/{id}/service_bindings/{binding}", put(bind).delete(unbind))
        .layer(axum::middleware::from_fn_with_state(broker.clone(), check_auth))
        .with_state(broker);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("the postgresql broker stopped: {e}");
        }
    }))
}

/// A failed request: its status and the `description` OSB clients show.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({"description": self.1}))).into_response()
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Failure {
        Failure(StatusCode::INTERNAL_SERVER_ERROR, format!("PostgreSQL: {e}"))
    }
}

type Answer = Result<Response, Failure>;

fn ok(status: StatusCode, body: Value) -> Answer {
    Ok((status, axum::Json(body)).into_response())
}

/// 401 unless the request carries the broker's credentials.
async fn check_auth(State(broker): Shared, request: Request, next: Next) -> Answer {
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", Config::BROKER_USERNAME, broker.password));
    match request.headers().get("authorization").and_then(|v| v.to_str().ok()) {
        Some(given) if given.strip_prefix("Basic ") == Some(expected.as_str()) => Ok(next.run(request).await),
        _ => Err(Failure(StatusCode::UNAUTHORIZED, "the broker's credentials are needed".into())),
    }
}

async fn catalog() -> Answer {
    let plans: Vec<Value> = PLANS
        .iter()
        .map(|(id, name, limit, description)| {
            json!({"id": id, "name": name, "description": description, "free": true,
                   "metadata": {"connections": limit}})
        })
        .collect();
    ok(
        StatusCode::OK,
        json!({"services": [{
            "id": SERVICE_ID, "name": "postgresql", "description": "PostgreSQL databases",
            "bindable": true, "plan_updateable": true, "tags": ["postgresql", "relational"],
            "metadata": {"displayName": "PostgreSQL"}, "plans": plans,
        }]}),
    )
}

/// The connection limit of the plan a request names.
fn connections(body: &Value) -> Result<i64, Failure> {
    let plan = body["plan_id"].as_str();
    PLANS
        .iter()
        .find(|(id, ..)| Some(*id) == plan)
        .map(|(_, _, limit, _)| *limit)
        .ok_or_else(|| Failure(StatusCode::BAD_REQUEST, format!("unknown plan {}", body["plan_id"])))
}

fn json_body(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

async fn provision(State(broker): Shared, Path(id): Path<String>, body: String) -> Answer {
    let limit = connections(&json_body(&body))?;
    if postgres::database_exists(&broker.db, &id).await? {
        return ok(StatusCode::OK, json!({}));
    }
    postgres::provision(&broker.db, &id, limit).await?;
    ok(StatusCode::CREATED, json!({}))
}

async fn update(State(broker): Shared, Path(id): Path<String>, body: String) -> Answer {
    let body = json_body(&body);
    if body.get("plan_id").is_some() {
        postgres::set_connection_limit(&broker.db, &id, connections(&body)?).await?;
    }
    ok(StatusCode::OK, json!({}))
}

async fn deprovision(State(broker): Shared, Path(id): Path<String>) -> Answer {
    if !postgres::database_exists(&broker.db, &id).await? {
        return ok(StatusCode::GONE, json!({}));
    }
    postgres::deprovision(&broker.db, &id).await?;
    ok(StatusCode::OK, json!({}))
}

async fn bind(State(broker): Shared, Path((id, binding)): Path<(String, String)>) -> Answer {
    if !postgres::database_exists(&broker.db, &id).await? {
        return Err(Failure(StatusCode::NOT_FOUND, format!("no service instance {id}")));
    }
    let password = postgres::bind(&broker.db, &id, &binding).await?;
    let (username, name, host, port) =
        (postgres::binding_role(&binding), postgres::database(&id), &broker.host, broker.port);
    let credentials = json!({
        "uri": format!("postgres://{username}:{password}@{host}:{port}/{name}"),
        "jdbcUrl": format!("jdbc:postgresql://{host}:{port}/{name}?user={username}&password={password}"),
        "host": host, "port": port, "name": name, "username": username, "password": password,
    });
    ok(StatusCode::CREATED, json!({"credentials": credentials}))
}

async fn unbind(State(broker): Shared, Path((id, binding)): Path<(String, String)>) -> Answer {
    let status = if postgres::unbind(&broker.db, &id, &binding).await? { StatusCode::OK } else { StatusCode::GONE };
    ok(status, json!({}))
}
