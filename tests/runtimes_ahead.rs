//! A DEA compiles the runtimes the built-in buildpacks put in droplets —
//! CPython, QuickJS, the static file server — when it starts
//! (`dea_compile_runtimes_ahead`, on by default): the first Python and
//! JavaScript pushes after that compile nothing, and say so by not saying
//! "Compiling" (a DEA without it does: tests/python.rs, javascript.rs).

mod common;

use common::{TestPlatform, repo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_pushes_after_a_dea_starts_find_their_runtimes_compiled() {
    let mut platform =
        TestPlatform::start_configured("local:", None, |config| config.dea_compile_runtimes_ahead = true).await;
    platform.runtimes_compiled().await;
    platform.login().await;
    for (name, runtime) in [("hello-python", ".wf/python.wasm"), ("hello-js", ".wf/js.wasm")] {
        let staging = platform.push(name, &repo().join("examples").join(name), &["-m", "64M"]).await;
        assert!(staging.contains(&format!("Loading the app into {runtime}")), "{staging}");
        assert!(!staging.contains(&format!("Compiling {runtime}")), "compiled when the DEA started:\n{staging}");
        let (status, body) = platform.via_router(&format!("{name}.localhost"), "/").await;
        assert_eq!(status, 200, "{body}");
    }
    platform.shutdown().await;
}
