//! A DEA keeps its caches — droplets and compiled code — within
//! `dea_cache_mb`: past it, what no instance uses goes (least recently
//! used first), what its instances run stays, and an app whose files went
//! starts again by downloading and compiling them anew.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::{TestPlatform, app_dir, eventually};

/// The names of the files directly in `dir` ending with `suffix`.
fn cached(dir: &Path, suffix: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(suffix))
                .collect()
        })
        .unwrap_or_default()
}

/// Every file under `dir`, at any depth.
fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum::<usize>()
        })
        .unwrap_or(0)
}

/// (droplets, compiled components) in the DEA's caches.
fn caches(dea: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    (cached(&dea.join("droplets"), ".tgz"), cached(&dea.join("compiled"), ".cwasm"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_budget_the_dea_keeps_only_what_its_instances_run() {
    // No room at all: only what instances use may stay.
    let mut platform = TestPlatform::start_configured("local:", None, |config| config.dea_cache_mb = 0).await;
    platform.login().await;
    platform.push("kept", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "32M"]).await;
    platform.push("parked", app_dir(&["tests/fixtures/http-p3.wasm"]).path(), &["-m", "32M"]).await;
    let dea = platform.dir.path().join("data/dea");

    // Staging compiled the wasm buildpack: its code goes, with Cranelift's
    // function cache; the two apps' droplets and code stay.
    let (droplets, compiled) = eventually("the caches trimmed to the two apps", Duration::from_secs(20), || {
        let dea = dea.clone();
        async move {
            let (droplets, compiled) = caches(&dea);
            (droplets.len() == 2 && compiled.len() == 2 && files_under(&dea.join("compiled/functions")) == 0)
                .then_some((droplets, compiled))
        }
    })
    .await;
    assert_eq!(platform.via_router("kept.localhost", "/").await.0, 200);

    // Stopped, an app's droplet and code are no instance's: they go.
    let out = platform.wf(&["stop", "parked"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (kept_droplet, kept_code) = eventually("the stopped app's files removed", Duration::from_secs(20), || {
        let dea = dea.clone();
        async move {
            let (droplets, compiled) = caches(&dea);
            (droplets.len() == 1 && compiled.len() == 1).then_some((droplets, compiled))
        }
    })
    .await;
    assert!(kept_droplet.is_subset(&droplets) && kept_code.is_subset(&compiled));
    let (status, body) = platform.via_router("kept.localhost", "/").await;
    assert_eq!(status, 200, "the running app is untouched: {body}");

    // Started again, it downloads its droplet and compiles its code anew.
    let out = platform.wf(&["start", "parked"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, body) = platform.via_router("parked.localhost", "/").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("wasi 0.3 handler: /"), "{body}");
    assert_eq!(caches(&dea), (droplets.clone(), compiled.clone()), "both apps' files are back");

    // A restarted DEA re-adopts both: neither's files go while the other
    // is still starting.
    platform.restart_dea().await;
    for host in ["kept.localhost", "parked.localhost"] {
        let p = &platform;
        eventually(&format!("{host} answering again"), Duration::from_secs(20), || async move {
            (p.via_router(host, "/").await.0 == 200).then_some(())
        })
        .await;
    }
    // The trim after the last start has had its moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(caches(&dea), (droplets, compiled), "what runs stays cached");
    platform.shutdown().await;
}
