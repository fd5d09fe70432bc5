//! Helpers for the tests of the buildpacks that run apps from source
//! (tests/javascript.rs, tests/python.rs): app directories written from
//! text, requests through the router, failed pushes, and the cf CLI v6
//! push sequence for an app without a buildpack named.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::{TestPlatform, eventually};

/// An app directory made of (path, text) files.
pub fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// A request through the router with this Host (and a JSON body, if any):
/// (status, body).
pub async fn request(
    platform: &TestPlatform,
    method: Method,
    host: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, String) {
    let mut request = platform.http.request(method, format!("{}{path}", platform.router)).header("host", host);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// `wf push` that is expected to fail; returns what it printed.
pub async fn failed_push(platform: &TestPlatform, name: &str, dir: &Path) -> String {
    let out = platform.wf(&["push", name, "-p", dir.to_str().unwrap(), "-m", "64M"]).await;
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "push {name} should fail:\n{printed}");
    printed
}

/// What cf CLI v6 sends to push (../shared/reference/cf-cli-v6-push.md)
/// the files `files` of `dir` as app `name` (64M, route `name.localhost`),
/// without a buildpack named. Returns the app once it is staged and its
/// instance runs.
pub async fn cf_cli_push(platform: &TestPlatform, name: &str, dir: &Path, files: &[&str]) -> Value {
    let token = platform.token().await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let mut request = platform.http.request(method, format!("{}{path}", platform.api)).bearer_auth(&token);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let guid = |v: &Value| v["metadata"]["guid"].as_str().unwrap().to_string();
    let (_, spaces) = call(Method::GET, "/v2/spaces?q=name%3Adev".into(), None).await;
    let space = guid(&spaces["resources"][0]);
    let (_, domains) = call(Method::GET, "/v2/shared_domains".into(), None).await;
    let domain = guid(&domains["resources"][0]);
    let (status, app) =
        call(Method::POST, "/v2/apps".into(), Some(json!({"name": name, "memory": 64, "space_guid": space}))).await;
    assert_eq!(status, 201, "{app}");
    let app_guid = guid(&app);
    let (status, route) = call(
        Method::POST,
        "/v2/routes".into(),
        Some(json!({"host": name, "domain_guid": domain, "space_guid": space})),
    )
    .await;
    assert_eq!(status, 201, "{route}");
    let (status, _) = call(Method::PUT, format!("/v2/routes/{}/apps/{app_guid}", guid(&route)), None).await;
    assert_eq!(status, 201);

    let zip = {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for file in files {
            writer.start_file(*file, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    };
    let (status, _) = platform.put_bits(&app_guid, zip, false).await;
    assert_eq!(status, 201);
    let (status, _) = call(Method::PUT, format!("/v2/apps/{app_guid}"), Some(json!({"state": "STARTED"}))).await;
    assert_eq!(status, 201);
    let app_path = format!("/v2/apps/{app_guid}");
    let staged = eventually("staged", Duration::from_secs(120), || async {
        let (_, app) = call(Method::GET, app_path.clone(), None).await;
        assert_ne!(app["entity"]["package_state"], "FAILED", "{app}");
        (app["entity"]["package_state"] == "STAGED").then_some(app)
    })
    .await;
    let instances = format!("/v2/apps/{app_guid}/instances");
    eventually("running", Duration::from_secs(60), || async {
        let (_, body) = call(Method::GET, instances.clone(), None).await;
        (body["0"]["state"] == "RUNNING").then_some(())
    })
    .await;
    staged
}

/// A platform whose requests time out after 2 s, crashed instances kept,
/// logged in: for [`held_like_any_guest`].
pub async fn platform_with_short_requests() -> TestPlatform {
    let platform = TestPlatform::start_configured("local:", None, |config| {
        super::keep_crashes(config);
        config.request_timeout = 2;
    })
    .await;
    platform.login().await;
    platform
}

/// Pushes the app in `dir` as `hostile` (64M) and checks it is held like
/// any guest: `/spin` (a loop) is cut off by the request timeout, `/hoard`
/// (allocating without end) answers 500 and the app serves again, and
/// `/fetch?to=URL` of the Cloud Controller (on loopback, which no default
/// security group opens) is refused — `refused` checks the app's 502 body
/// — until a security group opens it (after a restart: `allowed`, 200).
/// `/` answers `alive`.
pub async fn held_like_any_guest(platform: &TestPlatform, dir: &Path, refused: impl Fn(&str) -> bool, allowed: &str) {
    platform.push("hostile", dir, &["-m", "64M"]).await;
    let guid = platform.app_guid("hostile").await;
    let host = "hostile.localhost";

    let started = std::time::Instant::now();
    assert_eq!(request(platform, Method::GET, host, "/spin", None).await.0, 504);
    assert!(started.elapsed() < Duration::from_secs(10), "cut off by the request timeout: {:?}", started.elapsed());
    let (status, body) = request(platform, Method::GET, host, "/hoard", None).await;
    assert_eq!(status, 500, "{body}");
    eventually("the app answers again", Duration::from_secs(30), || async {
        (request(platform, Method::GET, host, "/", None).await == (200, "alive".to_string())).then_some(())
    })
    .await;

    let cc = platform.api.clone();
    let (status, body) = request(platform, Method::GET, host, &format!("/fetch?to={cc}/v2/info"), None).await;
    assert_eq!(status, 502, "{body}");
    assert!(refused(&body), "{body}");
    let space = platform.get(&format!("/v2/apps/{guid}")).await["entity"]["space_guid"].as_str().unwrap().to_string();
    let port = cc.rsplit(':').next().unwrap();
    let group = json!({
        "name": "cc", "space_guids": [space],
        "rules": [{"protocol": "tcp", "destination": "127.0.0.1", "ports": port}],
    });
    let (status, body) = platform.api(Method::POST, "/v2/security_groups", Some(&group.to_string())).await;
    assert_eq!(status, 201, "{body}");
    let out = platform.wf(&["restart", "hostile"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, body) = request(platform, Method::GET, host, &format!("/fetch?to={cc}/v2/info"), None).await;
    assert_eq!((status, body.as_str()), (200, allowed));
}

/// An app from source is a process, as on CF: what it keeps between
/// requests (here a count, at `/`) is there for the next request of the
/// instance. A request cut off at its deadline (`/spin` loops) ends that
/// process; the next request starts again from the staged snapshot. The
/// app is pushed as `counter` (one instance), requests go one at a time,
/// each as soon as the one before is answered: a store comes back just
/// after its response, and a request that comes sooner waits for it
/// rather than get a new store (with a count of its own).
pub async fn keeps_state_between_requests_until_cut_off(platform: &TestPlatform, dir: &Path) {
    platform.push("counter", dir, &["-m", "64M"]).await;
    let host = "counter.localhost";
    let count = || request(platform, Method::GET, host, "/", None);
    for expected in ["1", "2", "3"] {
        assert_eq!(count().await, (200, expected.to_string()));
    }
    assert_eq!(request(platform, Method::GET, host, "/spin", None).await.0, 504);
    for expected in ["1", "2"] {
        assert_eq!(count().await, (200, expected.to_string()));
    }
}

/// The app at `dir` (relative to the repository: an example, or a test
/// fixture) with its packages installed by scripts/example-deps.sh (npm
/// ci / pip, checked against the lock file's hashes), as its README says
/// to before a push. Installed once per machine into a cache named by the
/// app's files; an install is made beside it and renamed in place, so
/// tests racing for it agree.
pub fn installed(dir: &str) -> std::path::PathBuf {
    use sha1::{Digest, Sha1};
    let name = dir.rsplit('/').next().unwrap();
    let source = super::repo().join(dir);
    let mut files = Vec::new();
    let mut pending = vec![source.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let skip = path.file_name().is_some_and(|n| n == "node_modules" || n == "vendor" || n == "__pycache__");
            if path.is_dir() && !skip {
                pending.push(path);
            } else if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hash = Sha1::new();
    for file in &files {
        hash.update(file.strip_prefix(&source).unwrap().to_string_lossy().as_bytes());
        hash.update(std::fs::read(file).unwrap());
    }
    let key: String = hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    let cache =
        std::env::var_os("HOME").map_or_else(std::env::temp_dir, std::path::PathBuf::from).join(".cache/wf-examples");
    let installed = cache.join(format!("{name}-{key}"));
    if installed.is_dir() {
        return installed;
    }
    let building = cache.join(format!("{name}-{key}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let out = std::process::Command::new("bash")
        .arg(super::repo().join("scripts/example-deps.sh"))
        .arg(&source)
        .arg(&building)
        .output()
        .unwrap();
    assert!(out.status.success(), "scripts/example-deps.sh {dir}: {}", String::from_utf8_lossy(&out.stderr));
    if std::fs::rename(&building, &installed).is_err() {
        // Another test installed it first.
        let _ = std::fs::remove_dir_all(&building);
    }
    installed
}
