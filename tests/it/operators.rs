//! What operators see: `/readyz` staying ready through an APNs outage while reporting it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{repo, spawn_app, test_config};
use crate::push::{eventually, register_as, token};
use crate::web_service::add_to_wallet;

async_test!(an_unreachable_apns_is_reported_and_leaves_the_process_ready);
async fn an_unreachable_apns_is_reported_and_leaves_the_process_ready() {
    // A port nobody listens on: every connection to "APNs" is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut config = test_config();
    config.apns.url = format!("https://{closed}");
    config.apns.ca_file = Some(repo().join("certs-example/root-ca.pem"));
    config.jobs.poll_ms = 50;
    config.jobs.coalesce_ms = 50;
    config.jobs.backoff_base_ms = 20;
    config.jobs.backoff_max_ms = 200;
    let app = spawn_app(config).await;
    let readyz = async || app.client.get(app.url("/readyz")).send().await.unwrap();
    let before: Value = readyz().await.json().await.unwrap();
    assert_eq!(before["dependencies"]["apns"]["state"], "unknown", "no push tried yet: {before}");
    assert_eq!(before["dependencies"]["google"]["state"], "off", "{before}");
    assert_eq!(before["dependencies"]["smtp"]["state"], "off", "{before}");

    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-one", &token(1)).await;
    let patched = app
        .api(Method::PATCH, &format!("/api/v1/passes/{}", held.serial))
        .json(&json!({"data": {"points": 5}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let failing = async || readyz().await.json::<Value>().await.unwrap()["dependencies"]["apns"]["state"] == "failing";
    eventually("/readyz reports APNs failing", failing).await;
    let resp = readyz().await;
    assert_eq!(resp.status(), 200, "an APNs outage leaves the web process in the load balancer");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let apns = &body["dependencies"]["apns"];
    assert!(apns["last_error"].as_str().unwrap().contains("connect"), "{body}");
    assert!(apns["last_error_at"].as_str().unwrap().ends_with('Z') && apns["last_success"].is_null(), "{body}");
    assert!(apns["consecutive_failures"].as_u64().unwrap() >= 1, "{body}");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        r#"passerelle_dependency_up{dependency="apns"}"#,
        r#"passerelle_dependency_last_error_timestamp_seconds{dependency="apns"}"#,
        r#"passerelle_dependency_failures_total{dependency="apns"}"#,
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}
