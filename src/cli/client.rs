//! Authenticated calls to the CC. A 401 means the access token expired:
//! it is refreshed once with the refresh token (as the cf CLI does) and the
//! call repeated. CF error bodies become errors saying what CF said.

use anyhow::{Result, anyhow, bail};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::session::Session;

pub struct Client {
    http: reqwest::Client,
    pub session: Session,
}

/// How long a job the client waits for may take.
const JOB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A request body.
pub enum Payload {
    None,
    Json(Value),
    Multipart(Box<dyn Fn() -> reqwest::multipart::Form + Send + Sync>),
}

impl Client {
    pub fn new(session: Session) -> Result<Client> {
        let http = reqwest::Client::builder().danger_accept_invalid_certs(session.skip_ssl_validation).build()?;
        Ok(Client { http, session })
    }

    pub fn load() -> Result<Client> {
        Client::new(Session::load()?)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Gets a token pair with the password grant.
    pub async fn password_grant(&self, api: &str, username: &str, password: &str) -> Result<(String, String)> {
        let form = [("grant_type", "password"), ("username", username), ("password", password)];
        self.token_request(api, &form).await
    }

    async fn token_request(&self, api: &str, form: &[(&str, &str)]) -> Result<(String, String)> {
        let response =
            self.http.post(format!("{api}/oauth/token")).basic_auth("cf", Some("")).form(form).send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{}", body["error_description"].as_str().unwrap_or("authentication failed"));
        }
        let token =
            |k: &str| body[k].as_str().map(str::to_string).ok_or_else(|| anyhow!("the token response has no {k}"));
        Ok((token("access_token")?, token("refresh_token")?))
    }

    async fn refresh(&mut self) -> Result<()> {
        let refresh = self.session.refresh_token.clone();
        let (access, refresh) = self
            .token_request(&self.session.api.clone(), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .await
            .map_err(|_| anyhow!("your session expired: run `wf login` again"))?;
        self.session.access_token = access;
        self.session.refresh_token = refresh;
        self.session.save()
    }

    async fn send(&self, method: &Method, path: &str, payload: &Payload) -> Result<reqwest::Response> {
        let url = format!("{}{path}", self.session.api);
        let request = self.http.request(method.clone(), url).bearer_auth(&self.session.access_token);
        let request = match payload {
            Payload::None => request,
            Payload::Json(v) => request.json(v),
            Payload::Multipart(form) => request.multipart(form()),
        };
        Ok(request.send().await?)
    }

    /// Calls the API, returning the JSON body (`null` when empty).
    pub async fn call(&mut self, method: Method, path: &str, payload: Payload) -> Result<Value> {
        Ok(self.answer(method, path, payload).await?.0)
    }

    /// Calls the API: the JSON body (`null` when empty) and the
    /// `Location` header (an asynchronous answer's job).
    async fn answer(&mut self, method: Method, path: &str, payload: Payload) -> Result<(Value, Option<String>)> {
        let mut response = self.send(&method, path, &payload).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            self.refresh().await?;
            response = self.send(&method, path, &payload).await?;
        }
        let location = response.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string);
        let status = response.status();
        let text = response.text().await?;
        let body: Value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        if !status.is_success() {
            // v2's error, or v3's first.
            let v3 = &body["errors"][0];
            let description = body["description"]
                .as_str()
                .or(v3["detail"].as_str())
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string());
            let code = body["error_code"].as_str().or(v3["title"].as_str()).unwrap_or("");
            bail!(ApiFailure { status: status.as_u16(), error_code: code.to_string(), description });
        }
        Ok((body, location))
    }

    pub async fn get(&mut self, path: &str) -> Result<Value> {
        self.call(Method::GET, path, Payload::None).await
    }

    /// All resources of a list, following `next_url`.
    pub async fn get_all(&mut self, path: &str) -> Result<Vec<Value>> {
        let mut resources = Vec::new();
        let mut next = Some(path.to_string());
        while let Some(path) = next {
            let page = self.get(&path).await?;
            resources.extend(page["resources"].as_array().cloned().unwrap_or_default());
            next = page["next_url"].as_str().map(str::to_string);
        }
        Ok(resources)
    }
}

impl Client {
    /// The one resource a filtered list finds, or an error naming `what`.
    pub async fn find_one(&mut self, path: &str, what: &str) -> Result<Value> {
        let page = self.get(path).await?;
        page["resources"].get(0).cloned().ok_or_else(|| anyhow!("{what} not found"))
    }

    /// Applies a manifest to the space (`POST
    /// /v3/spaces/:guid/actions/apply_manifest`) and follows its job to
    /// its end: Err with the job's error when it failed.
    pub async fn apply_manifest(&mut self, space: &str, manifest: Value) -> Result<()> {
        let path = format!("/v3/spaces/{space}/actions/apply_manifest");
        let (_, location) = self.answer(Method::POST, &path, Payload::Json(manifest)).await?;
        let job = location.ok_or_else(|| anyhow!("the CC answered the manifest without a job"))?;
        let job = job.find("/v3/jobs/").map_or(job.clone(), |at| job[at..].to_string());
        let deadline = tokio::time::Instant::now() + JOB_TIMEOUT;
        loop {
            let state = self.get(&job).await?;
            match state["state"].as_str() {
                Some("COMPLETE") => return Ok(()),
                Some("FAILED") => {
                    bail!("{}", state["errors"][0]["detail"].as_str().unwrap_or("the manifest was not applied"))
                }
                _ if tokio::time::Instant::now() >= deadline => {
                    bail!("the manifest was not applied within {}s", JOB_TIMEOUT.as_secs())
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
    }

    /// The targeted space's guid.
    pub fn space(&self) -> Result<String> {
        self.session.space_guid.clone().ok_or_else(|| anyhow!("no space targeted: run `wf target -o ORG -s SPACE`"))
    }

    /// The app called `name` in the targeted space.
    pub async fn app(&mut self, name: &str) -> Result<Value> {
        let space = self.space()?;
        self.find_one(
            &format!("/v2/apps?q={}&q={}", q(&format!("name:{name}")), q(&format!("space_guid:{space}"))),
            &format!("app {name}"),
        )
        .await
    }
}

/// The guid of a v2 resource.
pub fn guid(resource: &Value) -> String {
    resource["metadata"]["guid"].as_str().unwrap_or_default().to_string()
}

/// A CF error answer.
#[derive(Debug)]
pub struct ApiFailure {
    pub status: u16,
    pub error_code: String,
    pub description: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, HTTP {})", self.description, self.error_code, self.status)
    }
}

impl std::error::Error for ApiFailure {}

/// `q=` value escaping for filters.
pub fn q(filter: &str) -> String {
    url::form_urlencoded::byte_serialize(filter.as_bytes()).collect()
}
