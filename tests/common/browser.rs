//! A real browser for the console's tests: Debian's chromium, headless,
//! driven by its chromedriver over WebDriver (the W3C protocol, a few of
//! its commands, over reqwest). `.ci/run` installs both; a machine
//! without them fails the test, saying so.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// W3C WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a wait for something on a page lasts: a cold machine's
/// debug build restarts instances slowly.
pub const WAIT: Duration = Duration::from_secs(90);

pub struct Browser {
    _driver: tokio::process::Child,
    http: reqwest::Client,
    session: String,
}

pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Starts chromedriver and a headless chromium with a window of
    /// `width` × `height`.
    pub async fn start(width: u32, height: u32) -> Browser {
        let chromedriver = std::env::var("WF_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("WF_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        for program in [&chromedriver, &chromium] {
            assert!(
                Path::new(program).is_file(),
                "no {program}: install Debian's chromium and chromium-driver (.ci/run does)"
            );
        }
        let port = super::cluster::free_port();
        let driver = tokio::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        super::cluster::wait_for_port(port, "chromedriver listening").await;
        let http = reqwest::Client::new();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         format!("--window-size={width},{height}")],
            },
        }}});
        let base = format!("http://127.0.0.1:{port}");
        let answer: Value =
            http.post(format!("{base}/session")).json(&capabilities).send().await.unwrap().json().await.unwrap();
        let session = answer["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {answer}"));
        Browser { _driver: driver, http, session: format!("{base}/session/{session}") }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.expect("chromedriver answers").json().await.expect("JSON");
        answer["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    pub async fn url(&self) -> String {
        self.command(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_string()
    }

    /// The first element `css` selects now, if any.
    pub async fn find(&self, css: &str) -> Option<Element<'_>> {
        let found =
            self.command(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        Some(Element { browser: self, id: found[ELEMENT].as_str()?.to_string() })
    }

    /// How many elements `css` selects now.
    pub async fn count(&self, css: &str) -> usize {
        let found = self
            .command(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css})))
            .await;
        found.as_array().map_or(0, Vec::len)
    }

    /// The element `css` selects, once there is one.
    pub async fn wait_for(&self, css: &str) -> Element<'_> {
        let began = Instant::now();
        loop {
            if let Some(element) = self.find(css).await {
                return element;
            }
            assert!(began.elapsed() < WAIT, "nothing matched {css:?} on {} within {WAIT:?}", self.url().await);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the text of what `css` selects satisfies `check`.
    pub async fn wait_for_text(&self, css: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let began = Instant::now();
        loop {
            let text = match self.find(css).await {
                Some(element) => element.text().await,
                None => String::new(),
            };
            if check(&text) {
                return text;
            }
            assert!(began.elapsed() < WAIT, "{css} never showed {what} on {}; it shows:\n{text}", self.url().await);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Resizes the window (a phone's screen, say).
    pub async fn resize(&self, width: u32, height: u32) {
        let rect = json!({"width": width, "height": height});
        self.command(reqwest::Method::POST, "/window/rect", Some(rect)).await;
    }

    /// The visible text of the whole page.
    pub async fn text(&self) -> String {
        self.wait_for("body").await.text().await
    }

    /// Saves a screenshot as `name`.png in [`screenshots`]; its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.command(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap_or_default()).unwrap();
        let path = screenshots().join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        eprintln!("screenshot: {}", path.display());
        path
    }

    pub async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

impl Element<'_> {
    pub async fn click(&self) {
        self.browser.command(reqwest::Method::POST, &format!("/element/{}/click", self.id), Some(json!({}))).await;
    }

    pub async fn clear(&self) {
        self.browser.command(reqwest::Method::POST, &format!("/element/{}/clear", self.id), Some(json!({}))).await;
    }

    pub async fn type_text(&self, text: &str) {
        let path = format!("/element/{}/value", self.id);
        self.browser.command(reqwest::Method::POST, &path, Some(json!({"text": text}))).await;
    }

    pub async fn text(&self) -> String {
        let text = self.browser.command(reqwest::Method::GET, &format!("/element/{}/text", self.id), None).await;
        text.as_str().unwrap_or_default().to_string()
    }
}

/// Where screenshots go: `WF_TEST_SCREENSHOTS`, else `console-screenshots`
/// in the system's temp dir.
pub fn screenshots() -> PathBuf {
    let dir = std::env::var_os("WF_TEST_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("console-screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
