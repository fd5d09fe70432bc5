//! js_buildpack end to end: JavaScript source pushed as it is written
//! (a fetch handler, ES modules or CommonJS, packages in node_modules) is
//! detected, loaded once at staging into a snapshot of the QuickJS runtime,
//! and served through the router with the CF environment; its mistakes are
//! reported where CF reports them (staging for what cannot load, the app's
//! log and a 500 for what throws), and it is held to the same limits and
//! security groups as any guest.

mod common;

use std::time::Duration;

use common::source_apps::{
    app, cf_cli_push, failed_push, held_like_any_guest, keeps_state_between_requests_until_cut_off,
    platform_with_short_requests, request,
};
use common::{TestPlatform, repo};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_js_runs_from_its_source_with_the_cf_environment() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let staging = platform.push("hello-js", &repo().join("examples/hello-js"), &["-m", "64M", "-i", "2"]).await;
    assert!(staging.contains("js_buildpack detected javascript"), "{staging}");
    assert!(staging.contains("Loading the app into .wf/js.wasm"), "{staging}");
    // The tests' DEAs do not compile runtimes when they start: the first staging does.
    assert!(staging.contains("Compiling .wf/js.wasm for this DEA"), "{staging}");
    assert!(staging.contains("snapshot"), "{staging}");

    let mut indexes = Vec::new();
    for _ in 0..8 {
        let (status, body) = request(&platform, Method::GET, "hello-js.localhost", "/", None).await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["message"], "hello from wasmfoundry, in JavaScript");
        assert_eq!(body["vcap_application"]["application_name"], "hello-js");
        assert_eq!(body["vcap_application"]["application_uris"], json!(["hello-js.localhost"]));
        assert_eq!(body["memory_limit"], "64m");
        assert_eq!(body["port"].as_str().unwrap().parse::<u16>().unwrap(), body["vcap_application"]["port"]);
        indexes.push(body["instance_index"].as_u64().unwrap());
    }
    indexes.sort();
    indexes.dedup();
    assert_eq!(indexes, [0, 1], "both instances answer, each with its own index");

    let (status, body) =
        request(&platform, Method::POST, "hello-js.localhost", "/echo", Some(r#"{"n": 42, "s": "é"}"#)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["echo"], json!({"n": 42, "s": "é"}));
    let (status, body) = request(&platform, Method::POST, "hello-js.localhost", "/echo", Some("not json")).await;
    assert_eq!((status, body.as_str()), (400, r#"{"error":"send a JSON body"}"#));
    assert_eq!(request(&platform, Method::GET, "hello-js.localhost", "/nowhere", None).await.0, 404);

    // console.log reaches the app's log.
    let guid = platform.app_guid("hello-js").await;
    platform.wait_for_log(&guid, "GET / on instance", Duration::from_secs(10)).await;
    let out = platform.wf(&["logs", "hello-js", "--recent"]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("GET / on instance"), "{out:?}");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_from_node_modules_are_imported_and_required() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    // An ES module app using a CommonJS package (main in a subdirectory), a
    // scoped ES module package with an exports map, a relative module and
    // JSON; and a CommonJS app with a fetch listener requiring the same.
    let packages: &[(&str, &str)] = &[
        ("node_modules/greeter/package.json", r#"{"name": "greeter", "main": "lib/greet.js"}"#),
        ("node_modules/greeter/lib/greet.js", "exports.greet = (name) => `hello, ${name}`;\n"),
        (
            "node_modules/@acme/shout/package.json",
            r#"{"name": "@acme/shout", "type": "module", "exports": {".": {"import": "./src/shout.js", "require": "./nope.cjs"}}}"#,
        ),
        ("node_modules/@acme/shout/src/shout.js", "export const shout = (s) => s.toUpperCase() + '!';\n"),
        ("lib/config.json", r#"{"greeting": "from json"}"#),
    ];
    let mut esm = packages.to_vec();
    esm.extend([
        ("package.json", r#"{"name": "deps", "main": "server.mjs", "dependencies": {"greeter": "1"}}"#),
        (
            "server.mjs",
            "import { greet } from 'greeter';\nimport { shout } from '@acme/shout';\nimport config from './lib/config.json';\n\
             import path from 'node:path';\n\
             export default { fetch: (req) => new Response(shout(greet(new URL(req.url).searchParams.get('name'))) + ' ' \
             + config.greeting + ' ' + path.join('/a', '../b')) };\n",
        ),
    ]);
    let dir = app(&esm);
    platform.push("esm", dir.path(), &["-m", "64M"]).await;
    let (status, body) = request(&platform, Method::GET, "esm.localhost", "/?name=wasm", None).await;
    assert_eq!((status, body.as_str()), (200, "HELLO, WASM! from json /b"));

    let mut cjs = packages.to_vec();
    cjs.extend([
        ("Procfile", "web: node app.js\n"),
        (
            "app.js",
            "const { greet } = require('greeter');\nconst config = require('./lib/config');\n\
             addEventListener('fetch', (event) => event.respondWith(new Response(greet(config.greeting), \
             { headers: { 'x-made-by': 'cjs' } })));\n",
        ),
    ]);
    let dir = app(&cjs);
    platform.push("cjs", dir.path(), &["-m", "64M"]).await;
    let response =
        platform.http.get(format!("{}/", platform.router)).header("host", "cjs.localhost").send().await.unwrap();
    assert_eq!(response.headers()["x-made-by"], "cjs");
    assert_eq!(response.text().await.unwrap(), "hello, from json");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_load_fails_staging_and_what_throws_is_a_500_in_the_log() {
    let platform = TestPlatform::start_configured("local:", None, common::keep_crashes).await;
    platform.login().await;
    let broken = app(&[("index.js", "export default {\n  fetch(request) {\n    return new Response('x'\n  },\n};\n")]);
    let printed = failed_push(&platform, "broken", broken.path()).await;
    assert!(printed.contains("the app failed to load: SyntaxError"), "{printed}");
    assert!(printed.contains("/home/vcap/app/index.js:4"), "the error points into the file: {printed}");

    let throws_at_load = app(&[("index.js", "throw new TypeError('no config');\n")]);
    let printed = failed_push(&platform, "load-throws", throws_at_load.path()).await;
    assert!(printed.contains("TypeError: no config"), "{printed}");
    let no_handler = app(&[("index.js", "console.log('nothing to serve');\n")]);
    let printed = failed_push(&platform, "no-handler", no_handler.path()).await;
    assert!(printed.contains("has no fetch handler and starts no server"), "{printed}");
    assert!(printed.contains("nothing to serve"), "what the app printed is in the staging log: {printed}");
    let native = app(&[
        ("index.js", "export default { fetch: () => new Response('x') };\n"),
        ("node_modules/bcrypt/package.json", r#"{"name": "bcrypt"}"#),
        ("node_modules/bcrypt/binding.gyp", "{}"),
    ]);
    let printed = failed_push(&platform, "native", native.path()).await;
    assert!(printed.contains("node_modules/bcrypt is a native addon"), "{printed}");
    let node_only = app(&[(
        "index.js",
        "import { spawn } from 'child_process';\nexport default { fetch: () => new Response('x') };\n",
    )]);
    let printed = failed_push(&platform, "node-only", node_only.path()).await;
    assert!(printed.contains("Cannot use Node's built-in module 'child_process'"), "{printed}");

    let throws = app(&[(
        "index.js",
        "function fail(what) { throw new Error(`boom: ${what}`); }\n\
         export default { async fetch(request) { const p = new URL(request.url).pathname; \
         if (p === '/boom') fail('asked'); return new Response('fine'); } };\n",
    )]);
    platform.push("throws", throws.path(), &["-m", "64M"]).await;
    let (status, body) = request(&platform, Method::GET, "throws.localhost", "/boom", None).await;
    assert_eq!((status, body.as_str()), (500, "Internal Server Error\n"));
    let guid = platform.app_guid("throws").await;
    platform.wait_for_log(&guid, "Error: boom: asked", Duration::from_secs(10)).await;
    let frame = platform.wait_for_log(&guid, "at fail", Duration::from_secs(10)).await;
    assert!(frame.contains("/home/vcap/app/index.js:1"), "the stack is logged, line by line: {frame}");
    // A throw is the app's answer, not a crash: the instance serves on.
    assert_eq!(request(&platform, Method::GET, "throws.localhost", "/", None).await, (200, "fine".to_string()));
    assert_eq!(platform.states(&guid).await, ["RUNNING"]);
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_and_hoarding_are_cut_off_and_fetch_is_held_to_security_groups() {
    let platform = platform_with_short_requests().await;
    let hostile = app(&[(
        "index.js",
        "export default { async fetch(request) {\n\
           const url = new URL(request.url);\n\
           if (url.pathname === '/spin') for (;;) {}\n\
           if (url.pathname === '/hoard') { const all = []; for (;;) all.push(new Array(100000).fill(all.length)); }\n\
           if (url.pathname === '/fetch') {\n\
             try { const r = await fetch(url.searchParams.get('to')); return new Response(`status ${r.status}: ${(await r.text()).length > 0}`); }\n\
             catch (e) { return new Response(`${e.name}: ${e.message}`, { status: 502 }); }\n\
           }\n\
           return new Response('alive');\n\
         } };\n",
    )]);
    let refused = |body: &str| body.starts_with("TypeError: fetch failed") && body.contains("security groups");
    held_like_any_guest(&platform, hostile.path(), refused, "status 200: true").await;
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_state_lasts_between_requests_as_in_a_node_process() {
    let platform = platform_with_short_requests().await;
    let counter = app(&[(
        "index.js",
        "let count = 0;\n\
         export default { fetch(request) {\n\
           if (new URL(request.url).pathname === '/spin') for (;;) {}\n\
           count += 1;\n\
           return new Response(String(count));\n\
         } };\n",
    )]);
    keeps_state_between_requests_until_cut_off(&platform, counter.path()).await;
    platform.shutdown().await;
}

/// What cf CLI v6 sends to push, without a buildpack named: the platform
/// detects JavaScript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cf_cli_push_sequence_stages_javascript() {
    let platform = TestPlatform::start("local:").await;
    let staged = cf_cli_push(&platform, "js", &repo().join("examples/hello-js"), &["package.json", "index.js"]).await;
    assert_eq!(staged["entity"]["detected_buildpack"], "javascript");
    assert_eq!(staged["entity"]["detected_start_command"], ".wf/js.wasm index.js");
    let (status, body) = platform.via_router("js.localhost", "/").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["vcap_application"]["application_name"], "js");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_apis_behave_as_browsers_have_them() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let checks = app(&[(
        "index.js",
        r#"const atLoad = Math.random();
export default {
  async fetch(request) {
    const u = new URL('../b/./c?x=1&y=two%20words#frag', 'https://Example.COM:443/a/d/e');
    const params = new URLSearchParams('a=1&b=2&a=3');
    params.append('c', 'x y');
    const headers = new Headers({ 'Content-Type': 'text/plain' });
    headers.append('set-cookie', 'a=1');
    headers.append('Set-Cookie', 'b=2');
    const copied = new Headers(headers);
    const dots = new URL('http://h/a/%2E%2e/b/./c d');
    const late = new URL('http://h/p?q=1');
    late.search = '?q=2';
    const q = late.searchParams.get('q');
    late.searchParams.set('r', '3');
    const bytes = new TextEncoder().encode('héllo');
    const order = [];
    await new Promise((resolve) => { setTimeout(() => { order.push('timer'); resolve(); }, 5); queueMicrotask(() => order.push('microtask')); });
    const body = await new Request('http://x/', { method: 'POST', body: JSON.stringify({ k: [1, 2] }) }).json();
    const streamed = [];
    for await (const chunk of new Request('http://x/', { method: 'POST', body: 'abc' }).body) streamed.push(new TextDecoder().decode(chunk));
    const split = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([104, 195])); c.enqueue(new Uint8Array([169])); c.close(); } });
    const piped = await new Response(split.pipeThrough(new TextDecoderStream())).text();
    const upper = new TransformStream({ transform(chunk, c) { c.enqueue(chunk.toUpperCase()); } });
    const writer = upper.writable.getWriter();
    writer.write('a'); writer.write('b'); writer.close();
    const [one, two] = ReadableStream.from(['x', 'y']).tee();
    return Response.json({
      href: u.href, host: u.host, pathname: u.pathname, y: u.searchParams.get('y'), hash: u.hash, origin: u.origin,
      params: params.toString(), all_a: params.getAll('a'),
      content_type: headers.get('CONTENT-TYPE'), cookies: headers.getSetCookie(), copied_cookies: copied.getSetCookie(),
      dots: dots.href, q, late: late.href,
      utf8: Array.from(bytes), decoded: new TextDecoder().decode(bytes),
      base64: btoa('hi there'), unbase64: atob('aGkgdGhlcmU='),
      uuid: crypto.randomUUID(), order, body,
      random_at_load: atLoad, random_now: Math.random(),
      status: new Response(null, { status: 204 }).status, ok: new Response('x', { status: 404 }).ok,
      streamed, piped, transformed: await new Response(upper.readable).text(),
      teed: [await new Response(one).text(), await new Response(two).text()],
    });
  },
};
"#,
    )]);
    platform.push("checks", checks.path(), &["-m", "64M"]).await;
    // Until then, a store the instance makes loads the app itself (and draws
    // its own `atLoad`).
    let guid = platform.app_guid("checks").await;
    platform.wait_for_log(&guid, "Snapshot compiled", Duration::from_secs(120)).await;
    let (status, first) = platform.via_router("checks.localhost", "/").await;
    assert_eq!(status, 200, "{first}");
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["href"], "https://example.com/a/b/c?x=1&y=two%20words#frag");
    assert_eq!(
        (&first["host"], &first["pathname"], &first["y"]),
        (&json!("example.com"), &json!("/a/b/c"), &json!("two words"))
    );
    assert_eq!((&first["hash"], &first["origin"]), (&json!("#frag"), &json!("https://example.com")));
    assert_eq!((&first["params"], &first["all_a"]), (&json!("a=1&b=2&a=3&c=x+y"), &json!(["1", "3"])));
    assert_eq!((&first["content_type"], &first["cookies"]), (&json!("text/plain"), &json!(["a=1", "b=2"])));
    assert_eq!(first["copied_cookies"], json!(["a=1", "b=2"]), "a copy keeps each cookie apart");
    assert_eq!(first["dots"], "http://h/b/c%20d", "dot segments, %2e too, are removed; a space is encoded");
    assert_eq!((&first["q"], &first["late"]), (&json!("2"), &json!("http://h/p?q=2&r=3")));
    assert_eq!((&first["utf8"], &first["decoded"]), (&json!([104, 195, 169, 108, 108, 111]), &json!("héllo")));
    assert_eq!((&first["base64"], &first["unbase64"]), (&json!("aGkgdGhlcmU="), &json!("hi there")));
    assert_eq!(first["order"], json!(["microtask", "timer"]));
    assert_eq!(first["body"], json!({"k": [1, 2]}));
    assert_eq!((&first["status"], &first["ok"]), (&json!(204), &json!(false)));
    // WHATWG streams: a body read chunk by chunk, a character split across
    // chunks decoded whole, a TransformStream written to, a stream teed.
    assert_eq!((&first["streamed"], &first["piped"]), (&json!(["abc"]), &json!("hé")));
    assert_eq!((&first["transformed"], &first["teed"]), (&json!("AB"), &json!(["xy", "xy"])));
    let uuid = first["uuid"].as_str().unwrap();
    assert!(uuid.len() == 36 && uuid.as_bytes()[14] == b'4', "a v4 UUID: {uuid}");
    // Every request starts from the same snapshot: what ran at load is the
    // same, but randomness is drawn afresh.
    let (_, second) = platform.via_router("checks.localhost", "/").await;
    let second: Value = serde_json::from_str(&second).unwrap();
    assert_eq!(first["random_at_load"], second["random_at_load"]);
    assert_ne!(first["random_now"], second["random_now"]);
    assert_ne!(first["uuid"], second["uuid"]);
    platform.shutdown().await;
}
