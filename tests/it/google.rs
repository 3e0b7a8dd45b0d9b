//! Google Wallet end to end: the server on port 0 with the real REST client against the mock
//! Google (token endpoint + walletobjects over HTTP on loopback), save links checked with the
//! openssl command, signed callbacks, and the shared rate limit; on SQLite and PostgreSQL.

use std::process::Command;
use std::sync::Arc;

use passerelle::config::Config;
use passerelle::testkit::callback_signer::TestSigner;
use passerelle::testkit::mock_google::MockGoogle;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, example, repo, run, spawn_app_on, test_config, wait_until_drained};
use crate::push::eventually;
use passerelle::store::JobKind;

const ISSUER: &str = "3388000000022141777";

/// Serves Google's callback root keys (signed by `signer`) on loopback.
async fn serve_keys(signer: &TestSigner) -> String {
    let body = signer.root_keys_json(None);
    let app = axum::Router::new().route("/keys", axum::routing::get(move || async move { body.clone() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/keys", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

struct Setup {
    app: TestApp,
    google: MockGoogle,
    signer: TestSigner,
    _dir: tempfile::TempDir,
}

async fn setup(backend: Backend) -> Setup {
    let google = MockGoogle::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let signer = TestSigner::new();
    let mut config: Config = test_config();
    config.google.sa_key = Some(google.service_account_json(dir.path()));
    config.google.issuer_id = Some(ISSUER.into());
    config.google.api_url = google.api_url();
    config.google.callback_keys_url = serve_keys(&signer).await;
    config.google.rate_per_sec = 200;
    // Also when a new pass's queued sync comes due; 1.5 s leaves a loaded 2-core machine room
    // to write the object inline.
    config.google.timeout_ms = 1500;
    config.jobs.poll_ms = 50;
    config.jobs.coalesce_ms = 50;
    let app = spawn_app_on(backend, config).await;
    Setup { app, google, signer, _dir: dir }
}

fn b64url_decode(s: &str) -> Vec<u8> {
    let mut t = s.replace('-', "+").replace('_', "/");
    while !t.len().is_multiple_of(4) {
        t.push('=');
    }
    openssl::base64::decode_block(&t).unwrap()
}

/// Checks a save link's JWT with the openssl command (an independent RS256 implementation).
fn check_save_link(url: &str, object_id: &str, objects_key: &str) {
    let jwt = url.strip_prefix("https://pay.google.com/gp/v/save/").expect("a Google save URL");
    assert!(jwt.len() <= 1800, "skinny JWT stays short: {}", jwt.len());
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&b64url_decode(parts[0])).unwrap();
    assert_eq!(header["alg"], "RS256");
    let claims: Value = serde_json::from_slice(&b64url_decode(parts[1])).unwrap();
    assert_eq!(claims["iss"], "passerelle-demo@passerelle-demo.iam.gserviceaccount.com");
    assert_eq!(claims["aud"], "google");
    assert_eq!(claims["typ"], "savetowallet");
    assert!(claims["iat"].is_i64() && claims["origins"].is_array());
    assert_eq!(claims["payload"], json!({objects_key: [{"id": object_id}]}), "only the object id");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("input"), format!("{}.{}", parts[0], parts[1])).unwrap();
    std::fs::write(dir.path().join("sig"), b64url_decode(parts[2])).unwrap();
    let (ok, out) = run(Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(repo().join("certs-example/google-service-account-public.pem"))
        .arg("-signature")
        .arg(dir.path().join("sig"))
        .arg(dir.path().join("input")));
    assert!(ok && out.contains("Verified OK"), "openssl rejects the save-link signature: {out}");
}

async fn passes_reach_google(backend: Backend) {
    let s = setup(backend).await;
    let created = s.app.create_pass("loyalty", example("loyalty")).await;
    let serial = created["serial_number"].as_str().unwrap().to_owned();
    let object_id = format!("{ISSUER}.{serial}");
    check_save_link(created["google_save_url"].as_str().unwrap(), &object_id, "loyaltyObjects");
    let object = s.google.object("loyaltyObject", &object_id).expect("the object exists before the link is handed out");
    wait_until_drained(&s.app, JobKind::Google).await; // the queued sync comes due and runs
    let writes = s
        .google
        .requests()
        .iter()
        .filter(|(m, p)| m != "GET" && (p.ends_with("/loyaltyObject") || p.contains(&object_id)))
        .count();
    assert_eq!(writes, 1, "created once: the queued sync knows the object is up to date");
    assert_eq!(object["accountId"], "ML-0042-1337");
    let class = s.google.object("loyaltyClass", &format!("{ISSUER}.loyalty")).expect("class inserted");
    let logo = class["programLogo"]["sourceUri"]["uri"].as_str().unwrap().to_owned();
    let path = logo.strip_prefix(&s.app.public_url).expect("images are served by Passerelle");
    let image = s.app.client.get(s.app.url(path)).send().await.unwrap();
    assert_eq!((image.status().as_u16(), image.headers()["content-type"].to_str().unwrap()), (200, "image/png"));

    let r = s
        .app
        .api(Method::PATCH, &format!("/api/v1/passes/{serial}"))
        .json(&json!({"data": {"points": 999}, "message": "Double points this weekend"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually("the change reaches Google", async || {
        s.google.object("loyaltyObject", &object_id).is_some_and(|o| o["loyaltyPoints"]["balance"]["int"] == 999)
    })
    .await;
    eventually("the message is added with a notification", async || {
        s.google.object("loyaltyObject", &object_id).is_some_and(|o| {
            o["messages"].as_array().is_some_and(|m| {
                m.iter().any(|m| m["body"] == "Double points this weekend" && m["messageType"] == "TEXT_AND_NOTIFY")
            })
        })
    })
    .await;

    assert_eq!(s.app.api(Method::DELETE, &format!("/api/v1/passes/{serial}")).send().await.unwrap().status(), 200);
    eventually("a voided pass is INACTIVE at Google", async || {
        s.google.object("loyaltyObject", &object_id).is_some_and(|o| o["state"] == "INACTIVE")
    })
    .await;

    let order = s.app.create_pass("click-and-collect", example("click-and-collect")).await;
    let order_id = format!("{ISSUER}.{}", order["serial_number"].as_str().unwrap());
    check_save_link(order["google_save_url"].as_str().unwrap(), &order_id, "genericObjects");
    assert_eq!(s.google.object("genericObject", &order_id).unwrap()["genericType"], "GENERIC_RESERVATIONS");
}

/// A sync Google refuses for good is kept as dead with Google's reason, listed, and retryable.
async fn dead_google_syncs_are_listed_and_retried(backend: Backend) {
    let s = setup(backend).await;
    let created = s.app.create_pass("loyalty", example("loyalty")).await;
    let serial = created["serial_number"].as_str().unwrap().to_owned();
    let object_id = format!("{ISSUER}.{serial}");
    s.google.fail_next(1, 400, "invalidResource");
    let r = s
        .app
        .api(Method::PATCH, &format!("/api/v1/passes/{serial}"))
        .json(&json!({"data": {"points": 77}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let dead =
        async || -> Value { s.app.api(Method::GET, "/api/v1/google/dead").send().await.unwrap().json().await.unwrap() };
    eventually("the refused sync is dead", async || !dead().await["items"].as_array().unwrap().is_empty()).await;
    let item = dead().await["items"][0].clone();
    assert_eq!(item["serial_number"], serial.as_str());
    assert!(item["last_error"].as_str().unwrap().contains("invalidResource"), "{item}");

    let r = s.app.api(Method::POST, &format!("/api/v1/google/dead/{}/retry", item["id"])).send().await.unwrap();
    assert_eq!(r.status(), 200);
    eventually("the retried sync reaches Google", async || {
        s.google.object("loyaltyObject", &object_id).is_some_and(|o| o["loyaltyPoints"]["balance"]["int"] == 77)
    })
    .await;
    assert_eq!(dead().await["items"], json!([]));
    assert_eq!(s.app.api(Method::POST, "/api/v1/google/dead/999999/retry").send().await.unwrap().status(), 404);
}

/// Google keeps at most 10 messages per object: older ones are pruned, the newest kept.
async fn messages_are_pruned_to_ten(backend: Backend) {
    let s = setup(backend).await;
    let created = s.app.create_pass("loyalty", example("loyalty")).await;
    let serial = created["serial_number"].as_str().unwrap().to_owned();
    let object_id = format!("{ISSUER}.{serial}");
    for n in 0..12 {
        let text = format!("Offer number {n}");
        let r = s
            .app
            .api(Method::PATCH, &format!("/api/v1/passes/{serial}"))
            .json(&json!({"message": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        eventually("the message reaches Google", async || {
            s.google
                .object("loyaltyObject", &object_id)
                .is_some_and(|o| o["messages"].as_array().is_some_and(|m| m.iter().any(|m| m["body"] == text.as_str())))
        })
        .await;
    }
    let object = s.google.object("loyaltyObject", &object_id).unwrap();
    let messages = object["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 10, "never more than 10");
    assert_eq!(messages.last().unwrap()["body"], "Offer number 11");
    let types: Vec<&str> = messages.iter().map(|m| m["messageType"].as_str().unwrap()).collect();
    assert_eq!(
        types.iter().filter(|t| **t == "TEXT_AND_NOTIFY").count(),
        1,
        "3 a day, the first of which was pruned: {types:?}"
    );
}

async fn signed_callbacks_are_verified(backend: Backend) {
    let s = setup(backend).await;
    let created = s.app.create_pass("loyalty", example("loyalty")).await;
    let serial = created["serial_number"].as_str().unwrap().to_owned();
    let object_id = format!("{ISSUER}.{serial}");
    let class_id = format!("{ISSUER}.loyalty");
    let now = passerelle::store::now_ms();
    let post = async |body: Vec<u8>| {
        s.app.client.post(s.app.url("/google/callback")).body(body).send().await.unwrap().status()
    };
    let store = store_of(&s.app).await;
    eventually("the object is recorded", async || store.google_object(&serial).await.unwrap().is_some()).await;

    let save = s.signer.callback_body(ISSUER, &class_id, &object_id, "save", "nonce-1", now + 60_000, now + 3_600_000);
    assert_eq!(post(save.clone()).await, 200);
    assert!(store.google_object(&serial).await.unwrap().unwrap().saved, "the save is recorded");
    assert_eq!(post(save).await, 200, "a replay is acknowledged");

    let del = s.signer.callback_body(ISSUER, &class_id, &object_id, "del", "nonce-2", now + 60_000, now + 3_600_000);
    // Tampered: another object id in the signed message.
    let tampered = String::from_utf8(del.clone()).unwrap().replace(&serial, "someone-else");
    assert_eq!(post(tampered.into_bytes()).await, 400);
    let expired = s.signer.callback_body(ISSUER, &class_id, &object_id, "del", "nonce-3", now - 1_000, now + 3_600_000);
    assert_eq!(post(expired).await, 400);
    let old_key = s.signer.callback_body(ISSUER, &class_id, &object_id, "del", "nonce-4", now + 60_000, now - 1_000);
    assert_eq!(post(old_key).await, 400);
    assert_eq!(post(b"{\"signedMessage\": \"{}\"}".to_vec()).await, 400, "unsigned");
    assert!(store.google_object(&serial).await.unwrap().unwrap().saved, "bad messages change nothing");

    assert_eq!(post(del).await, 200);
    assert!(!store.google_object(&serial).await.unwrap().unwrap().saved, "the removal is recorded");
}

async fn store_of(app: &TestApp) -> Arc<dyn passerelle::store::Store> {
    let mut config = test_config();
    config.database.url = passerelle::secret::Secret::new(app.database_url.clone());
    passerelle::app::open_store(&config).await.unwrap()
}

/// Two processes (two connections to one database) share the per-issuer rate limit.
async fn the_rate_limit_is_shared(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let (a, b) = (store_of(&app).await, store_of(&app).await);
    let interval = 50;
    // Each reservation says when its slot starts: slots must never overlap, whoever asked.
    let take = |s: Arc<dyn passerelle::store::Store>| async move {
        let mut slots = Vec::new();
        for _ in 0..20 {
            slots.push(s.reserve_rate_slot("google", interval).await.unwrap());
        }
        slots
    };
    let (sa, sb) = tokio::join!(take(a), take(b));
    let mut all: Vec<i64> = sa.into_iter().chain(sb).collect();
    all.sort();
    for pair in all.windows(2) {
        assert!(pair[1] - pair[0] >= interval, "two slots closer than the interval: {all:?}");
    }
    assert!(all[39] - all[0] >= 39 * interval, "40 slots span 39 intervals: {all:?}");
}

async fn pass_page_offers_both_wallets(backend: Backend) {
    let s = setup(backend).await;
    let created = s.app.create_pass("loyalty", example("loyalty")).await;
    let page = created["pass_page_url"].as_str().unwrap();
    let get = async |ua: &str| {
        s.app
            .client
            .get(page)
            .header("User-Agent", ua)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .replace("&#x2f;", "/")
    };
    let android = get("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126 Mobile").await;
    let iphone = get("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148").await;
    for html in [&android, &iphone] {
        assert!(html.contains("Save to Google Wallet") && html.contains("Add to Apple Wallet"));
        assert!(html.contains("https://pay.google.com/gp/v/save/"));
    }
    let first = |h: &str| h.find("Save to Google Wallet").unwrap() < h.find("Add to Apple Wallet").unwrap();
    assert!(first(&android), "Google first on Android");
    assert!(!first(&iphone), "Apple first on an iPhone");
}

/// The Google state follows the order (collected → COMPLETED, cancelled → INACTIVE) and a
/// receipt is COMPLETED as soon as it is issued.
async fn order_and_receipt_states(backend: Backend) {
    let s = setup(backend).await;
    let store = json!({"id": "lyon-01", "name": "Maison Lumière Lyon", "latitude": 45.7609, "longitude": 4.859,
        "timezone": "Europe/Paris"});
    assert_eq!(s.app.api(Method::POST, "/api/v1/stores").json(&store).send().await.unwrap().status(), 201);
    let mut objects = Vec::new();
    for (number, status) in [("CC-G1", "collected"), ("CC-G2", "cancelled")] {
        let body = json!({
            "order_number": number, "store_id": "lyon-01", "customer": {"name": "Camille Durand"},
            "items": [{"label": "Scented candle", "quantity": 2}],
            "pickup": {"from": "2099-11-24T10:00:00+01:00", "until": "2099-11-24T19:00:00+01:00"},
        });
        let r = s.app.api(Method::POST, "/api/v1/orders").json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let order: Value = r.json().await.unwrap();
        let object_id = format!("{ISSUER}.{}", order["pass"]["serial_number"].as_str().unwrap());
        assert_eq!(s.google.object("genericObject", &object_id).unwrap()["state"], "ACTIVE", "placed: ACTIVE");
        if status == "collected" {
            let r =
                s.app.api(Method::POST, &format!("/api/v1/orders/{number}/status")).json(&json!({"status": "ready"}));
            assert_eq!(r.send().await.unwrap().status(), 200);
        }
        let r = s.app.api(Method::POST, &format!("/api/v1/orders/{number}/status")).json(&json!({"status": status}));
        assert_eq!(r.send().await.unwrap().status(), 200);
        objects.push((object_id, if status == "collected" { "COMPLETED" } else { "INACTIVE" }));
    }
    for (object_id, state) in &objects {
        eventually("the object's state follows the order", async || {
            s.google.object("genericObject", object_id).is_some_and(|o| o["state"] == *state)
        })
        .await;
    }
    let receipt = json!({
        "store_id": "lyon-01", "issued_at": "2026-11-22T15:42:00+01:00", "receipt_number": "R-G1",
        "lines": [{"sku": "CNDL-2", "label": "Scented candle", "quantity": 1, "unit_price": 500, "total": 500}],
        "totals": {"subtotal": 500, "tax": 100, "total": 600, "currency": "EUR"},
        "payment": {"method": "visa", "last4": "4242"}
    });
    let r = s.app.api(Method::POST, "/api/v1/receipts").json(&receipt).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let object_id = format!("{ISSUER}.{}", body["pass"]["serial_number"].as_str().unwrap());
    eventually("a receipt is COMPLETED at once", async || {
        s.google.object("genericObject", &object_id).is_some_and(|o| o["state"] == "COMPLETED")
    })
    .await;
}

on_both_backends!(
    order_and_receipt_states,
    passes_reach_google,
    dead_google_syncs_are_listed_and_retried,
    messages_are_pruned_to_ten,
    signed_callbacks_are_verified,
    the_rate_limit_is_shared,
    pass_page_offers_both_wallets
);
