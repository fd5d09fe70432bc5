//! Admin buildpacks (create, order, upload, lock) and an app's extras:
//! its env, restage, and downloading its package and droplet.

mod common;

use std::time::Duration;

use common::{TestPlatform, app_dir, eventually, repo};
use reqwest::Method;
use serde_json::{Value, json};

async fn upload_buildpack(platform: &TestPlatform, guid: &str, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .part("buildpack", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let response = platform
        .http
        .put(format!("{}/v2/buildpacks/{guid}/bits", platform.api))
        .bearer_auth(platform.token().await)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn zip_of(name: &str, contents: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
    writer.write_all(contents).unwrap();
    writer.finish().unwrap().into_inner()
}

on_both_databases!(
    admin_buildpacks_are_ordered_uploaded_locked_and_used,
    super::admin_buildpacks_are_ordered_uploaded_locked_and_used
);

async fn admin_buildpacks_are_ordered_uploaded_locked_and_used(platform: TestPlatform) {
    let (status, created) =
        platform.api(Method::POST, "/v2/buildpacks", Some(&json!({"name": "custom", "position": 1}).to_string())).await;
    assert_eq!(status, 201, "{created}");
    let guid = created["metadata"]["guid"].as_str().unwrap().to_string();
    let listed = platform.get("/v2/buildpacks?order-by=position").await;
    let names: Vec<&str> =
        listed["resources"].as_array().unwrap().iter().map(|b| b["entity"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["custom", "wasm_buildpack", "staticfile_buildpack"]);
    let (status, body) = platform.api(Method::POST, "/v2/buildpacks", Some(r#"{"name": "custom"}"#)).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(290001)));
    let (status, body) = platform.api(Method::POST, "/v2/buildpacks", Some(r#"{"name": "bad name!"}"#)).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(290003)));

    let (status, body) = upload_buildpack(&platform, &guid, "notes.txt", b"not a component".to_vec()).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(290002)), "{body}");
    let wasm = std::fs::read(repo().join("buildpacks-wasm/wasm_buildpack.wasm")).unwrap();
    let (status, body) = upload_buildpack(&platform, &guid, "custom.zip", zip_of("bin/custom.wasm", &wasm)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["entity"]["filename"], "custom.zip");

    // The app names the buildpack; staging uses it without detection.
    platform.login().await;
    let out = platform
        .push("picky", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-b", "custom", "-m", "32M"])
        .await;
    assert!(out.contains("custom detected custom"), "{out}");
    let app = platform.app_guid("picky").await;
    let entity = platform.get(&format!("/v2/apps/{app}")).await["entity"].clone();
    assert_eq!(entity["detected_buildpack_guid"], guid.as_str());

    let (status, _) = platform.api(Method::PUT, &format!("/v2/buildpacks/{guid}"), Some(r#"{"locked": true}"#)).await;
    assert_eq!(status, 201);
    let (status, body) = upload_buildpack(&platform, &guid, "custom.wasm", wasm.clone()).await;
    assert_eq!((status, body["error_code"].as_str()), (409, Some("CF-BuildpackLocked")));
    let (status, _) = platform.api(Method::PUT, &format!("/v2/buildpacks/{guid}"), Some(r#"{"position": 5}"#)).await;
    assert_eq!(status, 201);
    let listed = platform.get("/v2/buildpacks?order-by=position").await;
    assert_eq!(listed["resources"][2]["entity"]["name"], "custom", "moved last");
    assert_eq!(listed["resources"][2]["entity"]["position"], 3);
    platform.shutdown().await;
}

on_both_databases!(env_restage_and_downloads, super::env_restage_and_downloads);

async fn env_restage_and_downloads(platform: TestPlatform) {
    platform.login().await;
    platform.push("again", app_dir(&["examples/hello-http/hello_http.wasm"]).path(), &["-m", "32M"]).await;
    let guid = platform.app_guid("again").await;
    let (status, _) = platform
        .api(Method::PUT, &format!("/v2/apps/{guid}"), Some(r#"{"environment_json": {"GREETING": "hi"}}"#))
        .await;
    assert_eq!(status, 201);
    let env = platform.get(&format!("/v2/apps/{guid}/env")).await;
    assert_eq!(env["environment_json"]["GREETING"], "hi");
    assert_eq!(env["application_env_json"]["VCAP_APPLICATION"]["application_name"], "again");
    assert_eq!(env["system_env_json"]["VCAP_SERVICES"], json!({}));

    let package = platform
        .http
        .get(format!("{}/v2/apps/{guid}/download", platform.api))
        .bearer_auth(platform.token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(package.status().as_u16(), 200);
    let zip = zip::ZipArchive::new(std::io::Cursor::new(package.bytes().await.unwrap().to_vec())).unwrap();
    assert!(zip.file_names().any(|n| n == "hello_http.wasm"));
    let droplet = platform
        .http
        .get(format!("{}/v2/apps/{guid}/droplet/download", platform.api))
        .bearer_auth(platform.token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(droplet.status().as_u16(), 200);
    assert_eq!(droplet.bytes().await.unwrap()[..2], [0x1f, 0x8b], "a gzip");

    let (status, restaged) = platform.api(Method::POST, &format!("/v2/apps/{guid}/restage"), None).await;
    assert_eq!(status, 201, "{restaged}");
    let (p, g) = (&platform, &guid);
    eventually("restaged and running again", Duration::from_secs(30), || async move {
        let app = p.get(&format!("/v2/apps/{g}")).await;
        if app["entity"]["package_state"] != "STAGED" {
            return None;
        }
        let i = p.instances(g).await;
        (i["0"]["state"] == "RUNNING").then_some(())
    })
    .await;
    let (status, body) = platform.via_router("again.localhost", "/").await;
    assert_eq!(status, 200, "{body}");
    let events = platform.get(&format!("/v2/events?q=actee%3A{guid}&q=type%3Aaudit.app.restage")).await;
    assert_eq!(events["total_results"], 1);
    platform.shutdown().await;
}
