//! python_buildpack end to end: a WSGI app pushed as its source (with its
//! pure-Python packages vendored) is detected, imported once at staging
//! into a snapshot of the CPython runtime, and served through the router
//! with the CF environment; what cannot load fails staging, what raises is
//! a 500 with the traceback in the app's log, and the app is held to the
//! same limits and security groups as any guest.

mod common;

use std::time::Duration;

use common::source_apps::{
    app, cf_cli_push, failed_push, held_like_any_guest, keeps_state_between_requests_until_cut_off,
    platform_with_short_requests, request,
};
use common::{TestPlatform, eventually, repo};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_python_runs_from_its_source_with_the_cf_environment() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let staging = platform.push("hello-python", &repo().join("examples/hello-python"), &["-m", "64M", "-i", "2"]).await;
    assert!(staging.contains("python_buildpack detected python"), "{staging}");
    assert!(staging.contains("Loading the app into .wf/python.wasm"), "{staging}");
    // The tests' DEAs do not compile runtimes when they start: the first staging does.
    assert!(staging.contains("Compiling .wf/python.wasm for this DEA"), "{staging}");

    let mut indexes = Vec::new();
    let mut loaded_at = Vec::new();
    for _ in 0..8 {
        let (status, body) = request(&platform, Method::GET, "hello-python.localhost", "/", None).await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["message"], "hello from wasmfoundry, in Python");
        assert_eq!(body["vcap_application"]["application_name"], "hello-python");
        assert_eq!(body["vcap_application"]["application_uris"], json!(["hello-python.localhost"]));
        assert_eq!(body["memory_limit"], "64m");
        assert_eq!(body["port"].as_str().unwrap().parse::<u16>().unwrap(), body["vcap_application"]["port"]);
        indexes.push(body["instance_index"].as_u64().unwrap());
        loaded_at.push(body["loaded_at"].as_str().unwrap().to_string());
    }
    indexes.sort();
    indexes.dedup();
    assert_eq!(indexes, [0, 1], "both instances answer, each with its own index");
    // Imported at staging into the snapshot; these first two instances,
    // started while it compiled, imported it once each, in the store that
    // serves them (the_first_instance_serves_while_its_snapshot_compiles).
    loaded_at.sort();
    loaded_at.dedup();
    assert!(loaded_at.len() <= 2, "the module was imported once per instance: {loaded_at:?}");

    let (status, body) =
        request(&platform, Method::POST, "hello-python.localhost", "/echo", Some(r#"{"n": 42, "s": "é"}"#)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["echo"], json!({"n": 42, "s": "é"}));
    let (status, body) = request(&platform, Method::POST, "hello-python.localhost", "/echo", Some("not json")).await;
    assert_eq!((status, body.as_str()), (400, r#"{"error": "send a JSON body"}"#));
    assert_eq!(request(&platform, Method::GET, "hello-python.localhost", "/nowhere", None).await.0, 404);

    // print() reaches the app's log.
    let guid = platform.app_guid("hello-python").await;
    platform.wait_for_log(&guid, "GET / on instance", Duration::from_secs(10)).await;
    let out = platform.wf(&["logs", "hello-python", "--recent"]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("GET / on instance"), "{out:?}");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendored_packages_the_standard_library_and_the_apps_files_are_there() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    // Packages as `pip install --target vendor` lays them out, one in a
    // site-packages layout; modules of the standard library the runtime
    // was not built with (csv, decimal) imported at load and per request;
    // a file of the app read per request; the Procfile names the callable.
    let service = app(&[
        ("requirements.txt", "greeting==1.0\nshout\n"),
        ("vendor/greeting/__init__.py", "def greet(name):\n    return f'hello, {name}'\n"),
        ("vendor/greeting-1.0.dist-info/METADATA", "Name: greeting\nVersion: 1.0\n"),
        ("vendor/lib/python3.14/site-packages/shout.py", "def shout(s):\n    return s.upper() + '!'\n"),
        ("templates/page.txt", "page for {who}\n"),
        ("Procfile", "web: gunicorn --bind 0.0.0.0:$PORT service:application\n"),
        (
            "service.py",
            "import decimal\nfrom urllib.parse import parse_qs\nfrom greeting import greet\nfrom shout import shout\n\
             def application(environ, start_response):\n\
             \x20   query = parse_qs(environ['QUERY_STRING'])\n\
             \x20   if environ['PATH_INFO'] == '/page':\n\
             \x20       with open('templates/page.txt') as f:\n\
             \x20           text = f.read().format(who=query['who'][0])\n\
             \x20   else:\n\
             \x20       import csv, io\n\
             \x20       row = next(csv.reader(io.StringIO('a,\"b,c\"')))\n\
             \x20       text = f\"{shout(greet(query['name'][0]))} {decimal.Decimal('0.1') + decimal.Decimal('0.2')} {row}\"\n\
             \x20   start_response('200 OK', [('Content-Type', 'text/plain'), ('X-Made-By', 'service')])\n\
             \x20   return [text.encode()]\n",
        ),
    ]);
    let staging = platform.push("service", service.path(), &["-m", "64M"]).await;
    assert!(staging.contains("Python WSGI app: service:application"), "{staging}");
    assert!(staging.contains("1 packages vendored"), "{staging}");
    let response = platform
        .http
        .get(format!("{}/?name=wasm", platform.router))
        .header("host", "service.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-made-by"], "service");
    assert_eq!(response.text().await.unwrap(), "HELLO, WASM! 0.3 ['a', 'b,c']");
    let (status, body) = request(&platform, Method::GET, "service.localhost", "/page?who=you", None).await;
    assert_eq!((status, body.as_str()), (200, "page for you\n"));

    // Django's wsgi.py: no Procfile, the callable found by its name.
    let django = app(&[(
        "wsgi.py",
        "def application(environ, start_response):\n\
         \x20   start_response('200 OK', [])\n\
         \x20   return [environ['REQUEST_METHOD'].encode(), b' ', environ['wsgi.input'].read()]\n",
    )]);
    platform.push("django", django.path(), &["-m", "64M"]).await;
    let (status, body) = request(&platform, Method::PUT, "django.localhost", "/", Some("{\"x\": 1}")).await;
    assert_eq!((status, body.as_str()), (200, "PUT {\"x\": 1}"));

    // A package whose compiled speedups are optional (as markupsafe's,
    // PyYAML's, simplejson's) runs on its pure-Python code; the staging
    // log says what was left out.
    let speedups = app(&[
        (
            "app.py",
            "from markup import escape\n\ndef app(environ, start_response):\n\
             \x20   start_response('200 OK', [('Content-Type', 'text/plain')])\n\
             \x20   return [escape('<b>').encode()]\n",
        ),
        (
            "vendor/markup/__init__.py",
            "try:\n    from ._speedups import escape\nexcept ImportError:\n    from ._native import escape\n",
        ),
        ("vendor/markup/_native.py", "def escape(s):\n    return s.replace('<', '&lt;').replace('>', '&gt;')\n"),
        ("vendor/markup/_speedups.cpython-311-x86_64-linux-gnu.so", "\x7fELF"),
        ("vendor/markup/_speedups.pyi", "def escape(s: str) -> str: ...\n"),
        ("vendor/markup-3.0.2.dist-info/METADATA", "Name: markup\nVersion: 3.0.2\n"),
    ]);
    let staging = platform.push("speedups", speedups.path(), &["-m", "64M"]).await;
    assert!(staging.contains("Left out compiled extension modules"), "{staging}");
    assert!(staging.contains("vendor/markup/_speedups.cpython-311-x86_64-linux-gnu.so (package markup)"), "{staging}");
    assert!(staging.contains("1 packages vendored"), "{staging}");
    let (status, body) = request(&platform, Method::GET, "speedups.localhost", "/", None).await;
    assert_eq!((status, body.as_str()), (200, "&lt;b&gt;"));
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_load_fails_staging_and_what_raises_is_a_500_in_the_log() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    let broken = app(&[("app.py", "def app(environ, start_response):\n    return [b'x'\n\nx = 1\n")]);
    let printed = failed_push(&platform, "broken", broken.path()).await;
    assert!(printed.contains("the app failed to load") && printed.contains("SyntaxError"), "{printed}");
    assert!(printed.contains("/home/vcap/app/app.py\", line 2"), "the error points into the file: {printed}");

    let missing = app(&[("main.py", "import flask\napp = flask.Flask(__name__)\n")]);
    let printed = failed_push(&platform, "missing", missing.path()).await;
    assert!(printed.contains("ModuleNotFoundError: No module named 'flask'"), "{printed}");
    let not_vendored = app(&[("app.py", "def app(e, s):\n    pass\n"), ("requirements.txt", "# web\nflask==3.0\n")]);
    let printed = failed_push(&platform, "not-vendored", not_vendored.path()).await;
    assert!(printed.contains("pip install --target vendor -r requirements.txt"), "{printed}");
    // A compiled extension module is left out; a package that cannot do
    // without it fails staging, naming it.
    let compiled = app(&[
        ("app.py", "import fastjson\n\ndef app(e, s):\n    pass\n"),
        ("vendor/fastjson/__init__.py", "from ._speedups import dumps\n"),
        ("vendor/fastjson/_speedups.cpython-314-x86_64-linux-gnu.so", "\x7fELF"),
    ]);
    let printed = failed_push(&platform, "compiled", compiled.path()).await;
    assert!(printed.contains("Left out compiled extension modules"), "{printed}");
    assert!(
        printed.contains(
            "ImportError: vendor/fastjson/_speedups.cpython-314-x86_64-linux-gnu.so is a compiled extension module"
        ),
        "{printed}"
    );
    assert!(printed.contains("package fastjson needs a pure-Python version"), "{printed}");
    let no_callable = app(&[("app.py", "print('nothing to serve')\n")]);
    let printed = failed_push(&platform, "no-callable", no_callable.path()).await;
    assert!(printed.contains("app has no WSGI callable 'app'"), "{printed}");
    assert!(printed.contains("nothing to serve"), "what the app printed is in the staging log: {printed}");

    let raises = app(&[(
        "app.py",
        "def fail(what):\n    raise ValueError(f'boom: {what}')\n\n\
         def app(environ, start_response):\n\
         \x20   if environ['PATH_INFO'] == '/boom':\n\
         \x20       fail('asked')\n\
         \x20   start_response('200 OK', [])\n\
         \x20   return [b'fine']\n",
    )]);
    platform.push("raises", raises.path(), &["-m", "64M"]).await;
    let (status, body) = request(&platform, Method::GET, "raises.localhost", "/boom", None).await;
    assert_eq!((status, body.as_str()), (500, "Internal Server Error\n"));
    let guid = platform.app_guid("raises").await;
    platform.wait_for_log(&guid, "ValueError: boom: asked", Duration::from_secs(10)).await;
    let frame = platform.wait_for_log(&guid, "in fail", Duration::from_secs(10)).await;
    assert!(frame.contains("/home/vcap/app/app.py\", line 2"), "the traceback is logged, line by line: {frame}");
    // An exception is the app's answer, not a crash: the instance serves on.
    assert_eq!(request(&platform, Method::GET, "raises.localhost", "/", None).await, (200, "fine".to_string()));
    assert_eq!(platform.states(&guid).await, ["RUNNING"]);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_and_hoarding_are_cut_off_and_urllib_is_held_to_security_groups() {
    let platform = platform_with_short_requests().await;
    let hostile = app(&[(
        "app.py",
        "import urllib.parse\nimport urllib.request\n\n\
         def app(environ, start_response):\n\
         \x20   path = environ['PATH_INFO']\n\
         \x20   if path == '/spin':\n\
         \x20       while True:\n\
         \x20           pass\n\
         \x20   if path == '/hoard':\n\
         \x20       hoard = []\n\
         \x20       while True:\n\
         \x20           hoard.append(bytearray(1 << 20))\n\
         \x20   if path == '/fetch':\n\
         \x20       try:\n\
         \x20           with urllib.request.urlopen(urllib.parse.parse_qs(environ['QUERY_STRING'])['to'][0]) as response:\n\
         \x20               text = f'status {response.status}: {len(response.read()) > 0}'\n\
         \x20           start_response('200 OK', [])\n\
         \x20       except OSError as error:\n\
         \x20           text = f'{type(error).__name__}: {error}'\n\
         \x20           start_response('502 Bad Gateway', [])\n\
         \x20       return [text.encode()]\n\
         \x20   start_response('200 OK', [])\n\
         \x20   return [b'alive']\n",
    )]);
    let refused = |body: &str| body.starts_with("URLError") && body.contains("security groups");
    held_like_any_guest(&platform, hostile.path(), refused, "status 200: True").await;
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_state_lasts_between_requests_as_in_a_wsgi_worker() {
    let platform = platform_with_short_requests().await;
    let counter = app(&[(
        "app.py",
        "count = 0\n\n\
         def app(environ, start_response):\n\
         \x20   global count\n\
         \x20   while environ['PATH_INFO'] == '/spin':\n\
         \x20       pass\n\
         \x20   count += 1\n\
         \x20   start_response('200 OK', [])\n\
         \x20   return [str(count).encode()]\n",
    )]);
    keeps_state_between_requests_until_cut_off(&platform, counter.path()).await;
    platform.shutdown().await;
}

/// What requests leave allocated piles up in a store kept between them
/// (here 4 MB each, twice the instance's 64M over 30 requests). Once the
/// instance's memory runs low, a store is retired after its request — its
/// module state with it, as gunicorn's `max_requests` recycles a leaking
/// worker — so no request is refused memory for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_leaks_is_retired_between_requests() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let leaky = app(&[(
        "app.py",
        "kept = []\n\n\
         def app(environ, start_response):\n\
         \x20   kept.append(bytearray(4 << 20))\n\
         \x20   start_response('200 OK', [])\n\
         \x20   return [str(len(kept)).encode()]\n",
    )]);
    platform.push("leaky", leaky.path(), &["-m", "64M"]).await;
    let mut kept = Vec::new();
    for _ in 0..30 {
        let (status, body) = request(&platform, Method::GET, "leaky.localhost", "/", None).await;
        assert_eq!(status, 200, "{body} after {kept:?}");
        kept.push(body.parse::<usize>().unwrap());
    }
    let fresh = kept.iter().filter(|&&n| n == 1).count();
    assert!(fresh >= 2 && kept.iter().all(|&n| n < 16), "stores retired as they grew: {kept:?}");
    let guid = platform.app_guid("leaky").await;
    assert_eq!(platform.states(&guid).await, ["RUNNING"]);
    platform.shutdown().await;
}

/// A snapshot takes seconds to compile: the DEA that staged it starts the
/// app's first instance from the runtime, which loads the app itself (its
/// module runs again, in the instance), while the snapshot compiles; an
/// instance started after that starts from the snapshot (the module does
/// not run again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_instance_serves_while_its_snapshot_compiles() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let loads = app(&[(
        "app.py",
        "import os\nprint('module run in', os.environ.get('CF_INSTANCE_INDEX', 'staging'))\n\n\
         def app(environ, start_response):\n\
         \x20   start_response('200 OK', [])\n\
         \x20   return [b'ok']\n",
    )]);
    let staging = platform.push("loads", loads.path(), &["-m", "64M"]).await;
    assert!(staging.contains("module run in staging"), "{staging}");
    let guid = platform.app_guid("loads").await;
    platform.wait_for_log(&guid, "while its snapshot compiles", Duration::from_secs(10)).await;
    assert_eq!(request(&platform, Method::GET, "loads.localhost", "/", None).await, (200, "ok".to_string()));
    platform.wait_for_log(&guid, "module run in 0", Duration::from_secs(10)).await;

    platform.wait_for_log(&guid, "Snapshot compiled", Duration::from_secs(120)).await;
    let out = platform.wf(&["scale", "loads", "-i", "2"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    eventually("instance 1 runs", Duration::from_secs(60), || async {
        (platform.states(&guid).await == ["RUNNING", "RUNNING"]).then_some(())
    })
    .await;
    for _ in 0..4 {
        assert_eq!(request(&platform, Method::GET, "loads.localhost", "/", None).await, (200, "ok".to_string()));
    }
    let logs = platform.get(&format!("/v2/apps/{guid}/logs")).await;
    let lines: Vec<&str> = logs.as_array().unwrap().iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(!lines.contains(&"module run in 1"), "instance 1 started from the snapshot: {lines:?}");
    assert_eq!(lines.iter().filter(|l| l.contains("while its snapshot compiles")).count(), 1, "{lines:?}");
    platform.shutdown().await;
}

/// What cf CLI v6 sends to push, without a buildpack named: the platform
/// detects Python.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cf_cli_push_sequence_stages_python() {
    let platform = TestPlatform::start("local:").await;
    let staged = cf_cli_push(&platform, "py", &repo().join("examples/hello-python"), &["app.py"]).await;
    assert_eq!(staged["entity"]["detected_buildpack"], "python");
    assert_eq!(staged["entity"]["detected_start_command"], ".wf/python.wasm app");
    let (status, body) = platform.via_router("py.localhost", "/").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["vcap_application"]["application_name"], "py");
    platform.shutdown().await;
}
