//! Tasks (`cf run-task`, `cf tasks`, `cf terminate-task`) through the v3
//! API as the cf CLI v7 sends them, with a real wasi:cli guest in the
//! app's droplet: a task that succeeds (its output in the app's log as
//! `APP/TASK/<name>`), one that fails with its exit status, one cancelled
//! while it runs; the app's numbering, filters, the quota's per-app task
//! limit, clean refusals (no droplet, no DEA with room, blank command),
//! and a task whose DEA restarted under it ending FAILED, not RUNNING for
//! ever.

mod common;

use std::time::Duration;

use common::v3::Cf;
use common::{TestPlatform, app_dir, eventually};
use reqwest::Method;
use serde_json::{Value, json};

/// Polls the task until it has ended; returns it.
async fn ended(cf: &Cf<'_>, guid: &str) -> Value {
    eventually("the task ended", Duration::from_secs(60), || async {
        let task = cf.expect(Method::GET, &format!("/v3/tasks/{guid}"), None, 200).await;
        ["SUCCEEDED", "FAILED"].contains(&task["state"].as_str()?).then_some(task)
    })
    .await
}

async fn run_task(cf: &Cf<'_>, app: &str, body: Value) -> Value {
    cf.expect(Method::POST, &format!("/v3/apps/{app}/tasks"), Some(body), 202).await
}

on_both_databases!(tasks_run_to_their_end_and_can_be_cancelled, super::tasks_run_to_their_end_and_can_be_cancelled);

async fn tasks_run_to_their_end_and_can_be_cancelled(mut platform: TestPlatform) {
    platform.login().await;
    // A web process, and a program as a WASI 0.2 component and as a
    // preview 1 module (whose exit status is a number; 0.2's is ok or not).
    let dir = app_dir(&[
        "examples/hello-http/hello_http.wasm",
        "tests/fixtures/cli-tool.component.wasm",
        "tests/fixtures/cli-tool.wasip1.wasm",
    ]);
    std::fs::write(dir.path().join("Procfile"), "web: hello_http.wasm\n").unwrap();
    platform.push("tasker", dir.path(), &["-m", "64M"]).await;
    let app = platform.app_guid("tasker").await;
    let cf = Cf::admin(&platform).await;
    // The cf CLI builds its URLs from the links of /v3.
    let v3 = cf.expect(Method::GET, "/v3", None, 200).await;
    assert_eq!(v3["links"]["tasks"]["href"], format!("{}/v3/tasks", platform.api));

    // cf run-task tasker --command "cli-tool.component.wasm hello" --name greet -m 32M
    let body = json!({"command": "cli-tool.component.wasm hello $GREETING", "name": "greet", "memory_in_mb": 32});
    let task = run_task(&cf, &app, body).await;
    assert_eq!(task["sequence_id"], 1, "{task}");
    assert_eq!(task["name"], "greet");
    assert_eq!(task["memory_in_mb"], 32);
    assert!(["RUNNING", "SUCCEEDED"].contains(&task["state"].as_str().unwrap()), "a DEA took it: {task}");
    assert_eq!(task["relationships"]["app"]["data"]["guid"], app);
    let greet = task["guid"].as_str().unwrap().to_string();
    let done = ended(&cf, &greet).await;
    assert_eq!(done["state"], "SUCCEEDED", "{done}");
    assert_eq!(done["result"]["failure_reason"], Value::Null);
    let line = platform.wait_for_log(&app, "args: hello", Duration::from_secs(20)).await;
    assert_eq!(line, "args: hello", "its output in the app's log");
    let logs = platform.get(&format!("/v2/apps/{app}/logs")).await;
    let source = logs.as_array().unwrap().iter().find(|l| l["message"] == "args: hello").unwrap();
    assert_eq!(source["source_type"], "APP/TASK/greet", "{source}");

    // A task that exits with 3 fails with its status; the app counts on.
    let failing = run_task(&cf, &app, json!({"command": "cli-tool.wasip1.wasm --exit 3"})).await;
    assert_eq!(failing["sequence_id"], 2);
    assert_eq!(failing["memory_in_mb"], 1024, "CF's default task memory");
    let failed = ended(&cf, failing["guid"].as_str().unwrap()).await;
    assert_eq!(failed["state"], "FAILED");
    assert_eq!(failed["result"]["failure_reason"], "Exited with status 3");

    // cf terminate-task tasker 3 (v7: PUT /v3/tasks/:guid/cancel) of one that never ends.
    let spinning = run_task(&cf, &app, json!({"command": "cli-tool.component.wasm --spin", "memory_in_mb": 32})).await;
    assert_eq!(spinning["state"], "RUNNING", "{spinning}");
    let found = cf.expect(Method::GET, &format!("/v3/apps/{app}/tasks?sequence_ids=3"), None, 200).await;
    let spin = found["resources"][0]["guid"].as_str().unwrap().to_string();
    assert_eq!(spin, spinning["guid"].as_str().unwrap());
    let cancelling = cf.expect(Method::PUT, &format!("/v3/tasks/{spin}/cancel"), None, 202).await;
    assert!(["CANCELING", "FAILED"].contains(&cancelling["state"].as_str().unwrap()), "{cancelling}");
    let cancelled = ended(&cf, &spin).await;
    assert_eq!(cancelled["result"]["failure_reason"], "task was cancelled");
    let (status, title) = cf.error(Method::POST, &format!("/v3/tasks/{spin}/actions/cancel"), None).await;
    assert_eq!((status, title.as_str()), (422, "CF-UnprocessableEntity"), "an ended task cannot be cancelled");

    // wf run-task --wait follows a task to its end, and fails as it fails.
    let ok = platform
        .wf(&["run-task", "tasker", "-c", "cli-tool.component.wasm --exit 0", "--name", "quick", "-m", "32M", "--wait"])
        .await;
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success() && said.contains("task id:     4") && said.contains("SUCCEEDED"), "{said}");
    let bad = platform.wf(&["run-task", "tasker", "-c", "cli-tool.wasip1.wasm --exit 5", "-m", "32M", "--wait"]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Exited with status 5"), "{bad:?}");
    let listed = platform.wf(&["tasks", "tasker"]).await;
    let table = String::from_utf8_lossy(&listed.stdout);
    let ids: Vec<&str> = table.lines().skip(3).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(ids, ["5", "4", "3", "2", "1"], "newest first:\n{table}");
    assert!(table.contains("quick") && table.contains("greet"), "{table}");

    // cf tasks: newest first, filters.
    let listed = cf.expect(Method::GET, &format!("/v3/apps/{app}/tasks?order_by=-created_at"), None, 200).await;
    assert_eq!(listed["pagination"]["total_results"], 5);
    assert_eq!(listed["resources"][0]["sequence_id"], 5);
    // A command is the task's own to show, as CF has it: lists hide it.
    assert_eq!(listed["resources"][0]["command"], "[PRIVATE DATA HIDDEN IN LISTS]");
    let one = listed["resources"][0]["guid"].as_str().unwrap();
    let shown = cf.expect(Method::GET, &format!("/v3/tasks/{one}"), None, 200).await;
    assert!(shown["command"].as_str().unwrap().contains("cli-tool"), "{shown}");
    let failed_ones = cf.expect(Method::GET, "/v3/tasks?states=FAILED", None, 200).await;
    assert_eq!(failed_ones["pagination"]["total_results"], 3);
    let named = cf.expect(Method::GET, &format!("/v3/tasks?names=greet&app_guids={app}"), None, 200).await;
    assert_eq!(named["resources"][0]["guid"], greet);

    // Clean refusals: a blank command, more memory than any DEA has
    // (the task is recorded FAILED), an app with no droplet.
    let (status, title) = cf.error(Method::POST, &format!("/v3/apps/{app}/tasks"), Some(json!({"command": " "}))).await;
    assert_eq!((status, title.as_str()), (422, "CF-UnprocessableEntity"));
    let huge = json!({"command": "cli-tool.component.wasm", "memory_in_mb": 4_000_000});
    let orgs = cf.expect(Method::GET, "/v3/organizations?names=default", None, 200).await;
    let org = orgs["resources"][0]["guid"].as_str().unwrap().to_string();
    let quota = json!({"name": "one-task", "apps": {"per_app_tasks": 1, "total_memory_in_mb": null}});
    let quota = cf.expect(Method::POST, "/v3/organization_quotas", Some(quota), 201).await;
    let quota = quota["guid"].as_str().unwrap().to_string();
    let orgs_of_quota = json!({"data": [{"guid": org}]});
    cf.expect(
        Method::POST,
        &format!("/v3/organization_quotas/{quota}/relationships/organizations"),
        Some(orgs_of_quota),
        200,
    )
    .await;
    let (status, title) = cf.error(Method::POST, &format!("/v3/apps/{app}/tasks"), Some(huge)).await;
    assert_eq!((status, title.as_str()), (503, "CF-TaskWorkersUnavailable"));
    let refused = cf.expect(Method::GET, &format!("/v3/apps/{app}/tasks?sequence_ids=6"), None, 200).await;
    assert_eq!(refused["resources"][0]["state"], "FAILED", "{refused}");
    let space = cf.expect(Method::GET, "/v3/spaces?names=dev", None, 200).await["resources"][0]["guid"].clone();
    let bare = json!({"name": "bare", "relationships": {"space": {"data": {"guid": space}}}});
    let bare = cf.expect(Method::POST, "/v3/apps", Some(bare), 201).await;
    let no_droplet = json!({"command": "cli-tool.component.wasm"});
    let (status, title) =
        cf.error(Method::POST, &format!("/v3/apps/{}/tasks", bare["guid"].as_str().unwrap()), Some(no_droplet)).await;
    assert_eq!((status, title.as_str()), (422, "CF-UnprocessableEntity"));

    // The org quota allows one task at a time per app.
    let first = run_task(&cf, &app, json!({"command": "cli-tool.component.wasm --spin", "memory_in_mb": 32})).await;
    let (status, title) = cf
        .error(Method::POST, &format!("/v3/apps/{app}/tasks"), Some(json!({"command": "cli-tool.component.wasm"})))
        .await;
    assert_eq!((status, title.as_str()), (422, "CF-UnprocessableEntity"), "past per_app_tasks");

    // The DEA restarts under the running task: it is FAILED, not RUNNING for ever.
    let token = cf.token.clone();
    drop(cf);
    platform.restart_dea().await;
    let cf = Cf { platform: &platform, token };
    let lost = ended(&cf, first["guid"].as_str().unwrap()).await;
    assert_eq!(lost["state"], "FAILED");
    let reason = lost["result"]["failure_reason"].as_str().unwrap();
    assert!(reason.contains("DEA"), "{reason}");

    // Deleting the app cuts its running task off (the app's live log says so).
    let orphan = run_task(&cf, &app, json!({"command": "cli-tool.component.wasm --spin", "memory_in_mb": 32})).await;
    assert_eq!(orphan["state"], "RUNNING", "{orphan}");
    let stream = platform.http.get(format!("{}/v2/apps/{app}/logs/stream", platform.api)).bearer_auth(&cf.token);
    let mut lines = stream.send().await.unwrap().bytes_stream();
    let (_, location, _) = cf.send(Method::DELETE, &format!("/v3/apps/{app}"), None).await;
    cf.job_completes(&location.unwrap()).await;
    let mut seen = String::new();
    let cut_off = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(chunk)) = futures::StreamExt::next(&mut lines).await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("task was cancelled") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(cut_off, Ok(true), "{seen}");
    platform.shutdown().await;
}
