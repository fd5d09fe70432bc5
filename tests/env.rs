//! The instance contract: every variable CF's DEA gives an app, with CF's
//! names and shapes (user env and `.profile.d/*.env` applied last), the
//! env written to `logs/env.log`, the app's output in `logs/stdout.log`,
//! `logs/stderr.log`, the recent logs and the live stream — and the files
//! API confined to the instance directory.

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir};
use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;

const PROBE: &str = "tests/fixtures/crasher-app/crasher.wasm";

async fn file(platform: &TestPlatform, guid: &str, path: &str) -> (u16, String) {
    let response = platform
        .http
        .get(format!(
            "{}/v2/apps/{guid}/instances/0/files{}{path}",
            platform.api,
            if path.is_empty() { "" } else { "/" }
        ))
        .bearer_auth(platform.token().await)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A GET written on the socket as is: (status, body).
async fn raw_get(platform: &TestPlatform, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = platform.api.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    let token = platform.token().await;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: bearer {token}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_gets_cf_env_logs_and_files() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let app = app_dir(&[PROBE]);
    std::fs::create_dir_all(app.path().join(".profile.d")).unwrap();
    std::fs::write(app.path().join(".profile.d/extra.env"), "FROM_PROFILE=yes\nexport USER_VAR=\"from-profile\"\n")
        .unwrap();
    platform.push("probe", app.path(), &["-m", "32M"]).await;
    let guid = platform.app_guid("probe").await;
    let (status, _) = platform
        .api(
            Method::PUT,
            &format!("/v2/apps/{guid}"),
            Some(r#"{"environment_json": {"USER_VAR": "mine", "OTHER": "1"}}"#),
        )
        .await;
    assert_eq!(status, 201);
    let (p, g) = (&platform, &guid);
    common::eventually("restarted with the new env", Duration::from_secs(20), || async move {
        (p.instances(g).await["0"]["state"] == "RUNNING").then_some(())
    })
    .await;

    // The cf CLI's view: doppler's websocket stream of dropsonde envelopes.
    let doppler = format!("{}/apps/{guid}/stream", platform.api.replacen("http", "ws", 1));
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(doppler.as_str()).unwrap();
    request.headers_mut().insert("authorization", format!("bearer {}", platform.token().await).parse().unwrap());
    let (mut websocket, _) =
        tokio_tungstenite::connect_async(request).await.expect("the doppler stream accepts the token");

    // Follow the live stream while the app writes.
    let stream = platform
        .http
        .get(format!("{}/v2/apps/{guid}/logs/stream", platform.api))
        .bearer_auth(platform.token().await)
        .send()
        .await
        .unwrap();
    let (status, body) = platform.via_router("probe.localhost", "/env").await;
    assert_eq!(status, 200, "{body}");
    let env: Value = serde_json::from_str(&body).expect("the env as JSON");
    let var = |k: &str| env[k].as_str().unwrap_or_else(|| panic!("{k} is set: {env}")).to_string();
    assert_eq!(var("MEMORY_LIMIT"), "32m");
    assert_eq!(var("HOME"), "/home/vcap/app");
    assert_eq!(var("TMPDIR"), "/home/vcap/tmp");
    assert_eq!(var("VCAP_APP_HOST"), "0.0.0.0");
    assert_eq!(var("PORT"), var("VCAP_APP_PORT"));
    assert_eq!(var("VCAP_SERVICES"), "{}");
    assert_eq!(var("OTHER"), "1");
    assert_eq!(var("USER_VAR"), "from-profile", ".profile.d comes last");
    assert_eq!(var("FROM_PROFILE"), "yes");
    let vcap: Value = serde_json::from_str(&var("VCAP_APPLICATION")).unwrap();
    for key in [
        "instance_id",
        "instance_index",
        "host",
        "port",
        "started_at",
        "started_at_timestamp",
        "start",
        "state_timestamp",
        "limits",
        "application_name",
        "application_uris",
        "application_version",
        "name",
        "uris",
        "version",
        "users",
        "space_id",
        "space_name",
        "application_id",
    ] {
        assert!(vcap.get(key).is_some(), "VCAP_APPLICATION has {key}: {vcap}");
    }
    assert_eq!(vcap["port"].to_string(), var("PORT"));
    assert_eq!(vcap["limits"]["mem"], 32);
    assert_eq!(vcap["application_uris"][0], "probe.localhost");

    let mut lines = stream.bytes_stream();
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(chunk)) = lines.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("probe: env asked") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "the line reached the live stream: {seen}");
    let envelope = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(message)) = websocket.next().await {
            let bytes = message.into_data();
            if bytes.windows(16).any(|w| w == b"probe: env asked") {
                return Some(bytes);
            }
        }
        None
    })
    .await
    .unwrap()
    .expect("the line reached the doppler stream");
    assert_eq!(envelope[0], 0x0a, "an Envelope starts with its origin");
    assert!(envelope.windows(2).any(|w| w == [0x10, 0x05]), "of eventType LogMessage");
    assert!(envelope.windows(guid.len()).any(|w| w == guid.as_bytes()), "naming the app");
    let recent = platform
        .http
        .get(format!("{}/apps/{guid}/recentlogs", platform.api))
        .bearer_auth(platform.token().await)
        .send()
        .await
        .unwrap();
    assert!(recent.headers()["content-type"].to_str().unwrap().starts_with("multipart/x-protobuf; boundary="));
    let recent = recent.bytes().await.unwrap();
    assert!(recent.windows(16).any(|w| w == b"probe: env asked"), "cf logs --recent gets it too");
    let recent = platform.get(&format!("/v2/apps/{guid}/logs")).await;
    let recent: Vec<&Value> = recent.as_array().unwrap().iter().collect();
    assert!(
        recent
            .iter()
            .any(|l| l["source_type"] == "APP" && l["message_type"] == "OUT" && l["message"] == "probe: env asked")
    );
    assert!(recent.iter().any(|l| l["message_type"] == "ERR" && l["message"] == "probe: to stderr"));

    let (status, log) = file(&platform, &guid, "logs/env.log").await;
    assert_eq!(status, 200);
    assert!(log.contains("export MEMORY_LIMIT=\"32m\"") && log.contains("export USER_VAR=\"from-profile\""), "{log}");
    assert!(file(&platform, &guid, "logs/stdout.log").await.1.contains("probe: env asked"));
    assert!(file(&platform, &guid, "logs/stderr.log").await.1.contains("probe: to stderr"));
    let (status, listing) = file(&platform, &guid, "").await;
    assert_eq!(status, 200);
    assert!(listing.contains("app/") && listing.contains("logs/"), "{listing}");
    assert!(file(&platform, &guid, "app/.profile.d/extra.env").await.1.contains("FROM_PROFILE"));
    // Sent raw: HTTP clients resolve dot segments away before sending.
    for outside in ["../../../etc/passwd", "..", "app/../../x", "%2Fetc%2Fpasswd"] {
        let (status, body) = raw_get(&platform, &format!("/v2/apps/{guid}/instances/0/files/{outside}")).await;
        assert_eq!(status, 400, "{outside}: {body}");
        assert!(body.contains("CF-FileError"), "{body}");
    }
    platform.shutdown().await;
}
