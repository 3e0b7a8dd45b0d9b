//! Webhooks out, on SQLite and PostgreSQL, against a local axum receiver: an order's "ready"
//! and "collected" moves and a pass's first registration / last unregistration arrive as
//! signed events (HMAC-SHA256 recomputed here with openssl), and a 500 answer is retried.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app_on, test_config, wait_until_drained};
use crate::push::eventually;
use crate::web_service::{add_to_wallet, register};
use passerelle::store::JobKind;

pub const SECRET: &str = "whsec-test-0123456789abcdef";

/// (event header, signature header, body, status answered) of every request received.
pub type Received = Arc<Mutex<Vec<(String, String, String, u16)>>>;

/// A receiver answering 500 to its first request and 204 to the others.
pub async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let log = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let mut log = log.lock().unwrap();
                let status = if log.is_empty() { 500 } else { 204 };
                log.push((header("x-passerelle-event"), header("x-passerelle-signature"), body, status));
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

fn hmac_hex(body: &str) -> String {
    let key = PKey::hmac(SECRET.as_bytes()).unwrap();
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.update(body.as_bytes()).unwrap();
    hex::encode(signer.sign_to_vec().unwrap())
}

/// The delivered events (answered 2xx) of `event_type`, signatures checked.
pub fn delivered(received: &Received, event_type: &str) -> Vec<Value> {
    let log = received.lock().unwrap();
    log.iter()
        .filter(|(event, _, _, status)| event == event_type && *status < 300)
        .map(|(event, signature, body, _)| {
            assert_eq!(signature, &format!("sha256={}", hmac_hex(body)), "the signature verifies");
            let body: Value = serde_json::from_str(body).unwrap();
            assert_eq!(&body["type"], event, "X-Passerelle-Event names the type");
            assert!(body["id"].as_str().unwrap().starts_with("evt_") && body["created_at"].is_string());
            body
        })
        .collect()
}

async fn spawn(backend: Backend, url: &str) -> TestApp {
    let mut config = test_config();
    config.webhooks.url = Some(url.into());
    config.webhooks.secret = Some(SECRET.parse().unwrap());
    config.jobs.poll_ms = 50;
    config.jobs.backoff_base_ms = 50;
    config.jobs.backoff_max_ms = 100;
    spawn_app_on(backend, config).await
}

async fn order_events_are_signed_and_retried(backend: Backend) {
    let (url, received) = receiver().await;
    let app = spawn(backend, &url).await;
    let store = json!({"id": "lyon-01", "name": "Maison Lumière Lyon", "latitude": 45.7609, "longitude": 4.859,
        "timezone": "Europe/Paris"});
    assert_eq!(app.api(Method::POST, "/api/v1/stores").json(&store).send().await.unwrap().status(), 201);
    let order = json!({
        "order_number": "CC-W1", "store_id": "lyon-01", "customer": {"name": "Camille Durand"},
        "items": [{"label": "Scented candle", "quantity": 2}],
        "pickup": {"from": "2099-11-24T10:00:00+01:00", "until": "2099-11-24T19:00:00+01:00"},
    });
    assert_eq!(app.api(Method::POST, "/api/v1/orders").json(&order).send().await.unwrap().status(), 201);
    let status = async |s: &str| {
        let r = app.api(Method::POST, "/api/v1/orders/CC-W1/status").json(&json!({"status": s}));
        assert_eq!(r.send().await.unwrap().status(), 200);
    };
    status("ready").await;
    eventually("order.ready is delivered after a 500", async || delivered(&received, "order.ready").len() == 1).await;
    {
        let log = received.lock().unwrap();
        assert_eq!(log.len(), 2, "one failed attempt, then the delivery: {log:?}");
        assert_eq!((log[0].3, &log[0].2), (500, &log[1].2), "the retry sends the same body");
    }
    let event = delivered(&received, "order.ready").remove(0);
    assert_eq!(event["data"]["order_number"], "CC-W1");
    assert_eq!(event["data"]["status"], "ready");
    status("collected").await;
    eventually("order.collected is delivered", async || delivered(&received, "order.collected").len() == 1).await;
    assert_eq!(delivered(&received, "order.ready").len(), 1, "each event once");
}

async fn pass_added_and_removed(backend: Backend) {
    let (url, received) = receiver().await;
    let app = spawn(backend, &url).await;
    let held = add_to_wallet(&app).await;
    assert_eq!(register(&app, &held, "device-one-0001").await, StatusCode::CREATED);
    assert_eq!(register(&app, &held, "device-two-0002").await, StatusCode::CREATED);
    eventually("pass.added is delivered", async || delivered(&received, "pass.added").len() == 1).await;
    assert_eq!(delivered(&received, "pass.added")[0]["data"]["serial_number"], held.serial.as_str());
    let unregister = async |device: &str| {
        let r = app
            .client
            .delete(held.registration(device))
            .header("Authorization", format!("ApplePass {}", held.token))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    unregister("device-one-0001").await;
    wait_until_drained(&app, JobKind::Webhook).await;
    assert!(delivered(&received, "pass.removed").is_empty(), "a device still holds the pass");
    unregister("device-two-0002").await;
    eventually("pass.removed is delivered", async || delivered(&received, "pass.removed").len() == 1).await;
    assert_eq!(delivered(&received, "pass.added").len(), 1, "the second device made no pass.added");
}

sync_test!(a_url_without_secret_is_refused);
fn a_url_without_secret_is_refused() {
    let mut config = test_config();
    config.webhooks.url = Some("https://orders.example.com/hook".into());
    let e = config.validate().unwrap_err();
    assert!(e.to_string().contains("PASSERELLE_WEBHOOK_SECRET"), "{e}");
}

on_both_backends!(order_events_are_signed_and_retried, pass_added_and_removed);
