//! Push delivery end to end: the server on port 0, the outbox, the real APNs client, and the
//! mock APNs over HTTP/2 + TLS with client certificates, on SQLite and PostgreSQL.

use std::collections::HashSet;
use std::time::Duration;

use passerelle::config::Config;
use passerelle::testkit::mock_apns::{MockApns, MockApnsConfig};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, repo, spawn_app_on, test_config, wait_until_drained};
use crate::web_service::{Held, add_to_wallet};
use passerelle::store::JobKind;

pub async fn mock() -> MockApns {
    mock_with(MockApnsConfig::default()).await
}

pub async fn mock_with(config: MockApnsConfig) -> MockApns {
    MockApns::start(&repo().join("certs-example"), config).await.expect("mock APNs starts")
}

/// A server that pushes to `mock` quickly (short coalescing, polling and backoff).
pub fn push_config(mock: &MockApns) -> Config {
    let mut c = test_config();
    c.apns.url = mock.url();
    c.apns.ca_file = Some(repo().join("certs-example/root-ca.pem"));
    c.jobs.poll_ms = 50;
    c.jobs.coalesce_ms = 100;
    c.jobs.backoff_base_ms = 20;
    c.jobs.backoff_max_ms = 200;
    c.jobs.pause_secs = 1;
    c
}

/// A 64-hex-digit push token, distinct per `n`.
pub fn token(n: usize) -> String {
    format!("{n:064x}")
}

pub async fn register_as(app: &TestApp, held: &Held, device: &str, push_token: &str) {
    let r = app
        .client
        .post(held.registration(device))
        .header("Authorization", format!("ApplePass {}", held.token))
        .json(&json!({"pushToken": push_token}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

async fn patch(app: &TestApp, serial: &str, points: i64) {
    let r = app
        .api(Method::PATCH, &format!("/api/v1/passes/{serial}"))
        .json(&json!({"data": {"points": points}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Waits (up to 15 s) until `check` holds.
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn a_change_pushes_every_device_once(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, push_config(&apns)).await;
    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-one", &token(1)).await;
    register_as(&app, &held, "device-two", &token(2)).await;
    patch(&app, &held.serial, 42).await;

    eventually("both devices are pushed", async || apns.received_count() >= 2).await;
    wait_until_drained(&app, JobKind::Push).await;
    let got = apns.received();
    assert_eq!(got.len(), 2, "exactly one push per device");
    let tokens: HashSet<&str> = got.iter().map(|r| r.token.as_str()).collect();
    assert_eq!(tokens, HashSet::from([token(1).as_str(), token(2).as_str()]));
    for r in &got {
        assert_eq!(r.topic, "pass.com.passerelle.demo");
        assert_eq!(r.body, b"{}");
        assert_eq!((r.push_type.as_str(), r.priority.as_str()), ("background", "5"));
        assert_eq!(r.client_uid, "pass.com.passerelle.demo", "authenticated with the pass certificate");
    }
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("passerelle_push_sent_total"), "{metrics}");
    assert!(metrics.contains("passerelle_push_queue_depth"), "{metrics}");
}

async fn rapid_changes_coalesce(backend: Backend) {
    let apns = mock().await;
    let mut config = push_config(&apns);
    config.jobs.coalesce_ms = 1_000;
    let app = spawn_app_on(backend, config).await;
    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-one", &token(1)).await;
    register_as(&app, &held, "device-two", &token(2)).await;
    for points in 0..10 {
        patch(&app, &held.serial, points).await;
    }
    eventually("the devices are pushed", async || apns.received_count() >= 2).await;
    wait_until_drained(&app, JobKind::Push).await;
    assert_eq!(apns.received_count(), 2, "ten changes in a second: one push per device");
}

async fn gone_devices_are_unregistered(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, push_config(&apns)).await;
    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-gone", &token(7)).await;
    register_as(&app, &held, "device-bad", &token(8)).await;
    register_as(&app, &held, "device-kept", &token(9)).await;
    apns.answer_token(&token(7), 410, "Unregistered");
    apns.answer_token(&token(8), 400, "BadDeviceToken");
    patch(&app, &held.serial, 1).await;
    let list = |device: &str| app.client.get(held.serials(device, None)).send();
    eventually("410 and BadDeviceToken remove the registrations", async || {
        list("device-gone").await.unwrap().status() == 204 && list("device-bad").await.unwrap().status() == 204
    })
    .await;
    assert_eq!(list("device-kept").await.unwrap().status(), 200, "the other device keeps its pass");
}

async fn failures_are_retried(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, push_config(&apns)).await;
    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-one", &token(1)).await;
    apns.answer_next(1, 429, "TooManyRequests");
    apns.answer_next(1, 500, "InternalServerError");
    patch(&app, &held.serial, 5).await;
    eventually("the push gets through after 429 and 500", async || apns.received_count() == 1).await;
    assert!(apns.requests_total() >= 3, "two refusals, then success");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("passerelle_push_retried_total"), "{metrics}");
    assert!(metrics.contains("reason=\"TooManyRequests\""), "{metrics}");

    // A dropped connection is re-established.
    let before = apns.connections();
    apns.drop_next_connection();
    patch(&app, &held.serial, 6).await;
    eventually("the push gets through on a new connection", async || apns.received_count() == 2).await;
    assert!(apns.connections() > before, "reconnected");
}

async fn dead_jobs_are_kept_and_retryable(backend: Backend) {
    let apns = mock().await;
    let mut config = push_config(&apns);
    config.jobs.max_attempts = 2;
    let app = spawn_app_on(backend, config).await;
    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-one", &token(1)).await;
    apns.answer_token(&token(1), 500, "InternalServerError");
    patch(&app, &held.serial, 5).await;
    let dead =
        async || -> Value { app.api(Method::GET, "/api/v1/push/dead").send().await.unwrap().json().await.unwrap() };
    eventually("the job is dead after its attempts", async || !dead().await["items"].as_array().unwrap().is_empty())
        .await;
    let item = dead().await["items"][0].clone();
    assert_eq!(item["device_library_id"], "device-one");
    assert_eq!(item["attempts"], 2);
    assert_eq!(item["last_error"], "InternalServerError");

    apns.clear_answers();
    let r = app.api(Method::POST, &format!("/api/v1/push/dead/{}/retry", item["id"])).send().await.unwrap();
    assert_eq!(r.status(), 200);
    eventually("the retried job is delivered", async || apns.received_count() == 1).await;
    assert_eq!(dead().await["items"], json!([]));
    assert_eq!(app.api(Method::POST, "/api/v1/push/dead/999999/retry").send().await.unwrap().status(), 404);
}

async fn streams_stay_within_the_server_limit(backend: Backend) {
    let apns = mock_with(MockApnsConfig {
        max_concurrent_streams: 8,
        response_delay: Duration::from_millis(20),
        keep_received: true,
    })
    .await;
    let mut config = push_config(&apns);
    config.http.max_devices_per_pass = 60; // one pass on 60 devices: a load, not an attack
    let app = spawn_app_on(backend, config).await;
    let held = add_to_wallet(&app).await;
    for n in 0..60 {
        register_as(&app, &held, &format!("device-{n}"), &token(n)).await;
    }
    patch(&app, &held.serial, 5).await;
    eventually("all 60 devices are pushed", async || apns.received_count() == 60).await;
    assert!(apns.max_in_flight() <= 8, "max in flight {}", apns.max_in_flight());
    assert!(apns.max_in_flight() > 1, "streams are multiplexed");
    assert_eq!(apns.connections(), 1, "one long-lived connection");
}

on_both_backends!(
    a_change_pushes_every_device_once,
    rapid_changes_coalesce,
    gone_devices_are_unregistered,
    failures_are_retried,
    dead_jobs_are_kept_and_retryable,
    streams_stay_within_the_server_limit,
);
