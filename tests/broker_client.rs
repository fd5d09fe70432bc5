//! The CC as a broker's client: one pool of connections for every call; a
//! call whose reused connection the broker closed before it saw the
//! request is sent again on a new one (a broker closing its idle
//! connections costs nothing); an error says why a broker could not be
//! reached (refused, TLS); a broker served over HTTPS must have a
//! certificate the CC trusts unless `broker_skip_ssl_validation`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::TestPlatform;
use common::broker::{Broker, broker_app};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use reqwest::Method;
use serde_json::{Value, json};

/// Serves `app` answering only the first request of each connection: a
/// later request on the same kept-alive connection finds it closed,
/// unanswered and unhandled, as when a broker drops a connection it held
/// idle just as the CC sends on it. Returns the URL and how many were dropped.
async fn serve_once_per_connection(app: axum::Router) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let dropped = Arc::new(AtomicUsize::new(0));
    let counted = dropped.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (app, dropped) = (TowerToHyperService::new(app.clone()), counted.clone());
            tokio::spawn(async move {
                let served = AtomicUsize::new(0);
                let service = hyper::service::service_fn(|request| {
                    let first = served.fetch_add(1, Ordering::SeqCst) == 0;
                    let (app, dropped) = (app.clone(), dropped.clone());
                    async move {
                        if !first {
                            dropped.fetch_add(1, Ordering::SeqCst);
                            return Err(std::io::Error::other("closing a reused connection"));
                        }
                        hyper::service::Service::call(&app, request).await.map_err(std::io::Error::other)
                    }
                });
                let connection =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let _ = connection.await;
            });
        }
    });
    (url, dropped)
}

fn registration(name: &str, url: &str) -> String {
    json!({"name": name, "broker_url": url, "auth_username": "u", "auth_password": "p"}).to_string()
}

fn guid(resource: &Value) -> String {
    resource["metadata"]["guid"].as_str().unwrap().to_string()
}

/// Registers the broker at `url`, makes its plans public, then provisions,
/// binds, unbinds and deprovisions an instance of plan `small`.
async fn lifecycle(platform: &TestPlatform, url: &str, broker: &Broker) {
    let (status, body) = platform.api(Method::POST, "/v2/service_brokers", Some(&registration("pg", url))).await;
    assert_eq!(status, 201, "{body}");
    for plan in platform.get("/v2/service_plans").await["resources"].as_array().unwrap() {
        let path = format!("/v2/service_plans/{}", guid(plan));
        assert_eq!(platform.api(Method::PUT, &path, Some(r#"{"public":true}"#)).await.0, 201);
    }
    let space = guid(&platform.get("/v2/spaces?q=name:dev").await["resources"][0]);
    let plan = guid(&platform.get("/v2/service_plans?q=name:small").await["resources"][0]);
    let app = json!({"name": "app", "space_guid": space}).to_string();
    let (status, app) = platform.api(Method::POST, "/v2/apps", Some(&app)).await;
    assert_eq!(status, 201, "{app}");
    for round in 0..3 {
        let body = json!({"name": format!("db{round}"), "space_guid": space, "service_plan_guid": plan}).to_string();
        let (status, instance) = platform.api(Method::POST, "/v2/service_instances", Some(&body)).await;
        assert_eq!(status, 201, "provision {round}: {instance}");
        let binding = json!({"service_instance_guid": guid(&instance), "app_guid": guid(&app)}).to_string();
        let (status, binding) = platform.api(Method::POST, "/v2/service_bindings", Some(&binding)).await;
        assert_eq!(status, 201, "bind {round}: {binding}");
        let path = format!("/v2/service_bindings/{}", guid(&binding));
        assert_eq!(platform.api(Method::DELETE, &path, None).await.0, 204, "unbind {round}");
        let path = format!("/v2/service_instances/{}", guid(&instance));
        assert_eq!(platform.api(Method::DELETE, &path, None).await.0, 204, "deprovision {round}");
    }
    let provisions = broker.requests_to("PUT", "/v2/service_instances/");
    assert_eq!(provisions.iter().filter(|(_, path, _)| !path.contains("service_bindings")).count(), 3);
    assert!(broker.instances.lock().unwrap().is_empty(), "every instance deprovisioned at the broker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_dropping_reused_connections_loses_no_call() {
    let platform = TestPlatform::start("local:").await;
    let (app, broker) = broker_app();
    let (url, dropped) = serve_once_per_connection(app).await;
    lifecycle(&platform, &url, &broker).await;
    // The CC reused connections (the broker dropped requests on them) and
    // sent each of those again.
    let dropped = dropped.load(Ordering::SeqCst);
    assert!(dropped >= 5, "the CC kept connections open between calls ({dropped} dropped)");
    let metrics = platform.metrics(&platform.api).await;
    let retried = metrics.get(r#"wf_cc_broker_requests_total{outcome="retried"}"#).copied().unwrap_or(0.0);
    assert!(retried >= dropped as f64, "{retried} retried for {dropped} dropped");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_s_error_says_why() {
    let platform = TestPlatform::start("local:").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{closed}");
    let (status, body) = platform.api(Method::POST, "/v2/service_brokers", Some(&registration("gone", &url))).await;
    assert_eq!((status, body["error_code"].as_str()), (502, Some("CF-ServiceBrokerApiUnreachable")), "{body}");
    let description = body["description"].as_str().unwrap();
    assert!(description.contains(&url) && description.contains("Connection refused"), "{description}");
    platform.shutdown().await;
}

/// The broker over HTTPS with a self-signed certificate of its own.
async fn serve_over_tls(app: axum::Router) -> String {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let files = wasmfoundry::config::CertificateFiles {
        cert_chain: dir.path().join("broker.crt"),
        private_key: dir.path().join("broker.key"),
    };
    std::fs::write(&files.cert_chain, made.cert.pem()).unwrap();
    std::fs::write(&files.private_key, made.signing_key.serialize_pem()).unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", tcp.local_addr().unwrap());
    let config = wasmfoundry::tls::server_config(wasmfoundry::tls::Certificates::Files(vec![files])).unwrap();
    let listener = wasmfoundry::tls::Listener::new(tcp, config).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_over_https_needs_a_certificate_the_cc_trusts_or_skipped_validation() {
    let (app, broker) = broker_app();
    let url = serve_over_tls(app).await;

    let checking = TestPlatform::start("local:").await;
    let (status, body) = checking.api(Method::POST, "/v2/service_brokers", Some(&registration("tls", &url))).await;
    assert_eq!((status, body["error_code"].as_str()), (502, Some("CF-ServiceBrokerApiUnreachable")), "{body}");
    let description = body["description"].as_str().unwrap();
    assert!(description.contains("certificate"), "the error names the certificate: {description}");
    assert!(broker.requests.lock().unwrap().is_empty(), "nothing reached the broker");
    checking.shutdown().await;

    let skipping = TestPlatform::start_configured("local:", None, |config| {
        config.broker_skip_ssl_validation = true;
    })
    .await;
    lifecycle(&skipping, &url, &broker).await;
    skipping.shutdown().await;
}
