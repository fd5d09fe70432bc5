//! `wf deploy`: one manifest runs the platform as many processes — the API
//! (CC and router), two DEAs and two health managers — on nats-server,
//! PostgreSQL and S3, and starts again any process that dies (kill -9).

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::cluster::Cluster;
use common::{app_dir, eventually};

fn alive(pid: &str) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_runs_every_job_and_restarts_one_that_dies() {
    let Some(mut cluster) = Cluster::new(&[]).await else { return };
    let dir = cluster.platform.dir.path();
    let mut shared = String::new();
    for line in cluster.shared_config().lines() {
        shared.push_str(&format!("  {line}\n"));
    }
    let manifest = format!(
        "name: test\nproperties:\n{shared}jobs:\n\
         - name: api\n  roles: [cc, router]\n  properties:\n    data_dir: {}\n\
         - name: dea\n  roles: [dea]\n  instances: 2\n\
         - name: hm\n  roles: [hm]\n  instances: 2\n",
        dir.join("data").display()
    );
    std::fs::write(dir.join("deployment.yml"), manifest).unwrap();
    let deployment = dir.join("deployment");
    let mut deploy = cluster
        .wf_command()
        .args(["deploy", "-f", dir.join("deployment.yml").to_str().unwrap(), "--dir", deployment.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("wf deploy starts");
    cluster.wait_for_cc("api").await;
    cluster.wait_for_deas(2).await;
    let platform = &cluster.platform;
    platform.login().await;
    platform.push("hello", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-i", "2", "-m", "32M"]).await;
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);

    // kill -9 one DEA: the deployment starts it again, and it serves again.
    let pid_file = deployment.join("dea/0/job.pid");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(alive(&pid));
    let killed = std::process::Command::new("kill").args(["-9", &pid]).status().unwrap();
    assert!(killed.success());
    let (old, pid_file) = (&pid, &pid_file);
    let restarted = eventually("the DEA started again", Duration::from_secs(15), || async move {
        let pid = std::fs::read_to_string(pid_file).ok()?;
        (pid != *old && alive(&pid)).then_some(pid)
    })
    .await;
    let guid = platform.app_guid("hello").await;
    platform.wait_for_states(&guid, &["RUNNING", "RUNNING"], Duration::from_secs(20)).await;
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);

    // Stopping the deployment stops every process.
    let pids: Vec<String> = ["api/0", "dea/0", "dea/1", "hm/0", "hm/1"]
        .iter()
        .map(|job| std::fs::read_to_string(deployment.join(job).join("job.pid")).unwrap())
        .collect();
    assert!(pids.contains(&restarted) && pids.iter().all(|p| alive(p)), "{pids:?}");
    let term = std::process::Command::new("kill").args(["-TERM", &deploy.id().unwrap().to_string()]).status().unwrap();
    assert!(term.success());
    let status = tokio::time::timeout(Duration::from_secs(15), deploy.wait()).await.expect("wf deploy stops").unwrap();
    assert!(status.success(), "{status}");
    let pids = &pids;
    eventually(
        "every job stopped",
        Duration::from_secs(10),
        || async move { pids.iter().all(|p| !alive(p)).then_some(()) },
    )
    .await;
    cluster.shutdown().await;
}
