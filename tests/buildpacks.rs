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
    assert_eq!(names, ["custom", "wasm_buildpack", "js_buildpack", "python_buildpack", "staticfile_buildpack"]);
    let (status, body) = platform.api(Method::POST, "/v2/buildpacks", Some(r#"{"name": "custom"}"#)).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(290001)));
    let (status, body) = platform.api(Method::POST, "/v2/buildpacks", Some(r#"{"name": "bad name!"}"#)).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(290003)));

    // cf create-buildpack makes the record, then uploads: bits that are no
    // buildpack leave no record behind.
    let (status, body) = upload_buildpack(&platform, &guid, "notes.txt", b"not a component".to_vec()).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(290002)), "{body}");
    assert_eq!(platform.api(Method::GET, &format!("/v2/buildpacks/{guid}"), None).await.0, 404);
    let (status, created) =
        platform.api(Method::POST, "/v2/buildpacks", Some(&json!({"name": "custom", "position": 1}).to_string())).await;
    assert_eq!(status, 201, "{created}");
    let guid = created["metadata"]["guid"].as_str().unwrap().to_string();
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
    assert_eq!(listed["resources"][4]["entity"]["name"], "custom", "moved last");
    assert_eq!(listed["resources"][4]["entity"]["position"], 5);
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

/// The built-in buildpacks are release packages: a CC starting again
/// installs nothing new for the same SHA1, replaces an older version's bits
/// (keeping the admin's position and enabled flag), and leaves a locked one
/// alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_buildpacks_install_once_per_version_and_keep_admin_choices() {
    let platform = TestPlatform::start("local:").await;
    let find = |name: &'static str| {
        let platform = &platform;
        async move { platform.get(&format!("/v2/buildpacks?q=name:{name}")).await["resources"][0].clone() }
    };
    let wasm = find("wasm_buildpack").await;
    let manifest = std::fs::read_to_string(repo().join("buildpacks-wasm/wasm/Cargo.toml")).unwrap();
    let version = manifest.lines().find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"')).unwrap();
    assert_eq!(wasm["entity"]["filename"], format!("wasm_buildpack-v{version}.wasm"), "{wasm}");
    let guid = wasm["metadata"]["guid"].as_str().unwrap().to_string();
    let (status, _) = platform
        .api(Method::PUT, &format!("/v2/buildpacks/{guid}"), Some(r#"{"position": 2, "enabled": false}"#))
        .await;
    assert_eq!(status, 201);
    let staticfile = find("staticfile_buildpack").await["metadata"]["guid"].as_str().unwrap().to_string();
    let (status, _) =
        platform.api(Method::PUT, &format!("/v2/buildpacks/{staticfile}"), Some(r#"{"locked": true}"#)).await;
    assert_eq!(status, 201);

    // As if an older release had installed both.
    let data = platform.dir.path().join("data");
    let db = wasmfoundry::ccdb::connect(&wasmfoundry::ccdb::sqlite_url(&data.join("cc.db"))).await.unwrap();
    sqlx::query("UPDATE buildpacks SET sha1 = 'old', filename = 'old.wasm'").execute(&db).await.unwrap();
    let config = wasmfoundry::config::Config {
        data_dir: data.clone(),
        cc_listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let restart = || async {
        let cc = wasmfoundry::server::Platform::start(config.clone(), &[wasmfoundry::server::Role::Cc]).await.unwrap();
        cc.shutdown().await;
    };
    restart().await;
    let upgraded = find("wasm_buildpack").await;
    assert_eq!(upgraded["metadata"]["guid"], guid.as_str(), "the same buildpack, new bits");
    assert_eq!(upgraded["entity"]["filename"], format!("wasm_buildpack-v{version}.wasm"));
    assert_eq!(
        (upgraded["entity"]["position"].as_u64(), upgraded["entity"]["enabled"].as_bool()),
        (Some(2), Some(false))
    );
    let sha1: String =
        sqlx::query_scalar("SELECT sha1 FROM buildpacks WHERE name = 'wasm_buildpack'").fetch_one(&db).await.unwrap();
    assert_eq!(
        sha1,
        wasmfoundry::blobstore::sha1_hex(&std::fs::read(repo().join("buildpacks-wasm/wasm_buildpack.wasm")).unwrap())
    );
    let locked: String = sqlx::query_scalar("SELECT sha1 FROM buildpacks WHERE name = 'staticfile_buildpack'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(locked, "old", "a locked buildpack keeps its bits");

    // Nothing changed: starting again writes nothing.
    let before = find("wasm_buildpack").await["metadata"]["updated_at"].clone();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    restart().await;
    assert_eq!(find("wasm_buildpack").await["metadata"]["updated_at"], before);
    platform.shutdown().await;
}

/// A release that brings a new built-in buildpack puts it where the release
/// orders it, the others (an admin's too) moving down one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_builtin_buildpack_new_to_an_installation_takes_its_place_in_the_order() {
    let platform = TestPlatform::start("local:").await;
    let (status, body) =
        platform.api(Method::POST, "/v2/buildpacks", Some(&json!({"name": "custom"}).to_string())).await;
    assert_eq!(status, 201, "{body}");
    // As if the installation predated js_buildpack.
    let data = platform.dir.path().join("data");
    let db = wasmfoundry::ccdb::connect(&wasmfoundry::ccdb::sqlite_url(&data.join("cc.db"))).await.unwrap();
    sqlx::query("DELETE FROM buildpacks WHERE name = 'js_buildpack'").execute(&db).await.unwrap();
    sqlx::query("UPDATE buildpacks SET position = position - 1 WHERE position > 2").execute(&db).await.unwrap();
    let config = wasmfoundry::config::Config {
        data_dir: data.clone(),
        cc_listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let cc = wasmfoundry::server::Platform::start(config, &[wasmfoundry::server::Role::Cc]).await.unwrap();
    cc.shutdown().await;
    let listed = platform.get("/v2/buildpacks?order-by=position").await;
    let order: Vec<(String, u64)> = listed["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["entity"]["name"].as_str().unwrap().to_string(), b["entity"]["position"].as_u64().unwrap()))
        .collect();
    let expected = [
        ("wasm_buildpack", 1),
        ("js_buildpack", 2),
        ("python_buildpack", 3),
        ("staticfile_buildpack", 4),
        ("custom", 5),
    ];
    assert_eq!(order, expected.map(|(name, position)| (name.to_string(), position)));
    platform.shutdown().await;
}
