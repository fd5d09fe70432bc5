//! The push scenario over a real nats-server (WF_TEST_NATS_URL, e.g.
//! nats://127.0.0.1:4222). One test only: every platform on one server sees
//! the others' subjects, so runs on NATS must not overlap.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_hello_with_two_instances_over_nats() {
    let Ok(url) = std::env::var("WF_TEST_NATS_URL") else {
        eprintln!("skipped: set WF_TEST_NATS_URL=nats://127.0.0.1:4222 to run against a real nats-server");
        return;
    };
    common::push_hello_scenario(&url).await;
}
