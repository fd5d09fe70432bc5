//! Route services end to end: a user-provided instance with a
//! `route_service_url` bound to an app's route (`cf bind-route-service`:
//! v2's `PUT /v2/user_provided_service_instances/:guid/routes/:route`, v3's
//! `/v3/service_route_bindings`) makes the router send the route's requests
//! to the route service first, signed; the service sends them on to the
//! forwarded url and the router lets the signed request through to the
//! app. A request with a forged signature still goes to the service;
//! unbinding takes it out of the path.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::IntoResponse;
use common::v3::Cf;
use common::{TestPlatform, eventually, repo};
use reqwest::Method;
use serde_json::{Value, json};

/// What the route service saw: each request's `X-CF-Forwarded-Url` and
/// body length.
#[derive(Clone)]
struct RouteService {
    router: String,
    forwarded: Arc<Mutex<Vec<(String, usize)>>>,
}

/// Refuses `/blocked`; sends everything else on to the forwarded url
/// (through the router, with the signature headers), marking the answer.
async fn route_service(State(service): State<RouteService>, request: Request) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let forwarded = header("x-cf-forwarded-url");
    service.forwarded.lock().unwrap().push((forwarded.clone(), body.len()));
    let url = url::Url::parse(&forwarded).unwrap();
    if url.path() == "/blocked" {
        return (axum::http::StatusCode::FORBIDDEN, "blocked by the route service").into_response();
    }
    let through_router = format!("{}{}", service.router, &forwarded[url.origin().ascii_serialization().len()..]);
    let answer = reqwest::Client::new()
        .request(parts.method.clone(), through_router)
        .body(body)
        .header("host", url.host_str().unwrap())
        .header("x-cf-forwarded-url", &forwarded)
        .header("x-cf-proxy-signature", header("x-cf-proxy-signature"))
        .header("x-cf-proxy-metadata", header("x-cf-proxy-metadata"))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let body = answer.text().await.unwrap();
    let mut response = (axum::http::StatusCode::from_u16(status).unwrap(), body).into_response();
    response.headers_mut().insert("x-route-service", "seen".parse().unwrap());
    response
}

async fn start_route_service(router: &str) -> (String, RouteService) {
    let service = RouteService { router: router.to_string(), forwarded: Arc::default() };
    let app = axum::Router::new().fallback(route_service).with_state(service.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, service)
}

/// A request to the app's route: its status, whether it went through the
/// route service, and its body.
async fn through(platform: &TestPlatform, path: &str, signature: Option<&str>) -> (u16, bool, String) {
    sent_through(platform, Method::GET, path, signature, Vec::new()).await
}

async fn sent_through(
    platform: &TestPlatform,
    method: Method,
    path: &str,
    signature: Option<&str>,
    body: Vec<u8>,
) -> (u16, bool, String) {
    let url = format!("{}{path}", platform.router);
    let mut request = platform.http.request(method, url).header("host", "guarded.localhost").body(body);
    if let Some(signature) = signature {
        request = request.header("x-cf-proxy-signature", signature);
    }
    let response = request.send().await.unwrap();
    let seen = response.headers().get("x-route-service").is_some();
    (response.status().as_u16(), seen, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_service_sees_every_request_of_a_bound_route() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("guarded", &repo().join("examples/hello-http"), &["-m", "32M"]).await;
    let app = platform.app_guid("guarded").await;
    let cf = Cf { platform: &platform, token: platform.token().await };
    let space = platform.get(&format!("/v2/apps/{app}")).await["entity"]["space_guid"].clone();
    let route = cf.expect(Method::GET, &format!("/v3/apps/{app}/routes"), None, 200).await["resources"][0]["guid"]
        .as_str()
        .unwrap()
        .to_string();
    let (url, service) = start_route_service(&platform.router).await;

    // cf create-user-provided-service guard -r URL: https, or http to loopback only.
    let ups = |name: &str, url: &str| json!({"name": name, "space_guid": space, "route_service_url": url}).to_string();
    let (status, refused) = platform
        .api(Method::POST, "/v2/user_provided_service_instances", Some(&ups("far", "http://example.com/")))
        .await;
    assert_eq!((status, refused["error_code"].as_str()), (400, Some("CF-ServiceInstanceRouteServiceURLInvalid")));
    let (status, guard) =
        platform.api(Method::POST, "/v2/user_provided_service_instances", Some(&ups("guard", &url))).await;
    assert_eq!(status, 201, "{guard}");
    let guard = guard["metadata"]["guid"].as_str().unwrap().to_string();
    let (_, plain) = platform.api(Method::POST, "/v2/user_provided_service_instances", Some(&ups("plain", ""))).await;
    let plain = plain["metadata"]["guid"].as_str().unwrap().to_string();

    // cf bind-route-service localhost --hostname guarded guard (cf7 sends v2's PUT).
    let (status, error) =
        platform.api(Method::PUT, &format!("/v2/user_provided_service_instances/{plain}/routes/{route}"), None).await;
    assert_eq!((status, error["error_code"].as_str()), (400, Some("CF-ServiceDoesNotSupportRoutes")), "{error}");
    let bind = format!("/v2/user_provided_service_instances/{guard}/routes/{route}");
    let (status, bound) = platform.api(Method::PUT, &bind, None).await;
    assert_eq!(status, 201, "{bound}");
    let (status, again) = platform.api(Method::PUT, &bind, None).await;
    assert_eq!((status, again["error_code"].as_str()), (400, Some("CF-ServiceInstanceAlreadyBoundToSameRoute")));

    // The app answers through the route service; what it refuses never reaches the app.
    let platform_ref = &platform;
    let body = eventually("requests go through the route service", Duration::from_secs(30), || async move {
        let (status, seen, body) = through(platform_ref, "/hello?x=1", None).await;
        (status == 200 && seen).then_some(body)
    })
    .await;
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["vcap_application"]["application_name"], "guarded", "the app answered: {body}");
    assert!(service.forwarded.lock().unwrap().contains(&("http://guarded.localhost/hello?x=1".to_string(), 0)));
    // A request's body goes through the route service whole, both ways.
    let (status, seen, _) = sent_through(&platform, Method::POST, "/upload", None, vec![b'x'; 100_000]).await;
    assert_eq!((status, seen), (200, true));
    assert!(service.forwarded.lock().unwrap().contains(&("http://guarded.localhost/upload".to_string(), 100_000)));
    let (status, seen, body) = through(&platform, "/blocked", None).await;
    assert_eq!((status, seen, body.as_str()), (403, false, "blocked by the route service"));
    // A forged signature does not get past it.
    let (status, seen, _) = through(&platform, "/", Some("forged")).await;
    assert_eq!((status, seen), (200, true), "a forged signature goes to the route service too");

    // v3 sees the binding; unbinding (v2 DELETE) takes the service out of the path.
    let listed = cf.expect(Method::GET, &format!("/v3/service_route_bindings?route_guids={route}"), None, 200).await;
    assert_eq!(listed["resources"][0]["route_service_url"], url.as_str(), "{listed}");
    assert_eq!(listed["resources"][0]["relationships"]["service_instance"]["data"]["guid"], guard.as_str());
    assert_eq!(platform.api(Method::DELETE, &bind, None).await.0, 204);
    eventually("requests go straight to the app", Duration::from_secs(30), || async move {
        let (status, seen, _) = through(platform_ref, "/", None).await;
        (status == 200 && !seen).then_some(())
    })
    .await;

    // cf v8's bind-route-service: v3's service route bindings, 201 and 204 for a user-provided instance.
    let binding =
        json!({"relationships": {"route": {"data": {"guid": route}}, "service_instance": {"data": {"guid": guard}}}});
    let binding = cf.expect(Method::POST, "/v3/service_route_bindings", Some(binding), 201).await;
    eventually("through the route service again", Duration::from_secs(30), || async move {
        (through(platform_ref, "/", None).await.1).then_some(())
    })
    .await;
    let path = format!("/v3/service_route_bindings/{}", binding["guid"].as_str().unwrap());
    assert_eq!(cf.send(Method::DELETE, &path, None).await.0, 204);
    assert_eq!(cf.send(Method::GET, &path, None).await.0, 404);
    eventually("straight to the app again", Duration::from_secs(30), || async move {
        (!through(platform_ref, "/", None).await.1).then_some(())
    })
    .await;
    platform.shutdown().await;
}
