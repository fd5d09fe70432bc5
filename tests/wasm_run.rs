//! `wf wasm run`: wasi:cli components (WASI 0.2 and 0.3) and a WASI
//! preview 1 module run as
//! the platform runs guests — arguments, environment, only the directories
//! given, standard streams passed through, exit status, memory and time
//! limits.

mod common;

use common::repo;

async fn wf_wasm_run(args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_wf"))
        .arg("wasm")
        .arg("run")
        .args(args)
        .env("XDG_CACHE_HOME", std::env::temp_dir().join("wf-wasm-run-cache"))
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_and_preview1_modules_run_like_guests() {
    for fixture in ["tests/fixtures/cli-tool.component.wasm", "tests/fixtures/cli-tool.wasip1.wasm"] {
        let program = repo().join(fixture);
        let program = program.to_str().unwrap();
        let data = tempfile::tempdir().unwrap();
        std::fs::write(data.path().join("input.txt"), "shout this").unwrap();
        let dir = format!("{}::/data", data.path().display());

        let (code, stdout, stderr) = wf_wasm_run(&["--dir", &dir, "--env", "GREETING=hi", program, "a", "--b"]).await;
        assert_eq!(code, 0, "{fixture}: {stderr}");
        assert!(stdout.contains("args: a --b"), "{fixture}: {stdout}");
        assert!(stderr.contains("greeting: hi"), "{fixture}: {stderr}");
        assert!(stdout.contains("outside: denied"), "{fixture}: only the given directories are visible: {stdout}");
        assert_eq!(std::fs::read_to_string(data.path().join("output.txt")).unwrap(), "SHOUT THIS");

        let (code, _, _) = wf_wasm_run(&[program, "--exit", "7"]).await;
        if fixture.ends_with("wasip1.wasm") {
            // Preview 1 runs on wasmtime-wasi's own preview 1: proc_exit's code, as under wasmtime.
            assert_eq!(code, 7, "{fixture}: the guest's exit code is wf's");
            // Its descriptors are held to the same cap as a component's handles.
            let (code, _, stderr) = wf_wasm_run(&["--dir", &dir, program, "--hoard"]).await;
            assert_eq!(code, 134, "{fixture}: {stderr}");
            assert!(stderr.contains("too many open handles"), "{fixture}: {stderr}");
        } else {
            // WASI 0.2 carries only success or failure (exit-with-code is unstable).
            assert_eq!(code, 1, "{fixture}: a failing guest fails wf");
        }
        let (code, _, stderr) = wf_wasm_run(&["--memory", "16M", program, "--grow"]).await;
        assert_eq!(code, 134, "{fixture}: {stderr}");
        assert!(stderr.contains("out of memory"), "{fixture}: {stderr}");
        let (code, _, stderr) = wf_wasm_run(&["--timeout", "1", program, "--spin"]).await;
        assert_eq!(code, 124, "{fixture}: {stderr}");
        assert!(stderr.contains("time limit"), "{fixture}: {stderr}");
    }
    // A WASI 0.3 command: async `run`, stdout through a stream, exit-with-code.
    let p3 = repo().join("tests/fixtures/cli-p3.wasm");
    let (code, stdout, stderr) = wf_wasm_run(&["--env", "GREETING=hi", p3.to_str().unwrap(), "a", "b"]).await;
    assert_eq!((code, stdout.as_str()), (0, "wasi 0.3: args a b greeting hi\n"), "{stderr}");
    let (code, _, stderr) = wf_wasm_run(&[p3.to_str().unwrap(), "--exit", "9"]).await;
    assert_eq!(code, 9, "{stderr}");

    let (code, _, stderr) = wf_wasm_run(&[repo().join("examples/hello-http/hello_http.wasm").to_str().unwrap()]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("wasi:cli command"), "an http component is not a command: {stderr}");
}
