//! What the console's pages show: one struct per template under
//! `templates/console`, filled from API answers by [`super::pages`], and
//! how a refusal of the API becomes a page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::api::{Refused, internal};
use super::session::Session;

/// The bar above every page: who is signed in, and where the page is.
pub struct Chrome {
    pub user: Option<String>,
    pub admin: bool,
    /// (link, label) from the top.
    pub crumbs: Vec<(String, String)>,
}

impl Chrome {
    pub fn of(session: &Session, crumbs: Vec<(String, String)>) -> Chrome {
        Chrome { user: Some(session.user_name.clone()), admin: session.admin, crumbs }
    }

    pub fn signed_out() -> Chrome {
        Chrome { user: None, admin: false, crumbs: Vec::new() }
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub error: Option<String>,
    pub username: String,
}

#[derive(Template)]
#[template(path = "console/orgs.html")]
pub struct OrgsPage {
    pub chrome: Chrome,
    pub orgs: Vec<Org>,
}

pub struct Org {
    pub name: String,
    pub spaces: Vec<SpaceTile>,
}

pub struct SpaceTile {
    pub guid: String,
    pub name: String,
    pub apps: u64,
}

#[derive(Template)]
#[template(path = "console/space.html")]
pub struct SpacePage {
    pub chrome: Chrome,
    pub guid: String,
    pub name: String,
    pub org: String,
    pub apps: Vec<AppRow>,
    pub services: Vec<ServiceRow>,
}

/// A service instance of a space.
pub struct ServiceRow {
    pub guid: String,
    pub name: String,
    /// `managed` or `user-provided`.
    pub kind: String,
    /// Its last operation, e.g. `create succeeded`.
    pub operation: String,
}

#[derive(Template)]
#[template(path = "console/platform.html")]
pub struct PlatformPage {
    pub chrome: Chrome,
    pub deas: Vec<DeaRow>,
    /// (state, how many apps)
    pub apps_by_state: Vec<(String, usize)>,
    pub instances: u64,
    /// The acting health manager, if one's lease is current.
    pub health_manager: Option<String>,
}

pub struct DeaRow {
    pub id: String,
    pub memory_total_mb: u64,
    pub memory_used_mb: u64,
    pub disk_total_mb: u64,
    pub disk_used_mb: u64,
    pub instances: u64,
    pub apps: u64,
}

#[derive(Template)]
#[template(path = "console/marketplace.html")]
pub struct MarketplacePage {
    pub chrome: Chrome,
    pub offerings: Vec<Offering>,
    /// (guid, `org / space`) of the spaces an instance can go in.
    pub spaces: Vec<(String, String)>,
}

pub struct Offering {
    pub name: String,
    pub description: String,
    pub plans: Vec<Plan>,
}

pub struct Plan {
    pub guid: String,
    pub name: String,
    pub description: String,
}

pub struct AppRow {
    pub guid: String,
    pub name: String,
    pub state: String,
    pub running: usize,
    pub desired: u64,
    pub memory_mb: u64,
    /// (host and path, URL)
    pub routes: Vec<(String, String)>,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "console/app.html")]
pub struct AppPage {
    pub chrome: Chrome,
    pub guid: String,
    pub name: String,
    pub state: String,
    pub notice: Option<String>,
    pub running: usize,
    pub desired: u64,
    pub memory_mb: u64,
    /// [`InstancesTable`], rendered.
    pub instances_html: String,
    pub routes: Vec<(String, String)>,
    /// (binding guid, service instance name)
    pub bindings: Vec<(String, String)>,
    /// (guid, name) of the space's service instances not bound to it.
    pub bindable: Vec<(String, String)>,
    /// (name, value shown), secrets masked.
    pub env: Vec<(String, String)>,
    /// (when, what)
    pub events: Vec<(String, String)>,
}

/// An app's instances: part of its page, and what the page fetches again
/// every few seconds.
#[derive(Template)]
#[template(path = "console/instances.html")]
pub struct InstancesTable {
    pub quota_bytes: u64,
    pub rows: Vec<InstanceRow>,
}

pub struct InstanceRow {
    pub index: u64,
    pub state: String,
    pub uptime: String,
    pub memory: String,
    pub memory_bytes: u64,
    pub cpu: String,
    pub host: String,
}

#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub status: u16,
    pub title: String,
    pub detail: String,
}

/// A page, or why there is none.
pub type Page = Result<Response, Failed>;

/// `template` as an HTML response.
pub fn html(template: impl Template) -> Page {
    let text = template.render().map_err(|e| Failed(internal(e)))?;
    Ok(Html(text).into_response())
}

/// The API refused what a page needed: signed out (its token no longer
/// good) goes to the sign-in page, anything else is shown with the API's
/// status and words.
pub struct Failed(pub Refused);

impl From<Refused> for Failed {
    fn from(refused: Refused) -> Failed {
        Failed(refused)
    }
}

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        let Refused { status, detail } = self.0;
        if status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/console/login").into_response();
        }
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            s if s.is_client_error() => "Refused",
            _ => "Something went wrong",
        };
        let page =
            ErrorPage { chrome: Chrome::signed_out(), status: status.as_u16(), title: title.to_string(), detail };
        match page.render() {
            Ok(text) => (status, Html(text)).into_response(),
            Err(_) => status.into_response(),
        }
    }
}

/// Memory as people read it: `12.3M`.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1}M", bytes as f64 / (1024.0 * 1024.0))
}

/// Seconds as `3d 4h`, `5h 6m`, `7m 8s`.
pub fn uptime(seconds: u64) -> String {
    let (d, h, m, s) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}
