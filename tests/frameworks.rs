//! Framework apps from source, pushed as they are written: the Express
//! and Flask examples, and the same routes in Hono, itty-router, Bottle,
//! Falcon and Django (tests/fixtures/*-app; packages installed from their
//! lock files by scripts/example-deps.sh), answer as they do under node
//! and gunicorn —
//! parameters, query strings, JSON and form bodies, static files and
//! templates, headers and cookies, redirects, a streamed response, and
//! errors that the framework turns into answers and logs.

mod common;

use std::time::{Duration, Instant};

use common::TestPlatform;
use common::source_apps::installed;
use reqwest::Method;
use serde_json::{Value, json};

/// A request through the router without following redirects: (status,
/// headers, body).
async fn send(
    platform: &TestPlatform,
    method: Method,
    host: &str,
    path: &str,
    body: Option<(&str, &str)>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client.request(method, format!("{}{path}", platform.router)).header("host", host);
    if let Some((content_type, body)) = body {
        request = request.header("content-type", content_type).body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A GET whose body must come in pieces, the last at least `spread`
/// after the first (it is streamed, not sent at the end): the body.
async fn streamed(platform: &TestPlatform, host: &str, path: &str, spread: Duration) -> String {
    let started = Instant::now();
    let mut response =
        platform.http.get(format!("{}{path}", platform.router)).header("host", host).send().await.unwrap();
    let mut arrivals = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        arrivals.push((started.elapsed(), chunk));
    }
    let (first, last) = (arrivals[0].0, arrivals.last().unwrap().0);
    assert!(arrivals.len() > 2 && last - first >= spread, "chunks came at {arrivals:?}");
    String::from_utf8(arrivals.iter().flat_map(|(_, chunk)| chunk.to_vec()).collect()).unwrap()
}

/// A platform with the app at `dir` (packages installed) pushed as `name`:
/// the platform and what the push printed.
async fn pushed(dir: &str, name: &str, memory: &str) -> (TestPlatform, String) {
    let dir = installed(dir);
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let staging = platform.push(name, &dir, &["-m", memory]).await;
    (platform, staging)
}

/// The routes both examples have, checked as their framework answers them.
async fn serves_the_example_routes(platform: &TestPlatform, name: &str, framework: &str) {
    let host = format!("{name}.localhost");
    let (status, _, body) = send(platform, Method::GET, &host, "/", None).await;
    assert_eq!(status, 200, "{body}");
    let index = json_of(&body);
    assert_eq!(index["message"], format!("hello from wasmfoundry, in {framework}"));
    assert_eq!(index["application_name"], name);
    assert_eq!(index["instance_index"], 0);

    let (status, _, body) = send(platform, Method::GET, &host, "/hello/bob?punct=%21", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("hello, bob!"), "{body}");

    let (status, headers, body) =
        send(platform, Method::POST, &host, "/items", Some(("application/json", r#"{"name": "é", "tags": ["x"]}"#)))
            .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["location"], "/items/1");
    assert_eq!(json_of(&body), json!({"id": "1", "name": "é", "tags": ["x"]}));
    let (status, _, body) = send(platform, Method::GET, &host, "/items/1", None).await;
    assert_eq!((status, json_of(&body)["name"].clone()), (200, json!("é")));
    let (status, _, body) = send(platform, Method::POST, &host, "/items", Some(("application/json", "[1]"))).await;
    assert_eq!(status, 422, "{body}");
    let (status, _, body) = send(platform, Method::GET, &host, "/items/9", None).await;
    assert_eq!((status, json_of(&body)), (404, json!({"error": "no route for GET /items/9"})));

    let form = ("application/x-www-form-urlencoded", "a=1&b=two+words&c=%C3%A9");
    let (status, _, body) = send(platform, Method::POST, &host, "/form", Some(form)).await;
    assert_eq!((status, json_of(&body)), (200, json!({"form": {"a": "1", "b": "two words", "c": "é"}})));

    let (status, headers, body) = send(platform, Method::GET, &host, "/headers", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-greeting"], "yes");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("seen=yes;") && cookie.contains("HttpOnly"), "{cookie}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"), "{headers:?}");

    let (status, headers, _) = send(platform, Method::GET, &host, "/redirect", None).await;
    assert_eq!(status, 302);
    assert!(headers["location"].to_str().unwrap().ends_with("/hello/redirected"), "{headers:?}");

    let (status, _, body) = send(platform, Method::GET, &host, "/stream?lines=20", None).await;
    let expected: String = (1..=20).map(|n| format!("line {n}\n")).collect::<String>() + "done\n";
    assert_eq!((status, body), (200, expected));

    let (status, _, body) = send(platform, Method::GET, &host, "/boom", None).await;
    assert_eq!(status, 500, "{body}");
    let guid = platform.app_guid(name).await;
    platform.wait_for_log(&guid, "boom, as asked", Duration::from_secs(10)).await;
    // The error was the framework's answer: the instance serves on.
    assert_eq!(send(platform, Method::GET, &host, "/items/1", None).await.0, 200);
    assert_eq!(platform.states(&guid).await, ["RUNNING"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_express_app_runs_as_under_node() {
    let (platform, staging) = pushed("examples/hello-express", "hello-express", "64M").await;
    assert!(staging.contains("js_buildpack detected javascript"), "{staging}");
    serves_the_example_routes(&platform, "hello-express", "Express").await;
    let host = "hello-express.localhost";

    // express.static: the file, its ETag, then 304 for that ETag; HEAD.
    let (status, headers, body) = send(&platform, Method::GET, host, "/hello.txt", None).await;
    assert_eq!((status, body.as_str()), (200, "a static file, served by express.static\n"));
    assert_eq!(headers["content-type"], "text/plain; charset=UTF-8");
    let etag = headers["etag"].to_str().unwrap().to_string();
    let not_modified = platform
        .http
        .get(format!("{}/hello.txt", platform.router))
        .header("host", host)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    let (status, headers, body) = send(&platform, Method::HEAD, host, "/hello.txt", None).await;
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(headers["etag"], etag.as_str());
    // An ETag Express computed (a SHA1 of the body, by node:crypto) is
    // the one node computes: W/"<length in hex>-<base64 of the SHA1>".
    let (_, headers, body) = send(&platform, Method::GET, host, "/hello/bob?punct=%21", None).await;
    assert_eq!(
        (body.as_str(), headers["etag"].to_str().unwrap()),
        ("hello, bob!", r#"W/"b-oq+KJnEskgw6qvOT4r8btpi5ZJA""#)
    );

    // res.write streams: the first lines reach the client well before the
    // last (20 lines, 10 ms apart).
    let body = streamed(&platform, host, "/stream?lines=20", Duration::from_millis(100)).await;
    assert!(body.ends_with("line 20\ndone\n"), "{body}");

    // Started again once its snapshot is compiled, the instance starts from
    // the snapshot, where the app's files are read afresh (no handle of the
    // staging store's is left in it).
    let guid = platform.app_guid("hello-express").await;
    platform.wait_for_log(&guid, "Snapshot compiled", Duration::from_secs(300)).await;
    let out = platform.wf(&["restart", "hello-express"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, _, body) = send(&platform, Method::GET, host, "/hello.txt", None).await;
    assert_eq!((status, body.as_str()), (200, "a static file, served by express.static\n"));
    assert_eq!(send(&platform, Method::GET, host, "/items/1", None).await.0, 404, "a new process: no items");
    assert_eq!(platform.states(&guid).await, ["RUNNING"]);
    platform.shutdown().await;
}

/// Fetch-handler frameworks keep working beside Node servers, as they run
/// on Workers: Hono 4 (`export default app`) and itty-router 5 (`export
/// default router`), their routes, bodies (JSON, and a form through
/// `formData()`), headers and error handlers, and a ReadableStream body:
/// Hono's `streamText` (a TransformStream the app writes a line to every
/// 10 ms) and itty's a stream whose `pull` enqueues one; the client gets
/// the lines as they are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hono_and_itty_router_apps_run_as_on_workers() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    for (fixture, framework) in [("hono-app", "Hono"), ("itty-app", "itty-router")] {
        let dir = installed(&format!("tests/fixtures/{fixture}"));
        let staging = platform.push(fixture, &dir, &["-m", "64M"]).await;
        assert!(staging.contains("js_buildpack detected javascript"), "{staging}");
        serves_the_example_routes(&platform, fixture, framework).await;
        let host = format!("{fixture}.localhost");
        let body = streamed(&platform, &host, "/stream?lines=20", Duration::from_millis(100)).await;
        assert!(body.ends_with("line 20\ndone\n"), "{body}");
    }
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_app_runs_as_under_gunicorn() {
    let (platform, staging) = pushed("examples/hello-flask", "hello-flask", "128M").await;
    assert!(staging.contains("python_buildpack detected"), "{staging}");
    // Requests at once after the push: the instance loaded Flask into a
    // store before it took requests, and they share that one rather than
    // each loading Flask again (or being turned away) while the snapshot
    // compiles.
    let first = (0..8).map(|_| send(&platform, Method::GET, "hello-flask.localhost", "/items/1", None));
    for (status, _, body) in futures::future::join_all(first).await {
        assert_eq!(status, 404, "{body}");
        assert_eq!(json_of(&body), json!({"error": "no route for GET /items/1"}));
    }
    assert!(staging.contains("markupsafe/_speedups"), "the compiled speedups are named as left out: {staging}");
    serves_the_example_routes(&platform, "hello-flask", "Flask").await;
    // A Jinja2 template, escaping what it is given.
    let (status, _, body) = send(&platform, Method::GET, "hello-flask.localhost", "/hello/%3Cb%3E", None).await;
    assert_eq!((status, body.trim()), (200, "<p>hello, &lt;b&gt;</p>"));

    // Started again from its compiled snapshot, it reads its files afresh.
    let guid = platform.app_guid("hello-flask").await;
    platform.wait_for_log(&guid, "Snapshot compiled", Duration::from_secs(300)).await;
    let out = platform.wf(&["restart", "hello-flask"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, _, body) = send(&platform, Method::GET, "hello-flask.localhost", "/hello/again", None).await;
    assert_eq!((status, body.trim()), (200, "<p>hello, again</p>"));
    platform.shutdown().await;
}

/// Bottle, Falcon and Django (no database: views, URL routing, a
/// template) answering the routes of hello-flask, each unmodified, the
/// Django project started as its Procfile says (`gunicorn
/// hello.wsgi:application`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bottle_falcon_and_django_apps_run_as_under_gunicorn() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    for (fixture, framework) in [("bottle-app", "Bottle"), ("falcon-app", "Falcon"), ("django-app", "Django")] {
        let dir = installed(&format!("tests/fixtures/{fixture}"));
        platform.push(fixture, &dir, &["-m", "128M"]).await;
        serves_the_example_routes(&platform, fixture, framework).await;
    }
    let (status, _, body) = send(&platform, Method::GET, "django-app.localhost", "/hello/%3Cb%3E", None).await;
    assert_eq!((status, body.trim()), (200, "<p>hello, &lt;b&gt;</p>"), "a Django template escapes");
    platform.shutdown().await;
}

/// WSGI as gunicorn serves it: `wsgi.input` reads a body as it arrives (a
/// large upload, or a chunked one without Content-Length, read to its
/// end), `wsgi.errors` goes to the app's log, a generator's chunks go out
/// as they are yielded, and one that raises after its first chunk cuts
/// the response off (logged), the instance serving on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wsgi_streams_both_ways_as_under_gunicorn() {
    const APP: &str = r#"
import hashlib
import json
import time


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/upload":
        digest, size, reads = hashlib.sha1(), 0, 0
        stream = environ["wsgi.input"]
        while True:
            chunk = stream.read(65536)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            reads += 1
        environ["wsgi.errors"].write(f"uploaded {size} bytes\n")
        body = json.dumps({"size": size, "sha1": digest.hexdigest(), "reads": reads,
                           "content_length": environ.get("CONTENT_LENGTH")}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    if path == "/slow":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (time.sleep(0.03) or f"line {n}\n".encode() for n in range(10))
    if path == "/breaks":
        def chunks():
            yield b"a first chunk\n"
            raise ValueError("broke after the first chunk")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return chunks()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"fine"]
"#;
    let dir = common::source_apps::app(&[("app.py", APP)]);
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("wsgi", dir.path(), &["-m", "64M"]).await;
    let url = format!("{}/upload", platform.router);

    // 24 MB: more than the instance could hold twice over beside Python.
    let big: Vec<u8> = (0..24u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let sha1 = {
        use sha1::{Digest, Sha1};
        Sha1::digest(&big).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let upload = |body: reqwest::Body| async {
        let response = platform.http.post(&url).header("host", "wsgi.localhost").body(body).send().await.unwrap();
        response.json::<Value>().await.unwrap()
    };
    let answer = upload(big.clone().into()).await;
    assert_eq!((answer["size"].as_u64(), answer["sha1"].as_str()), (Some(24 << 20), Some(sha1.as_str())), "{answer}");
    assert_eq!(answer["content_length"], (24u64 << 20).to_string());
    assert!(answer["reads"].as_u64().unwrap() > 100, "read as it arrives, 64 KiB at a time: {answer}");

    // Chunked: no Content-Length, the body read to its end.
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> = big[..3 << 20].chunks(100_000).map(|c| Ok(c.to_vec())).collect();
    let answer = upload(reqwest::Body::wrap_stream(futures::stream::iter(pieces))).await;
    assert_eq!(answer["size"], 3 << 20, "{answer}");
    assert!(answer["content_length"].is_null() || answer["content_length"] == "", "{answer}");
    let guid = platform.app_guid("wsgi").await;
    platform.wait_for_log(&guid, "uploaded 25165824 bytes", Duration::from_secs(10)).await;

    // A generator's chunks go out as they are yielded (10, 30 ms apart).
    let body = streamed(&platform, "wsgi.localhost", "/slow", Duration::from_millis(150)).await;
    assert_eq!(body, (0..10).map(|n| format!("line {n}\n")).collect::<String>());

    // Raising after the head went out: the body is cut off, not completed.
    let response =
        platform.http.get(format!("{}/breaks", platform.router)).header("host", "wsgi.localhost").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the client sees the body cut off");
    platform.wait_for_log(&guid, "ValueError: broke after the first chunk", Duration::from_secs(10)).await;
    assert_eq!(platform.via_router("wsgi.localhost", "/").await, (200, "fine".to_string()));
    assert_eq!(platform.states(&guid).await, ["RUNNING"]);
    platform.shutdown().await;
}
