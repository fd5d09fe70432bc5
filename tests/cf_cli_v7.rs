//! Replays what the cf CLI v7 (7.3.0, built from its public source and
//! traced with CF_TRACE against `wf up`) sends through the v3 API for
//! `cf api`, `cf target`, `cf push` (apply_manifest, resource matches,
//! package upload, build, current droplet, restart), `cf logs --recent`
//! (Log Cache), `cf app`, `cf scale`, `cf set-env`, `cf stop` and
//! `cf delete` — with a real guest staged and routed — and checks that the
//! v2 API shows the same app, and v3's errors, filters and pagination.

mod common;

use std::time::Duration;

use base64::Engine;
use common::v3::{Cf, Load};
use common::{TestPlatform, eventually, repo, zip_of};
use reqwest::Method;
use serde_json::{Value, json};

on_both_databases!(cf_cli_v7_target_push_and_manage, super::cf_cli_v7_target_push_and_manage);

async fn cf_cli_v7_target_push_and_manage(platform: TestPlatform) {
    let http = &platform.http;
    let api = &platform.api;

    // cf api: the root links the v3 API, UAA and Log Cache.
    let root: Value = http.get(format!("{api}/")).send().await.unwrap().json().await.unwrap();
    assert_eq!(root["links"]["cloud_controller_v3"]["href"], format!("{api}/v3"));
    assert_eq!(root["links"]["log_cache"]["href"], *api);
    let v3: Value = http.get(format!("{api}/v3")).send().await.unwrap().json().await.unwrap();
    for link in ["apps", "organizations", "spaces", "packages", "builds", "droplets", "resource_matches", "routes"] {
        assert_eq!(v3["links"][link]["href"], format!("{api}/v3/{link}"), "/v3 links {link}");
    }
    let cf = Cf { platform: &platform, token: platform.token().await };

    // cf target -o default -s dev
    let orgs = cf.expect(Method::GET, "/v3/organizations?names=default&order_by=name", None, 200).await;
    assert_eq!(orgs["pagination"]["total_results"], 1);
    let org = orgs["resources"][0]["guid"].as_str().unwrap().to_string();
    let spaces = cf
        .expect(Method::GET, &format!("/v3/spaces?names=dev&organization_guids={org}&include=organization"), None, 200)
        .await;
    let space = spaces["resources"][0]["guid"].as_str().unwrap().to_string();
    assert_eq!(spaces["resources"][0]["relationships"]["organization"]["data"]["guid"], org);
    assert_eq!(spaces["included"]["organizations"][0]["name"], "default");

    // cf push hello -b wasm_buildpack -m 64M: the CLI's manifest first.
    let manifest =
        "applications:\n- name: hello\n  buildpacks:\n  - wasm_buildpack\n  memory: 64M\n  default-route: true\n";
    let (status, location, _) = cf
        .send(
            Method::POST,
            &format!("/v3/spaces/{space}/actions/apply_manifest"),
            Some(("application/x-yaml", manifest.into())),
        )
        .await;
    assert_eq!(status, 202);
    cf.job_completes(&location.expect("the job's Location")).await;
    let apps = cf.expect(Method::GET, &format!("/v3/apps?names=hello&space_guids={space}"), None, 200).await;
    assert_eq!(apps["pagination"]["total_results"], 1);
    let app = apps["resources"][0]["guid"].as_str().unwrap().to_string();
    assert_eq!(apps["resources"][0]["lifecycle"]["data"]["buildpacks"], json!(["wasm_buildpack"]));

    let wasm = std::fs::read(repo().join("examples/hello-http/hello_http.wasm")).unwrap();
    let sha1 = wasmfoundry::blobstore::sha1_hex(&wasm);
    let fingerprint = json!({"resources": [{"checksum": {"value": sha1}, "size_in_bytes": wasm.len(), "path": "hello_http.wasm", "mode": "644"}]});
    let matched = cf.expect(Method::POST, "/v3/resource_matches", Some(fingerprint.clone()), 201).await;
    assert_eq!(matched["resources"], json!([]), "nothing is in the pool yet");
    let package = cf
        .expect(
            Method::POST,
            "/v3/packages",
            Some(json!({"type": "bits", "relationships": {"app": {"data": {"guid": app}}}})),
            201,
        )
        .await;
    assert_eq!(package["state"], "AWAITING_UPLOAD");
    let package = package["guid"].as_str().unwrap().to_string();
    let zip = zip_of(&[("hello_http.wasm", &wasm)]);
    let form = reqwest::multipart::Form::new()
        .text("resources", "[]")
        .part("bits", reqwest::multipart::Part::bytes(zip).file_name("package.zip"));
    let response = http
        .post(format!("{api}/v3/packages/{package}/upload"))
        .bearer_auth(&cf.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let uploaded: Value = response.json().await.unwrap();
    assert_eq!(uploaded["state"], "READY", "{uploaded}");
    let matched = cf.expect(Method::POST, "/v3/resource_matches", Some(fingerprint), 201).await;
    assert_eq!(matched["resources"].as_array().unwrap().len(), 1, "the file is in the pool now");

    let build = cf.expect(Method::POST, "/v3/builds", Some(json!({"package": {"guid": package}})), 201).await;
    assert_eq!(build["state"], "STAGING");
    let build_path = format!("/v3/builds/{}", build["guid"].as_str().unwrap());
    let droplet = eventually("the build staged", Duration::from_secs(60), || async {
        let build = cf.expect(Method::GET, &build_path, None, 200).await;
        assert_ne!(build["state"], "FAILED", "{build}");
        build["droplet"]["guid"].as_str().map(str::to_string)
    })
    .await;
    let shown = cf.expect(Method::GET, &format!("/v3/droplets/{droplet}"), None, 200).await;
    assert_eq!(shown["state"], "STAGED");
    assert_eq!(shown["process_types"]["web"], "hello_http.wasm");
    assert_eq!(shown["buildpacks"][0]["name"], "wasm_buildpack");
    // cf download-droplet: the staged app as a tar.gz.
    let bits = http.get(format!("{api}/v3/droplets/{droplet}/download")).bearer_auth(&cf.token).send().await.unwrap();
    assert_eq!(bits.status(), 200);
    let droplet_bits = bits.bytes().await.unwrap().to_vec();
    assert_eq!(droplet_bits[..2], [0x1f, 0x8b], "gzip");
    // cf copy-source hello hello-copy: the package's bits, for another app, READY at once.
    let space_guid = &space;
    let copy = json!({"name": "hello-copy", "relationships": {"space": {"data": {"guid": space_guid}}}});
    let copy = cf.expect(Method::POST, "/v3/apps", Some(copy), 201).await["guid"].clone();
    let copied = json!({"relationships": {"app": {"data": {"guid": copy}}}});
    let copied = cf.expect(Method::POST, &format!("/v3/packages?source_guid={package}"), Some(copied), 201).await;
    assert_eq!(copied["state"], "READY");
    assert_eq!(copied["data"]["checksum"], uploaded["data"]["checksum"]);
    // cf push hello-copy --droplet droplet.tgz: an uploaded droplet, checked, STAGED, and run.
    let awaiting = json!({"relationships": {"app": {"data": {"guid": copy}}}});
    let awaiting = cf.expect(Method::POST, "/v3/droplets", Some(awaiting), 201).await;
    assert_eq!(awaiting["state"], "AWAITING_UPLOAD");
    let uploaded_droplet = awaiting["guid"].as_str().unwrap().to_string();
    let upload = |bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .part("bits", reqwest::multipart::Part::bytes(bytes).file_name("droplet.tgz"));
        http.post(format!("{api}/v3/droplets/{uploaded_droplet}/upload")).bearer_auth(&cf.token).multipart(form).send()
    };
    let refused = upload(zip_of(&[("hello_http.wasm", b"no droplet")])).await.unwrap();
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["errors"][0]["title"], "CF-DropletUploadInvalid", "{refused}");
    let accepted = upload(droplet_bits.clone()).await.unwrap();
    assert_eq!(accepted.status(), 202);
    cf.job_completes(accepted.headers()["location"].to_str().unwrap()).await;
    let shown = cf.expect(Method::GET, &format!("/v3/droplets/{uploaded_droplet}"), None, 200).await;
    assert_eq!(shown["state"], "STAGED");
    assert_eq!(shown["checksum"]["value"], shown_checksum(&droplet_bits));
    assert_eq!(shown["process_types"]["web"], "hello_http.wasm");
    assert_eq!(upload(droplet_bits).await.unwrap().status(), 422, "a droplet is uploaded once");
    let current = json!({"data": {"guid": uploaded_droplet}});
    let copy_path = format!("/v3/apps/{}", copy.as_str().unwrap());
    cf.expect(Method::PATCH, &format!("{copy_path}/relationships/current_droplet"), Some(current), 200).await;
    assert_eq!(cf.expect(Method::POST, &format!("{copy_path}/actions/start"), None, 200).await["state"], "STARTED");
    eventually("the uploaded droplet's instance RUNNING", Duration::from_secs(60), || async {
        let stats = cf.expect(Method::GET, &format!("/v3/processes/{}/stats", copy.as_str().unwrap()), None, 200).await;
        (stats["resources"][0]["state"] == "RUNNING").then_some(())
    })
    .await;
    // A copy of a droplet for another app: STAGED at once, the same bits.
    let copied = json!({"relationships": {"app": {"data": {"guid": copy}}}});
    let copied = cf.expect(Method::POST, &format!("/v3/droplets?source_guid={droplet}"), Some(copied), 201).await;
    assert_eq!((copied["state"].as_str(), &copied["checksum"]), (Some("STAGED"), &shown["checksum"]));
    let (_, location, _) = cf.send(Method::DELETE, &format!("/v3/apps/{}", copy.as_str().unwrap()), None).await;
    cf.job_completes(&location.unwrap()).await;
    let set = cf
        .expect(
            Method::PATCH,
            &format!("/v3/apps/{app}/relationships/current_droplet"),
            Some(json!({"data": {"guid": droplet}})),
            200,
        )
        .await;
    assert_eq!(set["data"]["guid"], droplet);
    let restarted = cf.expect(Method::POST, &format!("/v3/apps/{app}/actions/restart"), None, 200).await;
    assert_eq!(restarted["state"], "STARTED");
    let processes = cf.expect(Method::GET, &format!("/v3/apps/{app}/processes"), None, 200).await;
    assert_eq!(processes["resources"][0]["type"], "web");
    assert_eq!(processes["resources"][0]["memory_in_mb"], 64);
    let process = processes["resources"][0]["guid"].as_str().unwrap().to_string();
    let stats_path = format!("/v3/processes/{process}/stats");
    eventually("the instance RUNNING", Duration::from_secs(30), || async {
        let stats = cf.expect(Method::GET, &stats_path, None, 200).await;
        (stats["resources"][0]["state"] == "RUNNING").then_some(())
    })
    .await;
    let routes = cf.expect(Method::GET, &format!("/v3/apps/{app}/routes"), None, 200).await;
    assert_eq!(routes["resources"][0]["url"], "hello.localhost");
    assert_eq!(routes["resources"][0]["destinations"][0]["app"]["guid"], app);
    assert_eq!(platform.via_router("hello.localhost", "/").await.0, 200);
    // cf app's memory: what the instance held at most (its request's store).
    let stats = cf.expect(Method::GET, &stats_path, None, 200).await;
    let memory = stats["resources"][0]["usage"]["mem"].as_u64().unwrap();
    assert!(memory > 0 && memory <= 64 * 1024 * 1024, "{stats}");
    let current = cf.expect(Method::GET, &format!("/v3/apps/{app}/droplets/current"), None, 200).await;
    assert_eq!(current["guid"], droplet);

    // The staging log, as `cf push` and `cf logs --recent` read it from Log Cache.
    let info: Value = http.get(format!("{api}/api/v1/info")).send().await.unwrap().json().await.unwrap();
    assert!(info["version"].as_str().unwrap() >= "2.1.0");
    let read = cf
        .expect(
            Method::GET,
            &format!("/api/v1/read/{app}?start_time=0&envelope_types=LOG&limit=1000&descending=true"),
            None,
            200,
        )
        .await;
    let lines: Vec<String> = read["envelopes"]["batch"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tags"]["source_type"] == "STG")
        .map(|e| {
            String::from_utf8(
                base64::engine::general_purpose::STANDARD.decode(e["log"]["payload"].as_str().unwrap()).unwrap(),
            )
            .unwrap()
        })
        .collect();
    assert!(!lines.is_empty(), "staging logged: {read}");

    // cf scale hello -i 2; v2 shows the same app.
    let scaled = cf
        .expect(
            Method::POST,
            &format!("/v3/apps/{app}/processes/web/actions/scale"),
            Some(json!({"instances": 2})),
            202,
        )
        .await;
    assert_eq!(scaled["instances"], 2);
    eventually("2 instances RUNNING", Duration::from_secs(30), || async {
        let stats = cf.expect(Method::GET, &stats_path, None, 200).await;
        (stats["resources"].as_array().unwrap().iter().filter(|i| i["state"] == "RUNNING").count() == 2).then_some(())
    })
    .await;
    let v2 = cf.expect(Method::GET, &format!("/v2/apps/{app}"), None, 200).await;
    assert_eq!(
        (&v2["entity"]["name"], &v2["entity"]["instances"], &v2["entity"]["memory"], &v2["entity"]["state"]),
        (&json!("hello"), &json!(2), &json!(64), &json!("STARTED"))
    );

    // cf set-env hello GREETING hi; cf env hello
    cf.expect(
        Method::PATCH,
        &format!("/v3/apps/{app}/environment_variables"),
        Some(json!({"var": {"GREETING": "hi"}})),
        200,
    )
    .await;
    let env = cf.expect(Method::GET, &format!("/v3/apps/{app}/env"), None, 200).await;
    assert_eq!(env["environment_variables"]["GREETING"], "hi");
    assert_eq!(env["application_env_json"]["VCAP_APPLICATION"]["application_name"], "hello");
    let v2 = cf.expect(Method::GET, &format!("/v2/apps/{app}"), None, 200).await;
    assert_eq!(v2["entity"]["environment_json"]["GREETING"], "hi");

    // cf push (v8) first asks what the manifest would change; cf create-app-manifest.
    let manifest =
        "applications:\n- name: hello\n  memory: 64M\n  instances: 3\n  routes:\n  - route: hello.localhost\n";
    let (status, _, diff) = cf
        .send(Method::POST, &format!("/v3/spaces/{space}/manifest_diff"), Some(("application/x-yaml", manifest.into())))
        .await;
    assert_eq!(status, 201, "{diff}");
    assert_eq!(diff["diff"], json!([{"op": "replace", "path": "/applications/0/instances", "was": 2, "value": 3}]));
    let (status, _, _) = cf.send(Method::GET, &format!("/v3/apps/{app}/manifest"), None).await;
    assert_eq!(status, 200);

    // Labels, label selectors, pagination and v3's errors.
    cf.expect(Method::PATCH, &format!("/v3/apps/{app}"), Some(json!({"metadata": {"labels": {"env": "prod"}}})), 200)
        .await;
    for (selector, count) in [("env=prod", 1), ("env!=prod", 0), ("env", 1), ("!env", 0), ("env in (dev,prod)", 1)] {
        let page = cf.expect(Method::GET, &format!("/v3/apps?label_selector={}", urlencode(selector)), None, 200).await;
        assert_eq!(page["pagination"]["total_results"], count, "label_selector={selector}");
    }
    for name in ["second", "third"] {
        let body = json!({"name": name, "relationships": {"space": {"data": {"guid": space}}}});
        assert_eq!(cf.expect(Method::POST, "/v3/apps", Some(body), 201).await["state"], "STOPPED");
    }
    let page = cf.expect(Method::GET, "/v3/apps?per_page=2&order_by=-name", None, 200).await;
    assert_eq!(page["pagination"]["total_pages"], 2);
    assert_eq!(page["resources"][0]["name"], "third");
    assert!(page["pagination"]["next"]["href"].as_str().unwrap().contains("page=2"));
    let last = page["pagination"]["last"]["href"].as_str().unwrap().trim_start_matches(api.as_str()).to_string();
    let page2 = cf.expect(Method::GET, &last, None, 200).await;
    assert_eq!(page2["resources"][0]["name"], "hello");
    assert!(page2["pagination"]["next"].is_null());
    let taken = json!({"name": "hello", "relationships": {"space": {"data": {"guid": space}}}});
    assert_eq!(cf.error(Method::POST, "/v3/apps", Some(taken)).await, (422, "CF-UnprocessableEntity".into()));
    assert_eq!(cf.error(Method::GET, "/v3/apps?colour=red", None).await, (400, "CF-BadQueryParameter".into()));
    assert_eq!(cf.error(Method::GET, "/v3/apps?per_page=0", None).await, (400, "CF-BadQueryParameter".into()));
    assert_eq!(cf.error(Method::GET, "/v3/apps/no-such-app", None).await, (404, "CF-ResourceNotFound".into()));
    assert_eq!(
        cf.error(Method::POST, "/v3/apps", Some(json!({"name": ""}))).await,
        (422, "CF-UnprocessableEntity".into())
    );

    // cf stop hello; cf delete hello
    let stopped = cf.expect(Method::POST, &format!("/v3/apps/{app}/actions/stop"), None, 200).await;
    assert_eq!(stopped["state"], "STOPPED");
    eventually("no instance left", Duration::from_secs(30), || async {
        let stats = cf.expect(Method::GET, &stats_path, None, 200).await;
        stats["resources"].as_array().unwrap().iter().all(|i| i["state"] == "DOWN").then_some(())
    })
    .await;
    let (status, location, _) = cf.send(Method::DELETE, &format!("/v3/apps/{app}"), None).await;
    assert_eq!(status, 202);
    cf.job_completes(&location.unwrap()).await;
    assert_eq!(cf.error(Method::GET, &format!("/v3/apps/{app}"), None).await, (404, "CF-ResourceNotFound".into()));
    cf.expect(Method::GET, &format!("/v2/apps/{app}"), None, 404).await;
    assert_eq!(
        cf.error(Method::GET, &format!("/v3/packages/{package}"), None).await.0,
        404,
        "its packages went with it"
    );
    platform.shutdown().await;
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `cf push --strategy rolling` (a new droplet) under load, then a rolling
/// restart cancelled halfway: no request fails, and the app ends on its
/// previous droplet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_deployment_serves_every_request_and_can_be_cancelled() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("roll", &repo().join("examples/hello-http"), &["-i", "2", "-m", "64M"]).await;
    let app = platform.app_guid("roll").await;
    let cf = Cf { platform: &platform, token: platform.token().await };
    // v3 sees what the v2 push made: its package and the droplet staged from it.
    let first_droplet = cf.expect(Method::GET, &format!("/v3/apps/{app}/droplets/current"), None, 200).await;
    assert_eq!(first_droplet["buildpacks"][0]["name"], "wasm_buildpack", "{first_droplet}");
    let packages = cf.expect(Method::GET, &format!("/v3/apps/{app}/packages"), None, 200).await;
    assert_eq!(packages["resources"][0]["state"], "READY");
    assert_eq!(
        first_droplet["links"]["package"]["href"],
        format!("{}/v3/packages/{}", platform.api, packages["resources"][0]["guid"].as_str().unwrap())
    );

    // What cf7 push --strategy rolling sends: a package, a build, then a deployment of its droplet.
    let package = cf
        .expect(
            Method::POST,
            "/v3/packages",
            Some(json!({"type": "bits", "relationships": {"app": {"data": {"guid": app}}}})),
            201,
        )
        .await["guid"]
        .as_str()
        .unwrap()
        .to_string();
    let wasm = std::fs::read(repo().join("examples/hello-http/hello_http.wasm")).unwrap();
    let zip = zip_of(&[("hello_http.wasm", &wasm), ("VERSION", b"2")]);
    let form = reqwest::multipart::Form::new().part("bits", reqwest::multipart::Part::bytes(zip).file_name("p.zip"));
    let url = format!("{}/v3/packages/{package}/upload", platform.api);
    assert_eq!(platform.http.post(url).bearer_auth(&cf.token).multipart(form).send().await.unwrap().status(), 200);

    let load = Load::start(&platform, "roll.localhost");
    let build = cf.expect(Method::POST, "/v3/builds", Some(json!({"package": {"guid": package}})), 201).await;
    let build_path = format!("/v3/builds/{}", build["guid"].as_str().unwrap());
    let droplet = eventually("the build staged", Duration::from_secs(60), || async {
        let build = cf.expect(Method::GET, &build_path, None, 200).await;
        assert_ne!(build["state"], "FAILED", "{build}");
        build["droplet"]["guid"].as_str().map(str::to_string)
    })
    .await;
    let deployment = cf
        .expect(
            Method::POST,
            "/v3/deployments",
            Some(json!({"droplet": {"guid": droplet}, "relationships": {"app": {"data": {"guid": app}}}})),
            201,
        )
        .await;
    assert_eq!(deployment["droplet"]["guid"], droplet);
    let deployment_path = format!("/v3/deployments/{}", deployment["guid"].as_str().unwrap());
    eventually("DEPLOYED", Duration::from_secs(60), || async {
        let deployment = cf.expect(Method::GET, &deployment_path, None, 200).await;
        assert_ne!(deployment["state"], "CANCELED", "{deployment}");
        (deployment["state"] == "DEPLOYED").then_some(())
    })
    .await;
    let current = cf.expect(Method::GET, &format!("/v3/apps/{app}/droplets/current"), None, 200).await;
    assert_eq!(current["guid"], droplet);
    let active =
        cf.expect(Method::GET, &format!("/v3/deployments?app_guids={app}&status_values=ACTIVE"), None, 200).await;
    assert_eq!(active["pagination"]["total_results"], 0, "none active once deployed");

    // cf restart --strategy rolling, cancelled at once: back to a version of the same droplet, still serving.
    let restart = cf
        .expect(Method::POST, "/v3/deployments", Some(json!({"relationships": {"app": {"data": {"guid": app}}}})), 201)
        .await;
    let restart_path = format!("/v3/deployments/{}", restart["guid"].as_str().unwrap());
    let (status, _, cancelled) = cf.send(Method::POST, &format!("{restart_path}/actions/cancel"), None).await;
    if status == 200 {
        assert_eq!(cancelled["state"], "CANCELED", "{cancelled}");
        assert_eq!(cancelled["status"]["reason"], "CANCELED");
    } else {
        // It finished before the cancel came: CF refuses to cancel a finished deployment.
        assert_eq!(status, 422, "{cancelled}");
    }
    eventually("2 instances of the app's version RUNNING", Duration::from_secs(60), || async {
        let stats = cf.expect(Method::GET, &format!("/v3/processes/{app}/stats"), None, 200).await;
        (stats["resources"].as_array().unwrap().iter().filter(|i| i["state"] == "RUNNING").count() == 2).then_some(())
    })
    .await;
    let (served, failed) = load.stop().await;
    assert!(served > 50, "the load ran: {served} requests");
    assert_eq!(failed, 0, "no request failed during the deployments ({served} served)");
    platform.shutdown().await;
}

on_both_databases!(cf_cli_v7_manages_orgs_spaces_users_and_roles, super::cf_cli_v7_manages_orgs_spaces_users_and_roles);

/// `cf create-org`, `create-space`, `create-user`, `set-org-role`,
/// `set-space-role`, `org-users`, `org-quotas`, `feature-flags`,
/// `delete-user` and `delete-org` as the cf CLI v7 sends them.
async fn cf_cli_v7_manages_orgs_spaces_users_and_roles(platform: TestPlatform) {
    let cf = Cf { platform: &platform, token: platform.token().await };
    let org = cf.expect(Method::POST, "/v3/organizations", Some(json!({"name": "acme"})), 201).await;
    let org = org["guid"].as_str().unwrap().to_string();
    let quotas = cf.expect(Method::GET, &format!("/v3/organization_quotas?organization_guids={org}"), None, 200).await;
    let applied_to = quotas["resources"][0]["relationships"]["organizations"]["data"].as_array().unwrap();
    assert!(applied_to.contains(&json!({"guid": org})), "the default quota applies to the new org: {quotas}");
    let shown = cf.expect(Method::GET, &format!("/v3/organizations/{org}"), None, 200).await;
    assert_eq!(shown["relationships"]["quota"]["data"]["guid"], quotas["resources"][0]["guid"]);
    let taken = cf.error(Method::POST, "/v3/organizations", Some(json!({"name": "acme"}))).await;
    assert_eq!(taken, (422, "CF-UnprocessableEntity".into()));
    let space = cf
        .expect(
            Method::POST,
            "/v3/spaces",
            Some(json!({"name": "web", "relationships": {"organization": {"data": {"guid": org}}}})),
            201,
        )
        .await;
    let space = space["guid"].as_str().unwrap().to_string();

    // cf space: the security groups that apply to it (the platform's defaults here).
    let running = cf.expect(Method::GET, &format!("/v3/spaces/{space}/running_security_groups"), None, 200).await;
    let names: Vec<&str> =
        running["resources"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"public_networks") && names.contains(&"dns"), "{running}");

    // cf create-user: UAA makes the login, the CC its record.
    let (status, created) = platform
        .api(
            Method::POST,
            "/Users",
            Some(&json!({"userName": "alice", "password": "pw123", "emails": [{"value": "alice"}]}).to_string()),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let alice = created["id"].as_str().unwrap().to_string();
    assert_eq!(cf.expect(Method::POST, "/v3/users", Some(json!({"guid": alice})), 201).await["username"], "alice");
    let role = |kind: &str, target: &str, guid: &str| json!({"type": kind, "relationships": {"user": {"data": {"username": "alice"}}, target: {"data": {"guid": guid}}}});
    let space_role_first = cf.error(Method::POST, "/v3/roles", Some(role("space_developer", "space", &space))).await;
    assert_eq!(space_role_first, (422, "CF-UnprocessableEntity".into()), "a space role needs the org first");
    cf.expect(Method::POST, "/v3/roles", Some(role("organization_user", "organization", &org)), 201).await;
    let developer = cf.expect(Method::POST, "/v3/roles", Some(role("space_developer", "space", &space)), 201).await;
    assert_eq!(developer["relationships"]["space"]["data"]["guid"], space);
    let roles = cf.expect(Method::GET, &format!("/v3/roles?organization_guids={org}&include=user"), None, 200).await;
    let mut types: Vec<&str> =
        roles["resources"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(types, ["organization_user", "space_developer"]);
    assert_eq!(roles["included"]["users"][0]["username"], "alice");
    // v2 sees the same membership.
    let developers = cf.expect(Method::GET, &format!("/v2/spaces/{space}/developers"), None, 200).await;
    assert_eq!(developers["resources"][0]["entity"]["username"], "alice");

    // cf create-org-quota small -m 512M -i 4; cf set-org-quota acme small; cf update-org-quota.
    let quota = cf
        .expect(
            Method::POST,
            "/v3/organization_quotas",
            Some(json!({"name": "small", "apps": {"total_memory_in_mb": 512, "total_instances": 4}})),
            201,
        )
        .await;
    assert_eq!(
        (&quota["apps"]["total_memory_in_mb"], &quota["apps"]["per_process_memory_in_mb"]),
        (&json!(512), &Value::Null)
    );
    let quota = quota["guid"].as_str().unwrap().to_string();
    cf.expect(
        Method::POST,
        &format!("/v3/organization_quotas/{quota}/relationships/organizations"),
        Some(json!({"data": [{"guid": org}]})),
        200,
    )
    .await;
    let v2_org = cf.expect(Method::GET, &format!("/v2/organizations/{org}"), None, 200).await;
    assert_eq!(v2_org["entity"]["quota_definition_guid"], quota, "v2 sees the quota v3 set");
    let updated = cf
        .expect(
            Method::PATCH,
            &format!("/v3/organization_quotas/{quota}"),
            Some(json!({"apps": {"total_memory_in_mb": 1024}})),
            200,
        )
        .await;
    assert_eq!(
        (&updated["apps"]["total_memory_in_mb"], &updated["apps"]["total_instances"]),
        (&json!(1024), &json!(4))
    );
    let in_use = cf.error(Method::DELETE, &format!("/v3/organization_quotas/{quota}"), None).await;
    assert_eq!(in_use, (422, "CF-UnprocessableEntity".into()), "a quota in use stays");

    let flags = cf.expect(Method::GET, "/v3/feature_flags", None, 200).await;
    assert!(flags["resources"].as_array().unwrap().iter().any(|f| f["name"] == "app_scaling" && f["enabled"] == true));

    // cf unset-space-role, cf delete-user, cf delete-org
    let (status, _, _) =
        cf.send(Method::DELETE, &format!("/v3/roles/{}", developer["guid"].as_str().unwrap()), None).await;
    assert_eq!(status, 202);
    let (status, location, _) = cf.send(Method::DELETE, &format!("/v3/users/{alice}"), None).await;
    assert_eq!(status, 202);
    cf.job_completes(&location.unwrap()).await;
    let (status, _) = platform.api(Method::DELETE, &format!("/Users/{alice}"), None).await;
    assert_eq!(status, 200);
    cf.expect(Method::GET, &format!("/v2/users/{alice}"), None, 404).await;
    let (status, location, _) = cf.send(Method::DELETE, &format!("/v3/organizations/{org}"), None).await;
    assert_eq!(status, 202);
    cf.job_completes(&location.unwrap()).await;
    assert_eq!(cf.error(Method::GET, &format!("/v3/spaces/{space}"), None).await.0, 404, "its spaces went with it");
    platform.shutdown().await;
}

on_both_databases!(cf_cli_v7_manages_buildpacks_domains_and_security_groups, super::admin_resources);

/// `cf create-buildpack` (a record, then its bits as a job), `update-buildpack`,
/// `delete-buildpack`; `create-shared-domain`, `create-private-domain`,
/// `delete-*-domain`; `create-security-group`, `bind-security-group`
/// (running and staging), `update-security-group`, `unbind-security-group`,
/// `delete-security-group` — as the cf CLI v7 sends them.
async fn admin_resources(platform: TestPlatform) {
    let cf = Cf::admin(&platform).await;
    let upload = |guid: String, bits: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .part("bits", reqwest::multipart::Part::bytes(bits).file_name("extra_buildpack.wasm"));
        let request = platform.http.post(format!("{}/v3/buildpacks/{guid}/upload", platform.api));
        request.bearer_auth(&cf.token).multipart(form).send()
    };

    // cf create-buildpack extra_bp staticfile_buildpack.wasm 1
    let created = json!({"name": "extra_bp", "position": 1});
    let buildpack = cf.expect(Method::POST, "/v3/buildpacks", Some(created), 201).await;
    assert_eq!(buildpack["state"], "AWAITING_UPLOAD");
    let guid = buildpack["guid"].as_str().unwrap().to_string();
    let bits = std::fs::read(repo().join("buildpacks-wasm/staticfile_buildpack.wasm")).unwrap();
    let answer = upload(guid.clone(), bits).await.unwrap();
    assert_eq!(answer.status(), 202);
    cf.job_completes(answer.headers()["location"].to_str().unwrap()).await;
    let listed = cf.expect(Method::GET, "/v3/buildpacks?order_by=position", None, 200).await;
    assert_eq!(listed["resources"][0]["name"], "extra_bp", "first in detection order");
    assert_eq!(listed["resources"][0]["state"], "READY");
    assert_eq!(listed["resources"][1]["position"], 2, "the others moved down");
    // cf update-buildpack extra_bp --disable --lock: a locked one takes no bits.
    let patch = json!({"enabled": false, "locked": true});
    let updated = cf.expect(Method::PATCH, &format!("/v3/buildpacks/{guid}"), Some(patch), 200).await;
    assert_eq!((updated["enabled"].as_bool(), updated["locked"].as_bool()), (Some(false), Some(true)));
    let locked = upload(guid.clone(), b"\0asm\x0d\0\x01\0".to_vec()).await.unwrap();
    assert_eq!(locked.status(), 409, "{}", locked.text().await.unwrap());
    // Bits that are not a buildpack leave no record behind.
    let fresh = cf.expect(Method::POST, "/v3/buildpacks", Some(json!({"name": "not_one"})), 201).await;
    let fresh = fresh["guid"].as_str().unwrap().to_string();
    assert_eq!(upload(fresh.clone(), b"a text file".to_vec()).await.unwrap().status(), 422);
    assert_eq!(cf.send(Method::GET, &format!("/v3/buildpacks/{fresh}"), None).await.0, 404);
    let (status, _) = cf.error(Method::POST, "/v3/buildpacks", Some(json!({"name": "bad name!"}))).await;
    assert_eq!(status, 422);
    let (_, location, _) = cf.send(Method::DELETE, &format!("/v3/buildpacks/{guid}"), None).await;
    cf.job_completes(&location.unwrap()).await;
    assert_eq!(cf.send(Method::GET, &format!("/v3/buildpacks/{guid}"), None).await.0, 404);

    // cf create-shared-domain / create-private-domain / delete-*-domain.
    let org =
        cf.expect(Method::GET, "/v3/organizations?names=default", None, 200).await["resources"][0]["guid"].clone();
    let shared = cf.expect(Method::POST, "/v3/domains", Some(json!({"name": "Shared.Example.org"})), 201).await;
    assert_eq!(shared["name"], "shared.example.org");
    let private = json!({"name": "priv.example.org", "relationships": {"organization": {"data": {"guid": org}}}});
    let private = cf.expect(Method::POST, "/v3/domains", Some(private), 201).await;
    let org_domains =
        cf.expect(Method::GET, &format!("/v3/organizations/{}/domains", org.as_str().unwrap()), None, 200).await;
    let names: Vec<&str> =
        org_domains["resources"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"priv.example.org") && names.contains(&"shared.example.org"), "{names:?}");
    for name in ["shared.example.org", "not a domain"] {
        let (status, title) = cf.error(Method::POST, "/v3/domains", Some(json!({"name": name}))).await;
        assert_eq!((status, title.as_str()), (422, "CF-UnprocessableEntity"), "{name}");
    }
    for domain in [&shared, &private] {
        let (_, location, _) =
            cf.send(Method::DELETE, &format!("/v3/domains/{}", domain["guid"].as_str().unwrap()), None).await;
        cf.job_completes(&location.unwrap()).await;
    }
    assert_eq!(
        cf.expect(Method::GET, "/v3/domains?names=priv.example.org", None, 200).await["pagination"]["total_results"],
        0
    );

    // cf create-security-group, bind-security-group (running, then staging), update, unbind, delete.
    let space = cf.expect(Method::GET, "/v3/spaces?names=dev", None, 200).await["resources"][0]["guid"].clone();
    let space = space.as_str().unwrap().to_string();
    let rules = json!([{"protocol": "tcp", "destination": "10.0.0.0/8", "ports": "5432"}]);
    let group =
        json!({"name": "db-access", "rules": rules, "relationships": {"running_spaces": {"data": [{"guid": space}]}}});
    let group = cf.expect(Method::POST, "/v3/security_groups", Some(group), 201).await;
    let guid = group["guid"].as_str().unwrap().to_string();
    let staging = json!({"data": [{"guid": space}]});
    let bound = cf
        .expect(Method::POST, &format!("/v3/security_groups/{guid}/relationships/staging_spaces"), Some(staging), 200)
        .await;
    assert_eq!(bound["data"][0]["guid"], space);
    for lifecycle in ["running", "staging"] {
        let groups =
            cf.expect(Method::GET, &format!("/v3/spaces/{space}/{lifecycle}_security_groups"), None, 200).await;
        assert!(groups["resources"].as_array().unwrap().iter().any(|g| g["guid"] == guid), "{lifecycle}: {groups}");
    }
    let patch = json!({"globally_enabled": {"running": true}});
    let updated = cf.expect(Method::PATCH, &format!("/v3/security_groups/{guid}"), Some(patch), 200).await;
    assert_eq!(updated["globally_enabled"]["running"], true);
    // `cf running-security-groups` / `staging-security-groups`.
    let names = |list: &Value| -> Vec<String> {
        list["resources"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap().to_string()).collect()
    };
    let running = cf.expect(Method::GET, "/v3/security_groups?globally_enabled_running=true", None, 200).await;
    assert!(names(&running).contains(&"db-access".to_string()), "{running}");
    let staging = cf.expect(Method::GET, "/v3/security_groups?globally_enabled_staging=true", None, 200).await;
    assert!(!names(&staging).contains(&"db-access".to_string()), "{staging}");
    let not_running = cf.expect(Method::GET, "/v3/security_groups?globally_enabled_running=false", None, 200).await;
    assert!(!names(&not_running).contains(&"db-access".to_string()), "{not_running}");
    let bad = json!({"name": "bad", "rules": [{"protocol": "tcp", "destination": "nowhere"}]});
    assert_eq!(cf.error(Method::POST, "/v3/security_groups", Some(bad)).await.0, 422);
    let path = format!("/v3/security_groups/{guid}/relationships/running_spaces/{space}");
    assert_eq!(cf.send(Method::DELETE, &path, None).await.0, 204);
    let (_, location, _) = cf.send(Method::DELETE, &format!("/v3/security_groups/{guid}"), None).await;
    cf.job_completes(&location.unwrap()).await;
    assert_eq!(cf.send(Method::GET, &format!("/v3/security_groups/{guid}"), None).await.0, 404);
    platform.shutdown().await;
}

on_both_databases!(cf_cli_v7_revisions_and_rollback, super::revisions_and_rollback);

/// `cf revisions` and `cf rollback`: a revision per change of droplet,
/// environment or command (none for a plain restart), the newest deployed;
/// a rollback deploys an old one's droplet and environment as a new one.
async fn revisions_and_rollback(platform: TestPlatform) {
    platform.login().await;
    platform.push("rev", &repo().join("examples/hello-http"), &["-m", "32M"]).await;
    let app = platform.app_guid("rev").await;
    let cf = Cf::admin(&platform).await;
    let feature = cf.expect(Method::GET, &format!("/v3/apps/{app}/features/revisions"), None, 200).await;
    assert_eq!(feature["enabled"], true);
    let env = json!({"var": {"COLOR": "blue"}});
    cf.expect(Method::PATCH, &format!("/v3/apps/{app}/environment_variables"), Some(env), 200).await;
    for _ in 0..2 {
        cf.expect(Method::POST, &format!("/v3/apps/{app}/actions/restart"), None, 200).await;
    }
    let revisions = cf.expect(Method::GET, &format!("/v3/apps/{app}/revisions?order_by=-version"), None, 200).await;
    let described: Vec<(i64, &str)> = revisions["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["version"].as_i64().unwrap(), r["description"].as_str().unwrap()))
        .collect();
    assert_eq!(described, [(2, "New environment variables deployed."), (1, "Initial revision.")]);
    let deployed = cf.expect(Method::GET, &format!("/v3/apps/{app}/revisions/deployed"), None, 200).await;
    assert_eq!(deployed["resources"][0]["version"], 2);
    let second = revisions["resources"][0]["guid"].as_str().unwrap();
    let vars = cf.expect(Method::GET, &format!("/v3/revisions/{second}/environment_variables"), None, 200).await;
    assert_eq!(vars["var"]["COLOR"], "blue");

    // cf rollback rev --version 1
    let first = revisions["resources"][1]["guid"].as_str().unwrap();
    let rollback = json!({"revision": {"guid": first}, "relationships": {"app": {"data": {"guid": app}}}});
    cf.expect(Method::POST, "/v3/deployments", Some(rollback), 201).await;
    let revisions = cf.expect(Method::GET, &format!("/v3/apps/{app}/revisions?order_by=-version"), None, 200).await;
    assert_eq!(revisions["resources"][0]["description"], "Rolled back to revision 1.");
    assert_eq!(revisions["resources"][0]["droplet"], revisions["resources"][2]["droplet"]);
    let now = cf.expect(Method::GET, &format!("/v3/apps/{app}/environment_variables"), None, 200).await;
    assert_eq!(now["var"], json!({}), "revision 1's environment");
    eventually("the rolled-back app serves", Duration::from_secs(30), || async {
        (platform.via_router("rev.localhost", "/").await.0 == 200).then_some(())
    })
    .await;
    let bogus = json!({"revision": {"guid": "nope"}, "relationships": {"app": {"data": {"guid": app}}}});
    assert_eq!(cf.error(Method::POST, "/v3/deployments", Some(bogus)).await.0, 422);
    platform.shutdown().await;
}

on_both_databases!(cf_cli_v8_shares_and_moves_routes, super::shared_routes);

/// `cf share-route`, `cf unshare-route` and `cf move-route` as the cf CLI
/// v8 sends them: an app of another space serves on a route shared with
/// its space, and loses it when unshared; a route moved to another space
/// stays shared with the one it left.
async fn shared_routes(platform: TestPlatform) {
    platform.login().await;
    let cf = Cf { platform: &platform, token: platform.token().await };
    platform.push("owner", &repo().join("examples/hello-http"), &["-m", "32M"]).await;
    let owner = platform.app_guid("owner").await;
    let dev = cf.expect(Method::GET, "/v3/spaces?names=dev", None, 200).await["resources"][0].clone();
    let org = dev["relationships"]["organization"]["data"]["guid"].clone();
    let dev = dev["guid"].as_str().unwrap().to_string();
    let other = json!({"name": "other", "relationships": {"organization": {"data": {"guid": org}}}});
    let other = cf.expect(Method::POST, "/v3/spaces", Some(other), 201).await["guid"].as_str().unwrap().to_string();
    let out = platform.wf(&["target", "-s", "other"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    platform.push("guest", &repo().join("examples/hello-http"), &["-m", "32M", "--no-route"]).await;
    let guest = platform.app_guid("guest").await;
    let route = cf.expect(Method::GET, &format!("/v3/apps/{owner}/routes"), None, 200).await["resources"][0].clone();
    // `cf check-route localhost --hostname owner` (and a host with no route).
    let domain = route["relationships"]["domain"]["data"]["guid"].as_str().unwrap().to_string();
    let reservations = format!("/v3/domains/{domain}/route_reservations");
    let owner_route = cf.expect(Method::GET, &format!("{reservations}?host=owner"), None, 200).await;
    assert_eq!(owner_route, json!({"matching_route": true}));
    let no_route = cf.expect(Method::GET, &format!("{reservations}?host=nobody&path=/x"), None, 200).await;
    assert_eq!(no_route, json!({"matching_route": false}));
    assert_eq!(cf.error(Method::GET, "/v3/domains/no-such-domain/route_reservations?host=a", None).await.0, 404);
    let route = route["guid"].as_str().unwrap().to_string();
    let destinations = format!("/v3/routes/{route}/destinations");
    let to_guest = json!({"destinations": [{"app": {"guid": guest}}]});

    // Not shared yet: the guest app may not be mapped to it.
    let (status, error) = cf.error(Method::POST, &destinations, Some(to_guest.clone())).await;
    assert_eq!(status, 422, "{error}");
    // cf share-route: then it may, and both apps answer on it.
    let shares = format!("/v3/routes/{route}/relationships/shared_spaces");
    let shared = cf.expect(Method::POST, &shares, Some(json!({"data": [{"guid": other}]})), 200).await;
    assert_eq!(shared["data"], json!([{"guid": other}]));
    cf.expect(Method::POST, &destinations, Some(to_guest), 200).await;
    let answering = |wanted: &'static [&'static str]| {
        let platform = &platform;
        async move {
            eventually(&format!("{wanted:?} answer on owner.localhost"), Duration::from_secs(30), || async {
                let mut names = std::collections::BTreeSet::new();
                for _ in 0..20 {
                    let (_, body) = platform.via_router("owner.localhost", "/").await;
                    let body: Value = serde_json::from_str(&body).ok()?;
                    names.insert(body["vcap_application"]["application_name"].as_str()?.to_string());
                }
                (names.iter().map(String::as_str).collect::<Vec<_>>() == wanted).then_some(())
            })
            .await
        }
    };
    answering(&["guest", "owner"]).await;
    let (status, error) = cf.error(Method::POST, &shares, Some(json!({"data": [{"guid": dev}]}))).await;
    assert_eq!(status, 422, "not with its own space: {error}");

    // cf unshare-route: the guest app loses its mapping.
    assert_eq!(cf.send(Method::DELETE, &format!("{shares}/{other}"), None).await.0, 204);
    assert_eq!(cf.expect(Method::GET, &shares, None, 200).await["data"], json!([]));
    answering(&["owner"]).await;
    let (status, _) = cf.error(Method::DELETE, &format!("{shares}/{other}"), None).await;
    assert_eq!(status, 422, "not shared any more");

    // cf move-route: owned by the other space, still shared with dev, the owner app still on it.
    let moved = json!({"data": {"guid": other}});
    assert_eq!(
        cf.send(
            Method::PATCH,
            &format!("/v3/routes/{route}/relationships/space"),
            Some(("application/json", moved.to_string()))
        )
        .await
        .0,
        204
    );
    let shown = cf.expect(Method::GET, &format!("/v3/routes/{route}"), None, 200).await;
    assert_eq!(shown["relationships"]["space"]["data"]["guid"], other.as_str());
    assert_eq!(cf.expect(Method::GET, &shares, None, 200).await["data"], json!([{"guid": dev}]));
    answering(&["owner"]).await;
    platform.shutdown().await;
}

/// The SHA1 a droplet's bits are stored under, as its checksum shows it.
fn shown_checksum(bits: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(bits))
}
