//! Faults, for real: the platform as separate `wf server` processes on
//! nats-server, PostgreSQL and a shared blobstore (see
//! [`common::cluster`]), with processes killed by SIGKILL. Each test
//! prints the figures it measures. The tests run one at a time: their
//! deadlines are about the platform, not about sharing two cores.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::cluster::Cluster;
use common::{app_dir, eventually};
use futures::StreamExt;
use serde_json::Value;

const HELLO: &str = "examples/hello-http/hello_http.wasm";
const CRASHER: &str = "tests/fixtures/crasher-app/crasher.wasm";

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The DEA id a DEA process keeps in its snapshot.
fn dea_id(cluster: &Cluster, name: &str) -> String {
    let file = cluster.platform.dir.path().join(name).join("dea/snapshot.json");
    let snapshot: Value = serde_json::from_slice(&std::fs::read(file).expect("the DEA wrote its snapshot")).unwrap();
    snapshot["dea_id"].as_str().unwrap().to_string()
}

/// The live (starting or running) instance indices of `app` on each DEA,
/// from one heartbeat of every DEA heard within `listen`.
async fn live_indices(nats: &async_nats::Client, app: &str, listen: Duration) -> BTreeMap<String, Vec<u64>> {
    let mut heartbeats = nats.subscribe("dea.heartbeat").await.unwrap();
    let mut by_dea = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + listen;
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, heartbeats.next()).await {
        let heartbeat: Value = serde_json::from_slice(&message.payload).unwrap();
        let mut indices: Vec<u64> = heartbeat["droplets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["droplet"] == app && (d["state"] == "RUNNING" || d["state"] == "STARTING"))
            .map(|d| d["index"].as_u64().unwrap())
            .collect();
        indices.sort();
        by_dea.insert(heartbeat["dea"].as_str().unwrap().to_string(), indices);
    }
    by_dea
}

/// Requests to `host` through the router until `stop`, counting answers by status.
fn keep_requesting(
    router: String,
    host: &'static str,
) -> (tokio::task::JoinHandle<BTreeMap<u16, u32>>, tokio::sync::watch::Sender<bool>) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut statuses = BTreeMap::new();
        while !*stopped.borrow() {
            let status = match http.get(format!("{router}/")).header("host", host).send().await {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            };
            *statuses.entry(status).or_insert(0) += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        statuses
    });
    (task, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_dea_s_instances_serve_again_on_another_and_no_index_doubles_when_it_returns() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let processes = [("cc", "cc"), ("router", "router"), ("hm", "hm"), ("dea1", "dea"), ("dea2", "dea")];
    let Some(mut cluster) = Cluster::running(&[], &processes).await else { return };
    let platform = &cluster.platform;
    platform.push("hello", app_dir(&[HELLO]).path(), &["-i", "4", "-m", "32M"]).await;
    let guid = platform.app_guid("hello").await;
    platform.wait_for_states(&guid, &["RUNNING"; 4], Duration::from_secs(20)).await;
    let nats = async_nats::connect(cluster.nats_url()).await.unwrap();
    let placed = live_indices(&nats, &guid, Duration::from_millis(2500)).await;
    let dea1 = dea_id(&cluster, "dea1");
    assert_eq!(placed.values().map(Vec::len).collect::<Vec<_>>(), [2, 2], "spread over both DEAs: {placed:?}");

    let (requests, stop_requests) = keep_requesting(platform.router.clone(), "hello.localhost");
    cluster.kill("dea1").await;
    let killed = Instant::now();
    let platform = &cluster.platform;
    let g = &guid;
    eventually("all four indices serving again", Duration::from_secs(30), || async move {
        let mut indices = BTreeSet::new();
        for _ in 0..16 {
            let (status, body) = platform.via_router("hello.localhost", "/").await;
            let json: Value = serde_json::from_str(&body).ok().filter(|_| status == 200)?;
            indices.insert(json["instance_index"].as_u64()?);
        }
        (indices.len() == 4 && platform.states(g).await == ["RUNNING"; 4]).then_some(())
    })
    .await;
    let recovered = killed.elapsed();
    let _ = stop_requests.send(true);
    let statuses = requests.await.unwrap();
    println!(
        "figure: kill -9 of a DEA with 2 of 4 instances -> all 4 serving again in {:.2} s",
        recovered.as_secs_f64()
    );
    println!("figure: requests through the router meanwhile, by status: {statuses:?}");
    assert!(recovered < Duration::from_secs(10), "serving again within 10 s (took {recovered:?})");
    assert_eq!(statuses.keys().copied().collect::<Vec<_>>(), [200], "refused connections were retried: {statuses:?}");

    // The DEA comes back with its snapshot's instances: no index runs twice for long.
    cluster.spawn("dea1", "dea").await;
    let (nats, dea1) = (&nats, &dea1);
    eventually("each index once, over both DEAs", Duration::from_secs(30), || async move {
        let live = live_indices(nats, g, Duration::from_millis(2500)).await;
        let mut all: Vec<u64> = live.values().flatten().copied().collect();
        all.sort();
        (live.contains_key(dea1) && all == [0, 1, 2, 3]).then_some(())
    })
    .await;
    assert_eq!(cluster.platform.states(&guid).await, ["RUNNING"; 4]);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_nats_server_restart_routes_serve_and_pushes_work() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let processes = [("cc", "cc"), ("router", "router"), ("hm", "hm"), ("dea", "dea")];
    let Some(mut cluster) = Cluster::running(&[], &processes).await else { return };
    cluster.platform.push("before", app_dir(&[HELLO]).path(), &["-m", "32M"]).await;
    assert_eq!(cluster.platform.via_router("before.localhost", "/").await.0, 200);

    cluster.kill_nats().await;
    // The router keeps what it knows while the bus is away.
    assert_eq!(cluster.platform.via_router("before.localhost", "/").await.0, 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.start_nats().await;
    let restarted = Instant::now();
    let platform = &cluster.platform;
    let dir = app_dir(&[HELLO]);
    let dir = dir.path();
    eventually("a push that works", Duration::from_secs(30), || async move {
        let out = platform.wf(&["push", "after", "-p", dir.to_str().unwrap(), "-m", "32M"]).await;
        out.status.success().then_some(())
    })
    .await;
    let pushed = restarted.elapsed();
    assert_eq!(platform.via_router("after.localhost", "/").await.0, 200);
    assert_eq!(platform.via_router("before.localhost", "/").await.0, 200);
    println!(
        "figure: nats-server restart -> routes served throughout; a new push served in {:.2} s",
        pushed.as_secs_f64()
    );
    assert!(pushed < Duration::from_secs(5), "a push within 5 s of the restart, its own staging included ({pushed:?})");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cc_killed_during_staging_stages_again_when_it_returns() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let processes = [("cc", "cc"), ("router", "router"), ("hm", "hm"), ("dea", "dea")];
    let Some(mut cluster) = Cluster::running(&[], &processes).await else { return };
    let platform = &cluster.platform;
    let hostile = common::repo().join("tests/fixtures/hostile_buildpack.wasm");
    let out = platform.wf(&["create-buildpack", "slow", hostile.to_str().unwrap(), "9"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = app_dir(&[HELLO]);
    std::fs::write(
        app.path().join("manifest.yml"),
        "applications:\n- name: slow\n  memory: 32M\n  buildpack: slow\n  env:\n    BUILDPACK_DOES: sleep:3\n",
    )
    .unwrap();
    let push_args = ["push", "-p", app.path().to_str().unwrap()];
    let push = platform.wf(&push_args);
    let killer = async {
        eventually("staging under way", Duration::from_secs(30), || async move {
            let apps = platform.get("/v2/apps?q=name:slow").await;
            let entity = &apps["resources"][0]["entity"];
            (entity["package_state"] == "PENDING" && entity["state"] == "STARTED").then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    tokio::select! {
        _ = push => panic!("the push ended before the CC was killed"),
        _ = killer => {}
    }
    cluster.kill("cc").await;
    cluster.spawn("cc", "cc").await;
    let platform = &cluster.platform;
    let guid = platform.app_guid("slow").await;
    let g = &guid;
    let state = eventually("staging done", Duration::from_secs(30), || async move {
        let app = platform.get(&format!("/v2/apps/{g}")).await;
        let state = app["entity"]["package_state"].as_str()?.to_string();
        (state != "PENDING").then_some(state)
    })
    .await;
    assert_eq!(state, "STAGED", "{}", cluster.log("cc"));
    platform.wait_for_states(&guid, &["RUNNING"], Duration::from_secs(20)).await;
    assert_eq!(platform.via_router("slow.localhost", "/").await.0, 200);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_health_managers_one_acts_and_the_other_takes_over_when_it_dies() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let processes = [("cc", "cc"), ("router", "router"), ("dea", "dea"), ("hm1", "hm"), ("hm2", "hm")];
    let Some(mut cluster) = Cluster::running(&[("heartbeat_interval_ms", "1000")], &processes).await else { return };
    let platform = &cluster.platform;
    platform.push("crasher", app_dir(&[CRASHER]).path(), &["-m", "32M"]).await;
    let guid = platform.app_guid("crasher").await;
    let nats = async_nats::connect(cluster.nats_url()).await.unwrap();
    let mut asks = nats.subscribe("health.start").await.unwrap();

    // A crash: the instance is started again, by one HM only.
    assert_eq!(platform.via_router("crasher.localhost", "/trap").await.0, 500);
    platform.wait_for_states(&guid, &["RUNNING"], Duration::from_secs(15)).await;
    let ask: Value = serde_json::from_slice(&asks.next().await.unwrap().payload).unwrap();
    let active = ask["hm"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_secs(3)).await;
    while let Ok(Some(more)) = tokio::time::timeout(Duration::from_millis(100), asks.next()).await {
        let more: Value = serde_json::from_slice(&more.payload).unwrap();
        assert_eq!(more["hm"], active.as_str(), "only the lease holder acts");
    }
    let (active_name, standby_name) =
        if cluster.log("hm1").contains(&active) { ("hm1", "hm2") } else { ("hm2", "hm1") };
    assert!(cluster.log(active_name).contains(&active), "the active HM is one of ours");

    // The active HM dies: the other takes over and restarts the next crash.
    cluster.kill(active_name).await;
    let platform = &cluster.platform;
    assert_eq!(platform.via_router("crasher.localhost", "/trap").await.0, 500);
    let crashed = Instant::now();
    let ask: Value = serde_json::from_slice(
        &tokio::time::timeout(Duration::from_secs(15), asks.next())
            .await
            .expect("the standby HM acts")
            .unwrap()
            .payload,
    )
    .unwrap();
    let took_over = crashed.elapsed();
    assert_ne!(ask["hm"], active.as_str());
    assert!(cluster.log(standby_name).contains(ask["hm"].as_str().unwrap()));
    platform.wait_for_states(&guid, &["RUNNING"], Duration::from_secs(15)).await;
    println!(
        "figure: kill -9 of the active HM -> the standby restarts a crash {:.2} s after it",
        took_over.as_secs_f64()
    );
    assert!(took_over < Duration::from_secs(10), "{took_over:?}");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_not_registered_again_is_dropped_after_the_prune_threshold() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(mut cluster) = Cluster::new(&[("router_register_interval", "1"), ("router_prune_threshold", "3")]).await
    else {
        return;
    };
    cluster.spawn("router", "router").await;
    // A backend of the test's own, registered once by hand on the bus.
    let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = backend.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = backend.accept().await else { return };
            tokio::spawn(async move {
                // It answers with the headers the router added.
                let service = hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let header =
                        |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    let seen = serde_json::json!({
                        "forwarded_for": header("x-forwarded-for"),
                        "forwarded_proto": header("x-forwarded-proto"),
                        "request_id": header("x-vcap-request-id"),
                    });
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                        bytes::Bytes::from(seen.to_string()),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let nats = async_nats::connect(cluster.nats_url()).await.unwrap();
    let registration = serde_json::json!({"host": "127.0.0.1", "port": port, "uris": ["ghost.localhost"]});
    nats.publish("router.register", registration.to_string().into()).await.unwrap();
    nats.flush().await.unwrap();
    let platform = &cluster.platform;
    let seen = eventually("the route served", Duration::from_secs(5), || async move {
        let (status, body) = platform.via_router("ghost.localhost", "/").await;
        (status == 200).then(|| serde_json::from_str::<Value>(&body).unwrap())
    })
    .await;
    let registered = Instant::now();
    assert_eq!((seen["forwarded_for"].as_str(), seen["forwarded_proto"].as_str()), (Some("127.0.0.1"), Some("http")));
    assert_eq!(seen["request_id"].as_str().unwrap().len(), 36, "a request id: {seen}");
    eventually("the route dropped", Duration::from_secs(10), || async move {
        (platform.via_router("ghost.localhost", "/").await.0 == 404).then_some(())
    })
    .await;
    let dropped = registered.elapsed();
    assert!(dropped >= Duration::from_millis(2500), "not before the threshold ({dropped:?})");
    println!(
        "figure: a route not registered again dropped {:.2} s after its registration (threshold 3 s)",
        dropped.as_secs_f64()
    );
    let response =
        platform.http.get(format!("{}/", platform.router)).header("host", "ghost.localhost").send().await.unwrap();
    assert_eq!(response.headers()["x-cf-routererror"], "unknown_route");
    // A registered backend that is gone: 502, and the router says why.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let registration = serde_json::json!({"host": "127.0.0.1", "port": gone, "uris": ["gone.localhost"]});
    nats.publish("router.register", registration.to_string().into()).await.unwrap();
    nats.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response =
        platform.http.get(format!("{}/", platform.router)).header("host", "gone.localhost").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 502);
    assert_eq!(response.headers()["x-cf-routererror"], "endpoint_failure");
    let log = std::fs::read_to_string(cluster.platform.dir.path().join("router/router/access.log")).unwrap_or_default();
    assert!(log.contains("ghost.localhost - [") && log.contains("\"GET / HTTP/1.1\" 200"), "access log: {log}");
    cluster.shutdown().await;
}

/// A zip of one file of `size` random (incompressible) bytes.
fn big_zip(size: usize) -> Vec<u8> {
    use std::io::Write;
    let mut data = vec![0u8; size];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file("blob.bin", zip::write::SimpleFileOptions::default()).unwrap();
    writer.write_all(&data).unwrap();
    writer.start_file("hello_http.wasm", zip::write::SimpleFileOptions::default()).unwrap();
    writer.write_all(&std::fs::read(common::repo().join(HELLO)).unwrap()).unwrap();
    writer.finish().unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cc_killed_during_an_upload_loses_nothing_stored_and_fails_the_job() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let processes = [("cc", "cc"), ("router", "router"), ("hm", "hm"), ("dea", "dea")];
    let Some(mut cluster) = Cluster::running(&[], &processes).await else { return };
    let platform = &cluster.platform;
    platform.push("keep", app_dir(&[HELLO]).path(), &["-m", "32M"]).await;
    let keep = platform.app_guid("keep").await;
    let (status, kept_package) = download(platform, &keep).await;
    assert_eq!(status, 200);

    let (status, created) = platform
        .api(
            reqwest::Method::POST,
            "/v2/apps",
            Some(&format!(r#"{{"name":"big","space_guid":"{}"}}"#, space(platform).await)),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let big = created["metadata"]["guid"].as_str().unwrap().to_string();
    let (status, job) = platform.put_bits(&big, big_zip(64 << 20), true).await;
    assert_eq!(status, 201, "{job}");
    let job = job["metadata"]["guid"].as_str().unwrap().to_string();
    // The job runs (the package is being assembled): the CC dies now.
    cluster.kill("cc").await;
    cluster.spawn("cc", "cc").await;
    let platform = &cluster.platform;

    let polled = platform.get(&format!("/v2/jobs/{job}")).await;
    let status = polled["entity"]["status"].as_str().unwrap();
    println!("the upload job was {status} when the CC came back");
    if status == "failed" {
        assert_eq!(polled["entity"]["error_details"]["error_code"], "CF-ServerError", "{polled}");
        let app = platform.get(&format!("/v2/apps/{big}")).await;
        assert_eq!(app["entity"]["package_updated_at"], Value::Null, "no half package recorded: {app}");
    } else {
        // The CC finished storing before it died: then the package is whole.
        assert_eq!(status, "finished", "never queued forever: {polled}");
    }
    // What was stored before is all there, and the app still serves.
    let (status, package) = download(platform, &keep).await;
    assert_eq!((status, package), (200, kept_package));
    assert_eq!(platform.via_router("keep.localhost", "/").await.0, 200);
    // The upload works when tried again.
    let out = platform.wf(&["push", "big", "-p", app_dir(&[HELLO]).path().to_str().unwrap(), "-m", "32M"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(platform.via_router("big.localhost", "/").await.0, 200);
    cluster.shutdown().await;
}

/// `GET /v2/apps/:guid/download`: (status, the package's bytes).
async fn download(platform: &common::TestPlatform, guid: &str) -> (u16, bytes::Bytes) {
    let url = format!("{}/v2/apps/{guid}/download", platform.api);
    let response = platform.http.get(url).bearer_auth(platform.token().await).send().await.unwrap();
    (response.status().as_u16(), response.bytes().await.unwrap())
}

async fn space(platform: &common::TestPlatform) -> String {
    platform.get("/v2/spaces?q=name:dev").await["resources"][0]["metadata"]["guid"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_pass_through_the_router() {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(mut cluster) = Cluster::new(&[]).await else { return };
    cluster.spawn("router", "router").await;
    // An echoing websocket backend of the test's own, registered on the bus.
    let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = backend.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = backend.accept().await {
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else { return };
                while let Some(Ok(message)) = socket.next().await {
                    if message.is_text() && socket.send(message).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let nats = async_nats::connect(cluster.nats_url()).await.unwrap();
    let registration = serde_json::json!({"host": "127.0.0.1", "port": port, "uris": ["ws.localhost"]});
    nats.publish("router.register", registration.to_string().into()).await.unwrap();
    nats.flush().await.unwrap();

    let url = cluster.platform.router.replace("http://", "ws://") + "/echo";
    let connected = eventually("a websocket through the router", Duration::from_secs(5), || {
        let url = url.clone();
        async move {
            let mut request =
                tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).unwrap();
            request.headers_mut().insert("host", "ws.localhost".parse().unwrap());
            tokio_tungstenite::connect_async(request).await.ok()
        }
    })
    .await;
    let (mut socket, response) = connected;
    assert_eq!(response.status().as_u16(), 101);
    for text in ["hello", "through the router"] {
        socket.send(Message::text(text)).await.unwrap();
        let echoed = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), text);
    }
    cluster.shutdown().await;
}
