//! The PassKit web service, driven the way an iPhone drives it, on SQLite and PostgreSQL.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_valid_pass, example, spawn_app_on, test_config, unpack};

const DEVICE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const PUSH_TOKEN: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// What an iPhone knows about a pass after adding it: read from the downloaded pass.json.
pub struct Held {
    pub serial: String,
    pub token: String,
    pub pass_type: String,
    pub web_service_url: String,
}

/// Creates a loyalty pass, downloads it from its public URL and reads it like Wallet.
pub async fn add_to_wallet(app: &TestApp) -> Held {
    let created = app.create_pass("loyalty", example("loyalty")).await;
    let resp = app.client.get(created["apple_pass_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/vnd.apple.pkpass");
    let pass = assert_valid_pass(&resp.bytes().await.unwrap()).json("pass.json");
    Held {
        serial: pass["serialNumber"].as_str().unwrap().into(),
        token: pass["authenticationToken"].as_str().unwrap().into(),
        pass_type: pass["passTypeIdentifier"].as_str().unwrap().into(),
        web_service_url: pass["webServiceURL"].as_str().unwrap().into(),
    }
}

impl Held {
    pub fn registration(&self, device: &str) -> String {
        format!("{}/v1/devices/{device}/registrations/{}/{}", self.web_service_url, self.pass_type, self.serial)
    }

    pub fn serials(&self, device: &str, since: Option<&str>) -> String {
        let base = format!("{}/v1/devices/{device}/registrations/{}", self.web_service_url, self.pass_type);
        match since {
            Some(tag) => format!("{base}?passesUpdatedSince={tag}"),
            None => base,
        }
    }

    pub fn latest(&self) -> String {
        format!("{}/v1/passes/{}/{}", self.web_service_url, self.pass_type, self.serial)
    }
}

pub async fn register(app: &TestApp, held: &Held, device: &str) -> StatusCode {
    app.client
        .post(held.registration(device))
        .header("Authorization", format!("ApplePass {}", held.token))
        .json(&json!({"pushToken": PUSH_TOKEN}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn serials(app: &TestApp, held: &Held, since: Option<&str>) -> (StatusCode, Option<Value>) {
    let resp = app.client.get(held.serials(DEVICE, since)).send().await.unwrap();
    let status = resp.status();
    let body = resp.text().await.unwrap();
    (status, (!body.is_empty()).then(|| serde_json::from_str(&body).unwrap()))
}

async fn iphone_story(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let held = add_to_wallet(&app).await;
    assert_eq!(held.web_service_url, app.public_url);

    assert_eq!(register(&app, &held, DEVICE).await, 201, "first registration");
    assert_eq!(register(&app, &held, DEVICE).await, 200, "already registered");

    let (status, body) = serials(&app, &held, None).await;
    assert_eq!(status, 200);
    let body = body.unwrap();
    assert_eq!(body["serialNumbers"], json!([held.serial]));
    let tag = body["lastUpdated"].as_str().unwrap().to_owned();

    assert_eq!(serials(&app, &held, Some(&tag)).await.0, 204, "nothing changed since the tag");

    // The first download, as Wallet keeps it.
    let first = app
        .client
        .get(held.latest())
        .header("Authorization", format!("ApplePass {}", held.token))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let first_modified = first.headers()["last-modified"].to_str().unwrap().to_owned();

    let patched = app
        .api(Method::PATCH, &format!("/api/v1/passes/{}", held.serial))
        .json(&json!({"data": {"points": 999}, "message": "Double points this weekend"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);

    let (status, body) = serials(&app, &held, Some(&tag)).await;
    assert_eq!(status, 200, "the change is listed after the old tag");
    let body = body.unwrap();
    assert_eq!(body["serialNumbers"], json!([held.serial]));
    let new_tag = body["lastUpdated"].as_str().unwrap();
    assert!(new_tag.parse::<i64>().unwrap() > tag.parse::<i64>().unwrap(), "the tag grows");

    // Changed in the same second as the first download: still never 304.
    let resp = app
        .client
        .get(held.latest())
        .header("Authorization", format!("ApplePass {}", held.token))
        .header("If-Modified-Since", &first_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "a changed pass is sent again");
    let modified = resp.headers()["last-modified"].to_str().unwrap().to_owned();
    assert!(httpdate::parse_http_date(&modified).unwrap() > httpdate::parse_http_date(&first_modified).unwrap());
    let pass = unpack(&resp.bytes().await.unwrap()).json("pass.json");
    let points = pass["storeCard"]["primaryFields"].as_array().unwrap().iter().find(|f| f["key"] == "points").unwrap();
    assert_eq!(points["value"], 999);
    let offer = pass["storeCard"]["backFields"].as_array().unwrap().iter().find(|f| f["key"] == "offer").unwrap();
    assert_eq!(offer["value"], "Double points this weekend", "the message lands in the offer field");
    assert_eq!(pass["authenticationToken"], held.token.as_str(), "the token never changes");

    let resp = app
        .client
        .get(held.latest())
        .header("Authorization", format!("ApplePass {}", held.token))
        .header("If-Modified-Since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    assert!(resp.bytes().await.unwrap().is_empty());

    let wrong =
        app.client.get(held.latest()).header("Authorization", "ApplePass 0000000000000000000000").send().await.unwrap();
    assert_eq!(wrong.status(), 401);

    let resp = app
        .client
        .delete(held.registration(DEVICE))
        .header("Authorization", format!("ApplePass {}", held.token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(serials(&app, &held, None).await.0, 204, "unregistered: nothing listed");

    let resp = app
        .client
        .post(format!("{}/v1/log", held.web_service_url))
        .json(&json!({"logs": ["[2026-11-22 10:00:00 +0100] Web service error for pass.com.passerelle.demo"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn status_codes(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let held = add_to_wallet(&app).await;
    let auth = format!("ApplePass {}", held.token);
    let post = |url: String| app.client.post(url);

    // Register: 401 without or with a wrong token and for an unknown serial (which cannot be
    // told from a wrong token), 404 unknown pass type, 400 bad body or ids.
    let r = post(held.registration(DEVICE)).json(&json!({"pushToken": PUSH_TOKEN})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = post(held.registration(DEVICE))
        .header("Authorization", "ApplePass wrong-token-wrong-token")
        .json(&json!({"pushToken": PUSH_TOKEN}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let unknown = held.registration(DEVICE).replace(&held.serial, "no-such-serial");
    let r = post(unknown).header("Authorization", &auth).json(&json!({"pushToken": PUSH_TOKEN})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let wrong_token: Value = r.json().await.unwrap();
    let r = post(held.registration(DEVICE))
        .header("Authorization", "ApplePass wrong-token-wrong-token")
        .json(&json!({"pushToken": PUSH_TOKEN}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), wrong_token, "an unknown serial reads like a wrong token");
    let unknown_pass = held.latest().replace(&held.serial, "no-such-serial");
    let r = app.client.get(unknown_pass).header("Authorization", &auth).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let other_type = held.registration(DEVICE).replace(&held.pass_type, "pass.com.other");
    let r =
        post(other_type).header("Authorization", &auth).json(&json!({"pushToken": PUSH_TOKEN})).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = post(held.registration(DEVICE))
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    let r = post(held.registration(DEVICE))
        .header("Authorization", &auth)
        .json(&json!({"token": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "pushToken missing");
    let r = post(held.registration("bad%20device"))
        .header("Authorization", &auth)
        .json(&json!({"pushToken": PUSH_TOKEN}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "malformed device id");

    // Unregister: 401 with a wrong token.
    let r = app
        .client
        .delete(held.registration(DEVICE))
        .header("Authorization", "ApplePass nope-nope-nope-nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Serial list: 204 for an unknown device, 400 for a tag we never gave.
    assert_eq!(app.client.get(held.serials("unknown-device", None)).send().await.unwrap().status(), 204);
    assert_eq!(app.client.get(held.serials(DEVICE, Some("yesterday"))).send().await.unwrap().status(), 400);

    // Pass: HEAD answers like GET without a body; 401 without a token.
    let r = app.client.head(held.latest()).header("Authorization", &auth).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.apple.pkpass");
    assert!(r.headers().contains_key("last-modified"));
    assert_eq!(app.client.get(held.latest()).send().await.unwrap().status(), 401);

    // Log: 400 for a body that is not {"logs": [...]}; 413 for a body over the limit.
    let r = post(format!("{}/v1/log", held.web_service_url)).json(&json!({"lines": []})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let huge = json!({"logs": ["x".repeat(300_000)]});
    let r = post(format!("{}/v1/log", held.web_service_url)).json(&huge).send().await.unwrap();
    assert_eq!(r.status(), 413);
}

async fn voided_pass_is_served_voided(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let held = add_to_wallet(&app).await;
    let r = app.api(Method::DELETE, &format!("/api/v1/passes/{}", held.serial)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["voided"], true);
    let resp = app
        .client
        .get(held.latest())
        .header("Authorization", format!("ApplePass {}", held.token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "a voided pass is still served to the devices that hold it");
    let pass = assert_valid_pass(&resp.bytes().await.unwrap()).json("pass.json");
    assert_eq!(pass["voided"], true);
}

/// Many passes change at once while a device polls: every change is seen, none skipped.
async fn concurrent_changes_are_never_skipped(backend: Backend) {
    const PASSES: usize = 60;
    let app = std::sync::Arc::new(spawn_app_on(backend, test_config()).await);
    let mut held = Vec::new();
    for _ in 0..PASSES {
        let h = add_to_wallet(&app).await;
        assert_eq!(register(&app, &h, DEVICE).await, 201);
        held.push(h);
    }
    let (_, body) = serials(&app, &held[0], None).await;
    let start_tag = body.unwrap()["lastUpdated"].as_str().unwrap().to_owned();

    let poller = {
        let app = app.clone();
        let url = held[0].serials(DEVICE, None);
        tokio::spawn(async move {
            let mut tag = start_tag;
            let mut seen = std::collections::HashSet::new();
            let mut rounds = 0;
            loop {
                let resp = app.client.get(format!("{url}?passesUpdatedSince={tag}")).send().await.unwrap();
                if resp.status() == 200 {
                    let body: Value = resp.json().await.unwrap();
                    for s in body["serialNumbers"].as_array().unwrap() {
                        seen.insert(s.as_str().unwrap().to_owned());
                    }
                    tag = body["lastUpdated"].as_str().unwrap().to_owned();
                }
                rounds += 1;
                if seen.len() == PASSES || rounds > 5_000 {
                    return seen;
                }
            }
        })
    };
    let mut writers = Vec::new();
    for chunk in held.chunks(PASSES / 12) {
        let serials: Vec<String> = chunk.iter().map(|h| h.serial.clone()).collect();
        let app = app.clone();
        writers.push(tokio::spawn(async move {
            for serial in serials {
                let r = app
                    .api(Method::PATCH, &format!("/api/v1/passes/{serial}"))
                    .json(&json!({"data": {"points": 1}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let seen = poller.await.unwrap();
    assert_eq!(seen.len(), PASSES, "a device polling during concurrent changes saw every changed pass");
}

on_both_backends!(iphone_story, status_codes, voided_pass_is_served_voided, concurrent_changes_are_never_skipped);
