//! `[RTR]` lines: each request the router sends to an app is a line of the
//! app's log stream, in gorouter's access-log format, which `cf logs`
//! (through Log Cache) and `wf logs` read.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use common::{TestPlatform, app_dir, eventually};
use serde_json::Value;

const HELLO: &str = "examples/hello-http/hello_http.wasm";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_through_the_router_are_rtr_lines_of_the_app_s_log() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("web", app_dir(&[HELLO]).path(), &["-i", "2", "-m", "32M"]).await;
    let guid = platform.app_guid("web").await;
    for _ in 0..6 {
        let response = platform
            .http
            .get(format!("{}/hello?x=1", platform.router))
            .header("host", "web.localhost")
            .header("user-agent", "rtr-test")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    // A request for no app is in the router's access log, in no app's log.
    assert_eq!(platform.via_router("nothing.localhost", "/").await.0, 404);

    let (p, g) = (&platform, &guid);
    let lines: Vec<Value> = eventually("six RTR lines", Duration::from_secs(10), || async move {
        let recent = p.get(&format!("/v2/apps/{g}/logs")).await;
        let rtr: Vec<Value> =
            recent.as_array().unwrap().iter().filter(|l| l["source_type"] == "RTR").cloned().collect();
        (rtr.len() >= 6).then_some(rtr)
    })
    .await;
    assert_eq!(lines.len(), 6, "one per request: {lines:?}");
    for line in &lines {
        let text = line["message"].as_str().unwrap();
        for part in [
            "web.localhost - [",
            "\"GET /hello?x=1 HTTP/1.1\" 200",
            "\"rtr-test\"",
            "vcap_request_id:\"",
            "response_time:",
            &format!("app_id:\"{guid}\""),
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert_eq!(line["message_type"], "OUT");
    }
    let instances: BTreeSet<&str> = lines.iter().map(|l| l["source_instance"].as_str().unwrap()).collect();
    assert_eq!(instances, BTreeSet::from(["0", "1"]), "each line names the instance that answered");

    // Log Cache, as `cf logs --recent` reads it: RTR envelopes.
    let read = platform.get(&format!("/api/v1/read/{guid}?envelope_types=LOG&limit=1000")).await;
    let rtr: Vec<String> = read["envelopes"]["batch"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tags"]["source_type"] == "RTR")
        .map(|e| {
            let payload = base64::engine::general_purpose::STANDARD.decode(e["log"]["payload"].as_str().unwrap());
            String::from_utf8(payload.unwrap()).unwrap()
        })
        .collect();
    assert_eq!(rtr.len(), 6, "{read}");
    assert!(rtr.iter().all(|line| line.contains("\"GET /hello?x=1 HTTP/1.1\" 200")), "{rtr:?}");
    // The access log's thread writes what came every 100 ms.
    let access_log = platform.dir.path().join("data/router/access.log");
    eventually("the access log line for no app", Duration::from_secs(5), || async {
        std::fs::read_to_string(&access_log).unwrap_or_default().contains("nothing.localhost - [").then_some(())
    })
    .await;
    platform.shutdown().await;
}
