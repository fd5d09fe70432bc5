//! A v3 API client as the cf CLI v7 is one: requests with the user's
//! token, JSON answers, v3 errors and jobs.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::{TestPlatform, eventually};

pub struct Cf<'a> {
    pub platform: &'a TestPlatform,
    pub token: String,
}

impl<'a> Cf<'a> {
    /// A client with the admin's token.
    pub async fn admin(platform: &'a TestPlatform) -> Cf<'a> {
        Cf { platform, token: platform.token().await }
    }

    /// (status, Location header, JSON body or null).
    pub async fn send(&self, method: Method, path: &str, body: Option<(&str, String)>) -> (u16, Option<String>, Value) {
        let mut request =
            self.platform.http.request(method, format!("{}{path}", self.platform.api)).bearer_auth(&self.token);
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        let text = response.text().await.unwrap();
        (status, location, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn expect(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let (got, _, value) = self.send(method.clone(), path, body.map(|b| ("application/json", b.to_string()))).await;
        assert_eq!(got, status, "{method} {path}: {value}");
        value
    }

    /// The v3 error of a refused request: (status, title).
    pub async fn error(&self, method: Method, path: &str, body: Option<Value>) -> (u16, String) {
        let (status, _, value) = self.send(method, path, body.map(|b| ("application/json", b.to_string()))).await;
        let title = value["errors"][0]["title"].as_str().unwrap_or_else(|| panic!("a v3 error: {value}"));
        (status, title.to_string())
    }

    /// An error answer: its status and first error (`code`, `title`, `detail`).
    pub async fn refusal(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, _, value) = self.send(method, path, body.map(|b| ("application/json", b.to_string()))).await;
        assert!(value["errors"][0].is_object(), "a v3 error: {value}");
        (status, value["errors"][0].clone())
    }

    /// Polls a job (a `Location`) until COMPLETE.
    pub async fn job_completes(&self, location: &str) {
        let path = location.trim_start_matches(&self.platform.api).to_string();
        eventually("the job completed", Duration::from_secs(30), || async {
            let job = self.expect(Method::GET, &path, None, 200).await;
            assert_ne!(job["state"], "FAILED", "{job}");
            (job["state"] == "COMPLETE").then_some(())
        })
        .await;
    }
}

/// Requests through the router, back to back, until stopped: (served, failed).
pub struct Load {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<(u64, u64)>,
}

impl Load {
    pub fn start(platform: &TestPlatform, host: &str) -> Load {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let (http, url, host) = (platform.http.clone(), platform.router.clone(), host.to_string());
        let task = tokio::spawn(async move {
            let (mut served, mut failed) = (0, 0);
            while !*stopped.borrow_and_update() {
                match http.get(&url).header("host", &host).send().await {
                    Ok(response) if response.status().is_success() => served += 1,
                    _ => failed += 1,
                }
            }
            (served, failed)
        });
        Load { stop, task }
    }

    pub async fn stop(self) -> (u64, u64) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap()
    }
}
