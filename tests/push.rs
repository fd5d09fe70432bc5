//! Pushing apps end to end on the in-process bus (the NATS run is in nats.rs).

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_hello_with_two_instances_on_the_local_bus() {
    common::push_hello_scenario("local:").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_without_wasm_fails_staging_and_the_cc_keeps_serving() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let app = tempfile::tempdir().unwrap();
    std::fs::write(app.path().join("index.txt"), "no component here").unwrap();

    let out = platform.wf(&["push", "plain", "-p", app.path().to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "push must fail:\n{stdout}");
    assert!(stderr.contains("NoAppDetectedError"), "the reason is printed: {stderr}");
    assert!(stdout.contains("wasm_buildpack does not apply"), "the staging log is shown: {stdout}");

    let guid = platform.app_guid("plain").await;
    let app = platform.get(&format!("/v2/apps/{guid}")).await;
    assert_eq!(app["entity"]["package_state"], "FAILED");
    assert_eq!(app["entity"]["staging_failed_reason"], "NoAppDetectedError");
    assert!(app["entity"]["staging_failed_description"].as_str().unwrap().contains("wasm_buildpack"));
    let (status, body) = platform.api(reqwest::Method::GET, &format!("/v2/apps/{guid}/instances"), None).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("CF-StagingError")));

    // The CC still serves, and a good app still pushes.
    assert_eq!(platform.get("/v2/info").await["api_version"], "2.128.0");
    let good = app_dir(&["examples/hello-http/hello_http.wasm"]);
    platform.push("good", good.path(), &["-m", "32M"]).await;
    let (status, _) = platform.via_router("good.localhost", "/").await;
    assert_eq!(status, 200);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushing_again_uploads_only_changed_files_and_restarts() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let app = app_dir(&["examples/hello-http/hello_http.wasm"]);
    platform.push("again", app.path(), &["-m", "32M"]).await;
    std::fs::write(app.path().join("notes.txt"), "new file").unwrap();
    let out = platform.push("again", app.path(), &["-i", "2"]).await;
    assert!(out.contains("Uploading 1 files"), "only the new file is sent: {out}");
    assert!(out.contains("1 already on the server"), "{out}");
    let guid = platform.app_guid("again").await;
    let p = &platform;
    let g = &guid;
    eventually("two running instances", Duration::from_secs(20), || async move {
        let i = p.instances(g).await;
        (i.as_object().unwrap().len() == 2 && i["1"]["state"] == "RUNNING").then_some(())
    })
    .await;
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_hello_with_the_ccdb_on_postgres() {
    let Some(platform) = common::postgres_platform().await else { return };
    platform.login().await;
    platform.push("hello", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-i", "2", "-m", "32M"]).await;
    let guid = platform.app_guid("hello").await;
    let (p, g) = (&platform, &guid);
    eventually("both instances RUNNING", Duration::from_secs(20), || async move {
        let i = p.instances(g).await;
        (i["0"]["state"] == "RUNNING" && i["1"]["state"] == "RUNNING").then_some(())
    })
    .await;
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);
    platform.shutdown().await;
}

/// An update that sends fields with the values they have (as `wf push` and
/// `cf push` do) is no change: the app keeps its version and instances; a
/// real change gives it a new version, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_values_that_change_restart_an_app() {
    let platform = TestPlatform::start("local:").await;
    let space = platform.get("/v2/spaces?q=name:dev").await["resources"][0]["metadata"]["guid"].clone();
    let body = serde_json::json!({"name": "same", "space_guid": space, "memory": 64, "disk_quota": 512}).to_string();
    let (status, app) = platform.api(reqwest::Method::POST, "/v2/apps", Some(&body)).await;
    assert_eq!(status, 201, "{app}");
    let path = format!("/v2/apps/{}", app["metadata"]["guid"].as_str().unwrap());
    let version = |app: &serde_json::Value| app["entity"]["version"].as_str().unwrap().to_string();
    let first = version(&app);
    let update = |body: &'static str| {
        let (platform, path) = (&platform, &path);
        async move {
            let (status, app) = platform.api(reqwest::Method::PUT, path, Some(body)).await;
            assert_eq!(status, 201, "{app}");
            version(&app)
        }
    };
    let same = r#"{"memory": 64, "disk_quota": 512, "command": null, "environment_json": {}, "instances": 1}"#;
    assert_eq!(update(same).await, first, "the same values are no change");
    let with_env = update(r#"{"environment_json": {"GREETING": "hi"}}"#).await;
    assert_ne!(with_env, first, "a new environment is a new version");
    assert_eq!(update(r#"{"environment_json": {"GREETING": "hi"}, "memory": 64}"#).await, with_env);
    assert_ne!(update(r#"{"memory": 128}"#).await, with_env, "new memory is a new version");
    platform.shutdown().await;
}

/// Staging the same package again gives the same droplet (the same SHA1),
/// so the DEAs' droplet caches hit. (An environment of its own makes the
/// stager run again: staging exactly the same reuses the droplet without
/// one, tests/staging_reuse.rs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restaging_the_same_package_gives_the_same_droplet() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("twice", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "32M"]).await;
    let guid = platform.app_guid("twice").await;
    let env = r#"{"environment_json": {"STAGED": "again"}}"#;
    assert_eq!(platform.api(reqwest::Method::PUT, &format!("/v2/apps/{guid}"), Some(env)).await.0, 201);
    let (status, body) = platform.api(reqwest::Method::POST, &format!("/v2/apps/{guid}/restage"), None).await;
    assert_eq!(status, 201, "{body}");
    let p = &platform;
    let g = &guid;
    let droplets = eventually("two stagings", Duration::from_secs(30), || async move {
        let logs = p.get(&format!("/v2/apps/{g}/logs")).await;
        let droplets: Vec<String> = logs
            .as_array()?
            .iter()
            .filter_map(|l| l["message"].as_str()?.trim().strip_prefix("droplet ").map(str::to_string))
            .collect();
        (droplets.len() == 2).then_some(droplets)
    })
    .await;
    assert_eq!(droplets[0], droplets[1], "the same droplet SHA1 and size");
    platform.shutdown().await;
}

/// Requests through the router, from `clients` keep-alive connections at
/// once, until `stop` is set: (answers by status, failed requests, the last
/// body answered).
async fn load(
    router: String,
    host: &'static str,
    clients: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (std::collections::BTreeMap<u16, usize>, usize, String) {
    let workers = (0..clients).map(|_| {
        let (router, stop) = (router.clone(), stop.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let (mut statuses, mut failed, mut last) = (std::collections::BTreeMap::new(), 0, String::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match http.get(format!("{router}/")).header("host", host).send().await {
                    Ok(response) => {
                        *statuses.entry(response.status().as_u16()).or_insert(0) += 1;
                        last = response.text().await.unwrap_or_default();
                    }
                    Err(_) => failed += 1,
                }
            }
            (statuses, failed, last)
        })
    });
    let mut total = (std::collections::BTreeMap::new(), 0, String::new());
    for worker in futures::future::join_all(workers).await {
        let (statuses, failed, last) = worker.unwrap();
        for (status, n) in statuses {
            *total.0.entry(status).or_insert(0) += n;
        }
        total.1 += failed;
        total.2 = last;
    }
    total
}

/// Re-pushing a started app — new bits, a new memory limit — restaging
/// and restarting it (a v3 deployment) keep it serving: its old instances
/// answer until the new ones pass their health check, then drain. Not one
/// request fails, and each command returns with every new instance running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_pushing_and_restaging_under_load_fail_no_request() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let app = app_dir(&["examples/hello-http/hello_http.wasm"]);
    platform.push("steady", app.path(), &["-i", "2", "-m", "32M"]).await;
    let guid = platform.app_guid("steady").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = tokio::spawn(load(platform.router.clone(), "steady.localhost", 4, stop.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let all_running = |label: &'static str| {
        let (platform, guid) = (&platform, &guid);
        async move {
            let states = platform.states(guid).await;
            assert_eq!(states, ["RUNNING", "RUNNING"], "{label}: returned before every instance ran");
        }
    };
    std::fs::write(app.path().join("notes.txt"), "new bits").unwrap();
    let out = platform.push("steady", app.path(), &[]).await;
    assert!(out.contains("instances serve until new ones run"), "{out}");
    all_running("push of new bits").await;
    platform.push("steady", app.path(), &["-m", "48M"]).await;
    all_running("push of a new memory limit").await;
    let out = platform.wf(&["restage", "steady"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    all_running("restage").await;
    let out = platform.wf(&["restart", "steady"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    all_running("restart").await;
    let body = serde_json::json!({"relationships": {"app": {"data": {"guid": guid}}}}).to_string();
    let (status, deployment) = platform.api(reqwest::Method::POST, "/v3/deployments", Some(&body)).await;
    assert_eq!(status, 201, "{deployment}");
    assert_eq!(deployment["state"], "DEPLOYING", "{deployment}");
    let (p, path) = (&platform, format!("/v3/deployments/{}", deployment["guid"].as_str().unwrap()));
    let path = &path;
    eventually("the deployment is DEPLOYED", Duration::from_secs(20), || async move {
        let deployment = p.get(path).await;
        (deployment["state"] == "DEPLOYED" && deployment["status"]["reason"] == "DEPLOYED").then_some(())
    })
    .await;

    let version = platform.get(&format!("/v2/apps/{guid}")).await["entity"]["version"].clone();
    let (p, version) = (&platform, &version);
    eventually("only the newest version answers", Duration::from_secs(10), || async move {
        let (_, body) = p.via_router("steady.localhost", "/").await;
        let body: serde_json::Value = serde_json::from_str(&body).ok()?;
        (body["vcap_application"]["application_version"] == *version && body["memory_limit"] == "48m").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (statuses, failed, _) = load.await.unwrap();
    let answered: usize = statuses.values().sum();
    assert_eq!(failed, 0, "requests that failed outright (statuses {statuses:?})");
    assert_eq!(statuses.keys().collect::<Vec<_>>(), [&200], "every answer is a 200: {statuses:?}");
    assert!(answered > 100, "the load kept going: {statuses:?}");
    platform.shutdown().await;
}

/// A deployment needs a started, staged app, and says so in CF's terms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_needs_a_started_staged_app() {
    let platform = TestPlatform::start("local:").await;
    let space = platform.get("/v2/spaces?q=name:dev").await["resources"][0]["metadata"]["guid"].clone();
    let body = serde_json::json!({"name": "idle", "space_guid": space}).to_string();
    let (_, app) = platform.api(reqwest::Method::POST, "/v2/apps", Some(&body)).await;
    let deploy = |guid: serde_json::Value| {
        let platform = &platform;
        async move {
            let body = serde_json::json!({"relationships": {"app": {"data": {"guid": guid}}}}).to_string();
            platform.api(reqwest::Method::POST, "/v3/deployments", Some(&body)).await
        }
    };
    // v3 answers errors in its own shape: {"errors": [{code, title, detail}]}.
    let (status, error) = deploy(app["metadata"]["guid"].clone()).await;
    assert_eq!((status, error["errors"][0]["title"].as_str()), (422, Some("CF-UnprocessableEntity")), "{error}");
    assert!(error["errors"][0]["detail"].as_str().unwrap().contains("STOPPED"), "{error}");
    let (status, error) = deploy(serde_json::Value::Null).await;
    assert_eq!(status, 422, "no app: {error}");
    let (status, error) = deploy(serde_json::json!("no-such-app")).await;
    assert_eq!((status, error["errors"][0]["title"].as_str()), (404, Some("CF-ResourceNotFound")), "{error}");
    assert_eq!(error["errors"][0]["detail"], "App not found");
    let (status, error) = platform.api(reqwest::Method::GET, "/v3/deployments/nope", None).await;
    assert_eq!((status, error["errors"][0]["title"].as_str()), (404, Some("CF-ResourceNotFound")), "{error}");
    platform.shutdown().await;
}
