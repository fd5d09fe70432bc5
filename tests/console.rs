//! The web console in a real browser (headless chromium over WebDriver):
//! a user signs in, finds a pushed app running with 2 instances, scales it
//! to 3 and sees the third appear, watches its log lines arrive and its
//! requests counted, binds a service and unbinds it, stops it, sees the
//! DEAs and the health manager as an admin, creates a service from the
//! marketplace and deletes it, finds a crash among an app's events and
//! deletes the app;
//! a user of another space signs in and does not see it. Screenshots of
//! the main pages go to `WF_TEST_SCREENSHOTS` (printed as they are taken).

mod common;

use common::broker::start_broker;
use common::browser::Browser;
use common::{TestPlatform, app_dir, repo};

async fn wf_ok(platform: &TestPlatform, args: &[&str]) -> String {
    let out = platform.wf(args).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wf {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

async fn sign_in(browser: &Browser, console: &str, username: &str, password: &str) {
    browser.goto(console).await;
    browser.wait_for("#username").await.type_text(username).await;
    browser.find("#password").await.expect("a password field").type_text(password).await;
    browser.find("#sign-in").await.expect("a sign-in button").click().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_runs_their_app_from_the_console_and_another_does_not_see_it() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    platform.push("hello-js", &repo().join("examples/hello-js"), &["-m", "64M", "-i", "2"]).await;
    wf_ok(&platform, &["create-user-provided-service", "orders-db", "-p", r#"{"password":"s3cret"}"#]).await;
    platform.push("crasher", app_dir(&["tests/fixtures/crasher-app/crasher.wasm"]).path(), &["-m", "32M"]).await;
    let (broker, _broker) = start_broker().await;
    wf_ok(&platform, &["create-service-broker", "pgb", "u", "p", &broker]).await;
    wf_ok(&platform, &["enable-service-access", "pgsql"]).await;
    wf_ok(&platform, &["create-space", "elsewhere", "-o", "default"]).await;
    wf_ok(&platform, &["create-user", "bob", "bobs-password"]).await;
    wf_ok(&platform, &["set-space-role", "bob", "default", "elsewhere", "SpaceDeveloper"]).await;
    let console = format!("{}/console", platform.api);
    let browser = Browser::start(1280, 1000).await;

    // A wrong password is told, in UAA's words, on the sign-in page.
    sign_in(&browser, &console, "admin", "not-the-password").await;
    let refused = browser.wait_for_text("#sign-in-error", "a refusal", |t| !t.is_empty()).await;
    assert!(refused.contains("Bad credentials"), "{refused}");

    sign_in(&browser, &console, "admin", &platform.admin_password()).await;
    browser.wait_for_text("#signed-in-as", "the user", |t| t.contains("admin")).await;
    let orgs = browser.text().await;
    assert!(orgs.contains("default") && orgs.contains("dev") && orgs.contains("elsewhere"), "{orgs}");
    browser.screenshot("console-orgs").await;

    browser.wait_for("a.tile[href^='/console/spaces/']").await.click().await;
    let row = browser
        .wait_for_text("#apps", "hello-js running 2 of 2", |t| t.contains("hello-js") && t.contains("2/2"))
        .await;
    assert!(row.contains("STARTED") && row.contains("64M") && row.contains("hello-js.localhost"), "{row}");
    assert!(browser.text().await.contains("orders-db"), "the space lists its service instance");
    browser.screenshot("console-space").await;

    browser.find("tr[data-app='hello-js'] a").await.expect("a link to the app").click().await;
    browser.wait_for_text("#instance-count", "2 running", |t| t.starts_with("2/2")).await;
    assert_eq!(browser.count("#instances tr[data-state='RUNNING']").await, 2);

    // Scale to 3: the page comes back, and the third instance appears as
    // it starts (the table refreshes itself).
    let instances = browser.find("#scale-instances").await.expect("the instances field");
    instances.clear().await;
    instances.type_text("3").await;
    browser.find("#scale").await.expect("a scale button").click().await;
    browser.wait_for_text("#notice", "the scale done", |t| t.contains("Scaled to 3")).await;
    browser.wait_for_text("#instance-count", "3 running", |t| t.starts_with("3/3")).await;

    // Requests through the router: their log lines arrive in the page.
    for _ in 0..3 {
        let (status, _) = platform.via_router("hello-js.localhost", "/").await;
        assert_eq!(status, 200);
    }
    browser.wait_for_text("#logs", "the app's log lines", |t| t.contains("GET / on instance")).await;
    let logs = browser.find("#logs").await.expect("logs").text().await;
    assert!(logs.contains("[APP/PROC/WEB/"), "{logs}");
    // The router's access lines among them make the traffic figures.
    browser
        .wait_for_text("#traffic-summary", "the 3 requests", |t| t.starts_with("3 requests in the last minute"))
        .await;
    browser.screenshot("console-app").await;
    // On a phone's screen the page reflows; nothing needs a wider one.
    browser.resize(390, 844).await;
    browser.screenshot("console-app-phone").await;
    browser.resize(1280, 1000).await;

    // Bind the space's service instance, then unbind it.
    browser.find("#service-instance").await.expect("a choice of instances to bind");
    browser.find("#bind").await.expect("a bind button").click().await;
    browser.wait_for_text("#notice", "the binding done", |t| t.starts_with("Bound")).await;
    browser.wait_for_text("#services", "orders-db bound", |t| t.contains("orders-db")).await;
    browser.find("[data-unbind='orders-db']").await.expect("an unbind button").click().await;
    browser.wait_for_text("#notice", "the unbinding done", |t| t.starts_with("Unbound")).await;
    assert!(!browser.find("#services").await.expect("the list").text().await.contains("orders-db"));

    browser.find("#stop").await.expect("a stop button").click().await;
    browser.wait_for_text("#app-state", "STOPPED", |t| t == "STOPPED").await;
    browser.wait_for("#start").await;
    let (status, _) = platform.via_router("hello-js.localhost", "/").await;
    assert_eq!(status, 404, "a stopped app has no instances behind its route");
    let app_page = browser.url().await;

    // The admins' overview: the DEA, and the app among the stopped ones.
    browser.find("#platform").await.expect("a link to the platform").click().await;
    let deas = browser.wait_for_text("#deas", "the DEA", |t| t.contains("dea-")).await;
    assert!(deas.contains(" MB"), "{deas}");
    browser.wait_for_text("#apps-by-state", "a stopped app", |t| t.contains("STOPPED")).await;
    let platform_page = browser.url().await;
    common::eventually("the health manager acting", common::browser::WAIT, || async {
        browser.goto(&platform_page).await;
        browser.wait_for("#health-manager").await.text().await.contains("ACTING").then_some(())
    })
    .await;
    browser.screenshot("console-platform").await;

    // A managed service from the marketplace, created into dev, then
    // deleted from the space's page.
    browser.find("#marketplace").await.expect("a link to the marketplace").click().await;
    browser.wait_for("form[data-plan='pgsql/small'] input[name='name']").await.type_text("orders-pg").await;
    browser.screenshot("console-marketplace").await;
    browser.find("form[data-plan='pgsql/small'] button").await.expect("a create button").click().await;
    browser.wait_for_text("tr[data-service='orders-pg']", "it created", |t| t.contains("create succeeded")).await;
    browser.find("tr[data-service='orders-pg'] button").await.expect("a delete button").click().await;
    browser.wait_for_text("h1", "the space again", |t| t.starts_with("Space dev")).await;
    assert!(browser.find("tr[data-service='orders-pg']").await.is_none(), "deleted");
    // Credentials that are not a JSON object are refused, saying so.
    browser.find("details summary").await.expect("the user-provided form").click().await;
    browser.find("#ups-name").await.expect("a name field").type_text("bad").await;
    let credentials = browser.find("#ups-credentials").await.expect("a credentials field");
    credentials.clear().await;
    credentials.type_text("not json").await;
    browser.find("#ups-create").await.expect("a create button").click().await;
    browser.wait_for_text("main", "the refusal", |t| t.contains("credentials must be a JSON object")).await;

    // A crash is among the app's events; then the app is deleted, once
    // its name is typed right.
    let (status, _) = platform.via_router("crasher.localhost", "/trap").await;
    assert_eq!(status, 500, "the trap crashes the instance");
    browser.goto(&format!("{console}/orgs")).await;
    browser.wait_for("a.tile[href^='/console/spaces/']").await.click().await;
    browser.wait_for("tr[data-app='crasher'] a").await.click().await;
    let crasher_page = browser.url().await;
    common::eventually("the crash among the events", common::browser::WAIT, || async {
        browser.goto(&crasher_page).await;
        browser.wait_for("#events-heading").await;
        browser.find("#events").await?.text().await.contains("app.crash").then_some(())
    })
    .await;
    browser.find("#confirm").await.expect("a confirmation field").type_text("crasherr").await;
    browser.find("#delete").await.expect("a delete button").click().await;
    browser.wait_for_text("main", "the refusal", |t| t.contains("type the app's name, crasher, to delete it")).await;
    browser.goto(&crasher_page).await;
    browser.wait_for("#confirm").await.type_text("crasher").await;
    browser.find("#delete").await.expect("a delete button").click().await;
    browser.wait_for_text("h1", "the space again", |t| t.starts_with("Space dev")).await;
    assert!(browser.find("tr[data-app='crasher']").await.is_none(), "crasher deleted");
    browser.goto(&console).await;

    // Bob develops in another space: he sees it, not the app, and its page
    // is not found for him.
    browser.find("#sign-out").await.expect("a sign-out button").click().await;
    browser.wait_for("#username").await;
    sign_in(&browser, &console, "bob", "bobs-password").await;
    browser.wait_for_text("#signed-in-as", "bob", |t| t.contains("bob")).await;
    let spaces = browser.wait_for_text(".tiles", "bob's space", |t| t.contains("elsewhere")).await;
    assert_eq!(browser.count("a.tile").await, 1, "bob sees only his space: {spaces}");
    browser.goto(&app_page).await;
    let page = browser.text().await;
    assert!(page.contains("Not found") && !page.contains("hello-js"), "{page}");
    assert!(browser.find("#platform").await.is_none(), "no platform link for a non-admin");
    browser.goto(&format!("{console}/platform")).await;
    let page = browser.text().await;
    assert!(page.contains("Not allowed"), "{page}");

    browser.quit().await;
    platform.shutdown().await;
}
