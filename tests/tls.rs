//! HTTPS: the router's TLS port serves the same routes as its plain one,
//! telling apps `X-Forwarded-Proto: https`, with certificates issued for
//! each app's name by the platform's own authority (made on its first
//! start and kept in the data dir), or with certificates from the config
//! picked by the client's SNI name; the CC and UAA served
//! over TLS, which `wf` logs in to and pushes through, refusing a
//! certificate it cannot trust unless told `--skip-ssl-validation`. Every
//! client here checks certificates for real, against the one the server
//! should have presented.

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::source_apps::{app, request};
use common::{TestPlatform, repo};
use reqwest::Method;
use serde_json::Value;
use wasmfoundry::config::{CertificateFiles, Config};
use wasmfoundry::server::{Platform, Role};

/// A client that trusts only `certificate` (PEM) and finds `host` at `address`.
fn trusting(certificate: &[u8], host: &str, address: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(certificate).unwrap())
        .resolve(host, address)
        .build()
        .unwrap()
}

/// A self-signed certificate for `names`, written to `dir/<file>.crt` and `.key`.
fn certificate(dir: &Path, file: &str, names: &[&str]) -> CertificateFiles {
    let made = rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let files =
        CertificateFiles { cert_chain: dir.join(format!("{file}.crt")), private_key: dir.join(format!("{file}.key")) };
    std::fs::write(&files.cert_chain, made.cert.pem()).unwrap();
    std::fs::write(&files.private_key, made.signing_key.serialize_pem()).unwrap();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_serves_apps_over_https_too() {
    let platform = TestPlatform::start_configured("local:", None, |config| {
        config.router_tls_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    platform.login().await;
    let echo = app(&[
        ("package.json", r#"{"name": "echo", "main": "index.js", "type": "module"}"#),
        (
            "index.js",
            "export default { fetch: (req) => Response.json({ proto: req.headers.get('x-forwarded-proto'), \
             path: new URL(req.url).pathname }) };\n",
        ),
    ]);
    platform.push("echo", echo.path(), &["-m", "64M"]).await;

    // A client that trusts the platform's authority trusts the app's name.
    let tls = platform.router_tls().expect("the router serves HTTPS");
    let made = std::fs::read(platform.dir.path().join("data/tls/ca.crt")).expect("the platform's authority");
    let client = trusting(&made, "echo.localhost", tls);
    let response = client.get(format!("https://echo.localhost:{}/a/b", tls.port())).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!((body["proto"].as_str(), body["path"].as_str()), (Some("https"), Some("/a/b")));

    // Over TLS the router says https whatever the client claims; over
    // plain HTTP it keeps what a load balancer in front said, else http.
    let response = client
        .get(format!("https://echo.localhost:{}/", tls.port()))
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["proto"], "https");
    let (status, body) = request(&platform, Method::GET, "echo.localhost", "/", None).await;
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["proto"].clone()), (200, "http".into()));
    let plain = platform.http.get(format!("{}/", platform.router)).header("host", "echo.localhost");
    let said = plain.header("x-forwarded-proto", "https").send().await.unwrap().json::<Value>().await.unwrap();
    assert_eq!(said["proto"], "https");

    // An unknown route is gorouter's 404 over TLS too.
    let client = trusting(&made, "nothing.localhost", tls);
    let response = client.get(format!("https://nothing.localhost:{}/", tls.port())).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-cf-routererror"], "unknown_route");

    // A client that trusts only the public authorities refuses it.
    let strict = reqwest::Client::builder().resolve("echo.localhost", tls).build().unwrap();
    let refused = strict.get(format!("https://echo.localhost:{}/", tls.port())).send().await.unwrap_err();
    assert!(about_certificates(&refused), "{refused:?}");
    platform.shutdown().await;
}

/// A router alone on `data_dir`, serving HTTPS.
async fn router_on(data_dir: &Path, certificates: Vec<CertificateFiles>) -> Platform {
    let config = Config {
        data_dir: data_dir.to_path_buf(),
        router_listen: "127.0.0.1:0".parse().unwrap(),
        router_tls_listen: Some("127.0.0.1:0".parse().unwrap()),
        router_tls_certificates: certificates,
        ..Config::default()
    };
    Platform::start(config, &[Role::Router]).await.expect("the router starts")
}

/// Whether a client's error is about the certificate it was shown.
fn about_certificates(error: &reqwest::Error) -> bool {
    format!("{error:?}").to_lowercase().contains("certificate")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_s_authority_is_kept_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let router = router_on(dir.path(), Vec::new()).await;
    let made = std::fs::read(dir.path().join("tls/ca.crt")).unwrap();
    let key = dir.path().join("tls/ca.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key is its owner's alone: {mode:o}");
    }
    router.shutdown().await;

    let router = router_on(dir.path(), Vec::new()).await;
    assert_eq!(std::fs::read(dir.path().join("tls/ca.crt")).unwrap(), made, "the same authority");
    let tls = router.router_tls_address.unwrap();
    for host in ["any.localhost", "a.b.localhost", "localhost"] {
        let response = trusting(&made, host, tls).get(format!("https://{host}:{}/", tls.port())).send();
        assert_eq!(response.await.unwrap().status(), 404, "{host}: issued by the kept authority");
    }
    // By address (no SNI name), the router's own.
    let response = trusting(&made, "unused", tls).get(format!("https://{tls}/")).send();
    assert_eq!(response.await.unwrap().status(), 404);
    // A name outside its domains gets no certificate for it.
    let refused = trusting(&made, "example.com", tls).get(format!("https://example.com:{}/", tls.port())).send();
    assert!(about_certificates(&refused.await.unwrap_err()));
    router.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_s_sni_name_picks_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let first = certificate(dir.path(), "first", &["apps.example"]);
    let second = certificate(dir.path(), "second", &["*.shop.example", "shop.example"]);
    let router = router_on(dir.path(), vec![first.clone(), second.clone()]).await;
    let tls = router.router_tls_address.unwrap();
    let first_pem = std::fs::read(&first.cert_chain).unwrap();
    let second_pem = std::fs::read(&second.cert_chain).unwrap();
    let get = |pem: &[u8], host: &str| trusting(pem, host, tls).get(format!("https://{host}:{}/", tls.port())).send();

    assert_eq!(get(&second_pem, "cart.shop.example").await.unwrap().status(), 404);
    assert_eq!(get(&second_pem, "shop.example").await.unwrap().status(), 404);
    assert_eq!(get(&first_pem, "apps.example").await.unwrap().status(), 404);
    // A name no certificate covers gets the first, which its client cannot trust for it.
    let refused = get(&first_pem, "other.example").await.unwrap_err();
    assert!(about_certificates(&refused), "{refused:?}");
    let refused = get(&first_pem, "cart.shop.example").await.unwrap_err();
    assert!(about_certificates(&refused), "the shop's certificate was presented: {refused:?}");
    router.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cc_and_uaa_serve_https_when_given_a_certificate() {
    let keys = tempfile::tempdir().unwrap();
    let served = certificate(keys.path(), "cc", &["127.0.0.1", "localhost"]);
    let platform = TestPlatform::start_configured("local:", None, |config| {
        config.cc_tls_certificate = Some(served.clone());
    })
    .await;
    let api = platform.api.clone();
    assert!(api.starts_with("https://127.0.0.1:"), "{api}");
    let address: SocketAddr = api.trim_start_matches("https://").parse().unwrap();

    // What clients discover points at HTTPS.
    let pem = std::fs::read(&served.cert_chain).unwrap();
    let client = trusting(&pem, "127.0.0.1", address);
    let info: Value = client.get(format!("{api}/v2/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["authorization_endpoint"], api.as_str());
    assert!(info["doppler_logging_endpoint"].as_str().unwrap().starts_with("wss://"), "{info}");
    let root: Value = client.get(format!("{api}/")).send().await.unwrap().json().await.unwrap();
    assert_eq!(root["links"]["cloud_controller_v3"]["href"], format!("{api}/v3"));
    // Plain HTTP gets no answer.
    let plain = format!("http://{address}/v2/info");
    assert!(reqwest::get(&plain).await.is_err(), "the CC answered plain HTTP");

    // wf refuses a certificate it cannot trust, as the cf CLI does...
    let password = platform.admin_password();
    let out = platform.wf(&["login", "-a", &api, "-u", "admin", "-p", &password]).await;
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "login to an untrusted API succeeded");
    assert!(said.contains("Invalid SSL Cert") && said.contains("--skip-ssl-validation"), "{said}");
    // ...and with --skip-ssl-validation logs in, pushes and lists over HTTPS.
    let out = platform.wf(&["login", "-a", &api, "-u", "admin", "-p", &password, "--skip-ssl-validation"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    platform.push("hello", &repo().join("examples/hello-http"), &["-m", "64M"]).await;
    let out = platform.wf(&["apps"]).await;
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && listed.contains("hello"), "{listed}");
    let (status, body) = platform.via_router("hello.localhost", "/").await;
    assert_eq!(status, 200, "{body}");
    platform.shutdown().await;
}
