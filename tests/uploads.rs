//! App bits done right: uploads over the limit, zip bombs and corrupt zips
//! are refused (synchronously or as a failed job) without touching the
//! package already stored; expired tokens, domains and duplicate names get
//! CF's errors.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{TestPlatform, app_dir, eventually};
use reqwest::Method;
use serde_json::{Value, json};

fn zip_with(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, contents) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(contents).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// The app's stored package, as `GET /v2/apps/:guid/download` gives it.
async fn package(platform: &TestPlatform, guid: &str) -> bytes::Bytes {
    let request = platform.http.get(format!("{}/v2/apps/{guid}/download", platform.api));
    request.bearer_auth(platform.token().await).send().await.unwrap().bytes().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_fail_cleanly_and_keep_the_previous_package() {
    let platform = TestPlatform::start_configured("local:", None, |c| c.max_upload_size = 256 * 1024).await;
    platform.login().await;
    platform.push("keep", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "32M"]).await;
    let guid = platform.app_guid("keep").await;
    let before = package(&platform, &guid).await;
    assert!(before.len() > 1000, "the package is there");

    // Over the configured maximum.
    let (status, body) = platform.put_bits(&guid, vec![7u8; 300 * 1024], false).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(160001)), "{body}");
    assert!(body["description"].as_str().unwrap().contains("maximum"), "{body}");

    // A zip bomb: 200 MB of zeros in a few hundred KB.
    let bomb = zip_with(&[("zeros.bin", vec![0u8; 200 * 1024 * 1024])]);
    assert!(bomb.len() < 256 * 1024, "the bomb itself fits the limit");
    let (status, job) = platform.put_bits(&guid, bomb, true).await;
    assert_eq!(status, 201, "{job}");
    let job_url = job["metadata"]["url"].as_str().unwrap().to_string();
    let (p, url) = (&platform, &job_url);
    let failed = eventually("the bomb's job fails", Duration::from_secs(20), || async move {
        let job = p.get(url).await;
        (job["entity"]["status"] == "failed").then_some(job)
    })
    .await;
    assert_eq!(failed["entity"]["error_details"]["error_code"], "CF-AppBitsUploadInvalid", "{failed}");

    // Links out of the app, and a corrupt archive.
    let (status, body) = platform.put_bits(&guid, zip_with(&[("/etc/passwd", b"x".to_vec())]), false).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(160001)), "{body}");
    let (status, body) = platform.put_bits(&guid, b"PK\x05\x06 not really".to_vec(), false).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(160001)), "{body}");

    assert_eq!(before, package(&platform, &guid).await, "the stored package is untouched");
    assert_eq!(platform.via_router("keep.localhost", "/").await.0, 200);
    platform.shutdown().await;
}

on_both_databases!(tokens_domains_and_taken_names, super::tokens_domains_and_taken_names);

async fn tokens_domains_and_taken_names(platform: TestPlatform) {
    // A second CC on the same CCDB accepts the first one's tokens.
    let other = wasmfoundry::server::Platform::start(
        wasmfoundry::config::Config {
            data_dir: platform.dir.path().join("other-cc"),
            database_url: Some(platform.database_url.clone()),
            cc_listen: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        },
        &[wasmfoundry::server::Role::Cc],
    )
    .await
    .unwrap();
    let response = platform
        .http
        .get(format!("http://{}/v2/apps", other.cc_address.unwrap()))
        .bearer_auth(platform.token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    other.shutdown().await;

    // A token signed with the real key but expired is refused.
    let db = wasmfoundry::ccdb::connect(&platform.database_url).await.unwrap();
    let secret: String = sqlx::query_scalar("SELECT value FROM cc_secrets WHERE name = 'token_signing_key'")
        .fetch_one(&db)
        .await
        .unwrap();
    let secret = secret.into_bytes();
    let claims = json!({"jti": "x", "sub": "x", "user_id": "x", "user_name": "admin", "email": "admin", "scope": [],
        "client_id": "cf", "cid": "cf", "grant_type": "password", "iat": 0, "exp": chrono::Utc::now().timestamp() - 60,
        "iss": "x", "aud": ["cloud_controller"], "zid": "uaa", "origin": "uaa"});
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap();
    let response = platform.http.get(format!("{}/v2/apps", platform.api)).bearer_auth(expired).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.json::<Value>().await.unwrap()["error_code"], "CF-InvalidAuthToken");

    let post = |path: &'static str, body: Value| {
        let platform = &platform;
        async move { platform.api(Method::POST, path, Some(&body.to_string())).await }
    };
    let (status, domain) = post("/v2/shared_domains", json!({"name": "apps.example.com"})).await;
    assert_eq!(status, 201, "{domain}");
    let (status, body) = post("/v2/shared_domains", json!({"name": "apps.example.com"})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(130003)));
    let (status, body) = post("/v2/shared_domains", json!({"name": "not a domain"})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(130001)));
    let org = platform.get("/v2/organizations").await["resources"][0]["metadata"]["guid"].as_str().unwrap().to_string();
    let (status, private) =
        post("/v2/private_domains", json!({"name": "mine.example.org", "owning_organization_guid": org})).await;
    assert_eq!(status, 201, "{private}");
    assert_eq!(platform.get(&format!("/v2/organizations/{org}/private_domains")).await["total_results"], 1);

    let (status, body) = post("/v2/organizations", json!({"name": "default"})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(30002)));
    let (status, body) = post("/v2/spaces", json!({"name": "dev", "organization_guid": org})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(40002)));
    let space = platform.get("/v2/spaces").await["resources"][0]["metadata"]["guid"].as_str().unwrap().to_string();
    let domain_guid = domain["metadata"]["guid"].as_str().unwrap();
    let route = json!({"host": "www", "domain_guid": domain_guid, "space_guid": space});
    assert_eq!(post("/v2/routes", route.clone()).await.0, 201);
    let (status, body) = post("/v2/routes", route).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(210003)));
    let (status, body) = platform.api(Method::DELETE, &format!("/v2/shared_domains/{domain_guid}"), None).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(10006)), "a domain with routes stays");
    platform.shutdown().await;
}
