//! Guests of every WASI version the platform runs, pushed as apps and run
//! here: a preview 1 module and a WASI 0.3 command run as programs (stdout
//! in the app's log, their exit a crash with their own code, and — their
//! writes not checked one by one — past their disk quota stopped); a WASI 0.3
//! HTTP handler is served per request by `wf wasm serve` and by the DEA
//! through the router, its body written after it returned the response.

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir, repo};
use tokio::io::AsyncBufReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview1_modules_and_wasi_0_3_components_run_as_instances() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    for (name, fixture, said) in [
        ("p1", "tests/fixtures/cli-tool.wasip1.wasm", "args: --exit 7"),
        ("p3", "tests/fixtures/cli-p3.wasm", "wasi 0.3: args --exit 7 greeting"),
    ] {
        let file = std::path::Path::new(fixture).file_name().unwrap().to_str().unwrap();
        let command = format!("{file} --exit 7");
        let dir = app_dir(&[fixture]);
        // It exits at once, so the start may or may not be seen running first.
        let _ = platform
            .wf(&["push", name, "-p", dir.path().to_str().unwrap(), "-m", "32M", "-u", "process", "-c", &command])
            .await;
        let guid = platform.app_guid(name).await;
        platform.wait_for_log(&guid, said, Duration::from_secs(20)).await;
        platform.wait_for_log(&guid, "the app exited with status 7", Duration::from_secs(20)).await;
        platform.wait_for_states(&guid, &["CRASHED"], Duration::from_secs(20)).await;
    }

    // Preview 1 writes do not pass the checked WASI 0.2 calls: past its disk
    // quota, such a guest is stopped when the DEA measures it.
    let dir = app_dir(&["tests/fixtures/cli-tool.wasip1.wasm"]);
    let command = "cli-tool.wasip1.wasm --fill 12";
    let flags = ["-m", "32M", "-k", "8M", "-u", "process", "-c", command];
    let _ = platform.wf(&[&["push", "filler", "-p", dir.path().to_str().unwrap()], &flags[..]].concat()).await;
    let guid = platform.app_guid("filler").await;
    platform.wait_for_log(&guid, "disk quota of 8 MB exceeded", Duration::from_secs(20)).await;
    platform.wait_for_states(&guid, &["CRASHED"], Duration::from_secs(20)).await;
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasi_0_3_http_app_answers_through_the_router() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("p3web", app_dir(&["tests/fixtures/http-p3.wasm"]).path(), &["-i", "2", "-m", "32M"]).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let (status, body) = platform.via_router("p3web.localhost", "/items?x=1").await;
        assert_eq!(status, 200, "{body}");
        let (first, instance) = body.split_once('\n').unwrap_or_else(|| panic!("two lines: {body:?}"));
        assert_eq!(first, "wasi 0.3 handler: /items?x=1");
        seen.insert(instance.trim_end().to_string());
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["instance 0", "instance 1"], "both instances serve");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wf_wasm_serve_serves_http_components_of_both_versions_until_interrupted() {
    for fixture in ["tests/fixtures/http-p3.wasm", "examples/hello-http/hello_http.wasm"] {
        let mut serve = tokio::process::Command::new(env!("CARGO_BIN_EXE_wf"))
            .args(["wasm", "serve", "--addr", "127.0.0.1:0", "--env", "CF_INSTANCE_INDEX=5"])
            .arg(repo().join(fixture))
            .env("XDG_CACHE_HOME", std::env::temp_dir().join("wf-wasm-run-cache"))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = tokio::io::BufReader::new(serve.stderr.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), stderr.next_line()).await.unwrap().unwrap();
        let url = first.as_deref().and_then(|line| line.strip_prefix("Serving HTTP on ")).expect("the address");
        let response = reqwest::get(format!("{url}x")).await.unwrap();
        assert_eq!(response.status(), 200, "{fixture}");
        let body = response.text().await.unwrap();
        if fixture.contains("p3") {
            assert_eq!(body, "wasi 0.3 handler: /x\ninstance 5\n");
        } else {
            let hello: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!((hello["path"].as_str(), hello["instance_index"].as_u64()), (Some("/x"), Some(5)), "{body}");
        }
        interrupt(&mut serve).await;
    }
}

/// Interrupts `wf wasm serve` as ctrl-c would; it must exit cleanly.
#[cfg(unix)]
async fn interrupt(serve: &mut tokio::process::Child) {
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    unsafe { libc::kill(serve.id().unwrap() as i32, libc::SIGINT) };
    let status = tokio::time::timeout(Duration::from_secs(10), serve.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status}");
}
