//! What the console's forms do: sign in and out, and an app's start,
//! stop, restart, scale and delete — each one API request with the
//! user's token, then back to the page it came from (POST, redirect, GET),
//! or the API's refusal shown.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::Console;
use super::api::Refused;
use super::session::{Session, cookie_keeping};
use super::view::{Chrome, Failed, LoginPage, Page, html};

type Fields = Form<HashMap<String, String>>;

pub async fn sign_in(State(console): State<Console>, Form(fields): Fields) -> Page {
    let username = fields.get("username").map(|u| u.trim().to_string()).unwrap_or_default();
    let password = fields.get("password").cloned().unwrap_or_default();
    let grant = [("grant_type", "password"), ("username", username.as_str()), ("password", password.as_str())];
    match console.api.token(&grant).await {
        Ok(tokens) => {
            let refresh = tokens["refresh_token"].as_str().unwrap_or_default();
            let cookie = cookie_keeping(Some(refresh), console.secure);
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/console/orgs")).into_response())
        }
        Err(refused) => {
            // UAA's words: bad credentials, or the account locked.
            let page = LoginPage { chrome: Chrome::signed_out(), error: Some(refused.detail), username };
            let status = if refused.status.is_server_error() { refused.status } else { StatusCode::UNAUTHORIZED };
            html(page).map(|page| (status, page).into_response())
        }
    }
}

pub async fn sign_out(State(console): State<Console>) -> Response {
    ([(header::SET_COOKIE, cookie_keeping(None, console.secure))], Redirect::to("/console/login")).into_response()
}

/// Start, stop or restart.
pub async fn lifecycle(
    State(console): State<Console>,
    session: Session,
    Path((guid, action)): Path<(String, String)>,
) -> Page {
    let done = match action.as_str() {
        "start" => "Started",
        "stop" => "Stopped",
        "restart" => "Restarted",
        _ => return Err(refused(StatusCode::NOT_FOUND, format!("no action {action:?}: start, stop or restart"))),
    };
    console.api.call(Method::POST, &format!("/v3/apps/{guid}/actions/{action}"), &session.token, None).await?;
    Ok(back_to_app(&guid, done))
}

/// Instances and memory of the web process.
pub async fn scale(
    State(console): State<Console>,
    session: Session,
    Path(guid): Path<String>,
    Form(fields): Fields,
) -> Page {
    let number = |name: &str| -> Result<u64, Failed> {
        let text = fields.get(name).map(|v| v.trim()).unwrap_or_default();
        text.parse().map_err(|_| {
            refused(StatusCode::UNPROCESSABLE_ENTITY, format!("{name} must be a whole number, not {text:?}"))
        })
    };
    let (instances, memory) = (number("instances")?, number("memory_in_mb")?);
    let body = json!({"instances": instances, "memory_in_mb": memory});
    let path = format!("/v3/apps/{guid}/processes/web/actions/scale");
    console.api.call(Method::POST, &path, &session.token, Some(body)).await?;
    Ok(back_to_app(&guid, &format!("Scaled to {instances} × {memory}M")))
}

/// Deletes the app once its name was typed to confirm.
pub async fn delete(
    State(console): State<Console>,
    session: Session,
    Path(guid): Path<String>,
    Form(fields): Fields,
) -> Page {
    let app = console.api.get(&format!("/v3/apps/{guid}"), &session.token).await?;
    let name = app["name"].as_str().unwrap_or_default();
    if fields.get("confirm").map(|c| c.trim()) != Some(name) {
        return Err(refused(StatusCode::UNPROCESSABLE_ENTITY, format!("type the app's name, {name}, to delete it")));
    }
    console.api.call(Method::DELETE, &format!("/v3/apps/{guid}"), &session.token, None).await?;
    let space = app.pointer("/relationships/space/data/guid").and_then(|g| g.as_str()).unwrap_or_default();
    Ok(Redirect::to(&format!("/console/spaces/{space}")).into_response())
}

/// Binds a service instance of the app's space to it.
pub async fn bind(
    State(console): State<Console>,
    session: Session,
    Path(guid): Path<String>,
    Form(fields): Fields,
) -> Page {
    let Some(instance) = fields.get("service_instance").filter(|i| !i.is_empty()) else {
        return Err(refused(StatusCode::UNPROCESSABLE_ENTITY, "choose a service instance to bind".into()));
    };
    let body = json!({
        "type": "app",
        "relationships": {"app": {"data": {"guid": guid}}, "service_instance": {"data": {"guid": instance}}},
    });
    console.api.call(Method::POST, "/v3/service_credential_bindings", &session.token, Some(body)).await?;
    Ok(back_to_app(&guid, "Bound; restart the app for it to see the service"))
}

/// Removes one of the app's bindings.
pub async fn unbind(
    State(console): State<Console>,
    session: Session,
    Path((guid, binding)): Path<(String, String)>,
) -> Page {
    let path = format!("/v3/service_credential_bindings/{binding}");
    console.api.call(Method::DELETE, &path, &session.token, None).await?;
    Ok(back_to_app(&guid, "Unbound"))
}

/// Creates a service instance named `name` in `space`: of a plan (`plan`,
/// a managed service) or the user's own (`credentials`, a JSON object).
pub async fn create_service(State(console): State<Console>, session: Session, Form(fields): Fields) -> Page {
    let name = fields.get("name").map(|n| n.trim()).unwrap_or_default();
    let space = fields.get("space").cloned().unwrap_or_default();
    let mut body = json!({"name": name, "relationships": {"space": {"data": {"guid": space}}}});
    match (fields.get("plan"), fields.get("credentials")) {
        (Some(plan), _) => {
            body["type"] = json!("managed");
            body["relationships"]["service_plan"] = json!({"data": {"guid": plan}});
        }
        (None, Some(credentials)) => {
            let credentials: serde_json::Value = match serde_json::from_str(credentials) {
                Ok(object @ serde_json::Value::Object(_)) => object,
                _ => {
                    let detail = "credentials must be a JSON object, such as {\"password\": \"…\"}".to_string();
                    return Err(refused(StatusCode::UNPROCESSABLE_ENTITY, detail));
                }
            };
            body["type"] = json!("user-provided");
            body["credentials"] = credentials;
        }
        (None, None) => return Err(refused(StatusCode::UNPROCESSABLE_ENTITY, "choose a plan".into())),
    }
    console.api.call(Method::POST, "/v3/service_instances", &session.token, Some(body)).await?;
    Ok(Redirect::to(&format!("/console/spaces/{space}")).into_response())
}

/// Deletes a service instance, then shows its space.
pub async fn delete_service(State(console): State<Console>, session: Session, Path(instance): Path<String>) -> Page {
    let path = format!("/v3/service_instances/{instance}");
    let found = console.api.get(&path, &session.token).await?;
    console.api.call(Method::DELETE, &path, &session.token, None).await?;
    let space = found.pointer("/relationships/space/data/guid").and_then(|g| g.as_str()).unwrap_or_default();
    Ok(Redirect::to(&format!("/console/spaces/{space}")).into_response())
}

fn back_to_app(guid: &str, done: &str) -> Response {
    let done = url::form_urlencoded::byte_serialize(done.as_bytes()).collect::<String>();
    Redirect::to(&format!("/console/apps/{guid}?done={done}")).into_response()
}

fn refused(status: StatusCode, detail: String) -> Failed {
    Failed(Refused { status, detail })
}
