//! Campaigns end to end, on SQLite and PostgreSQL: segment previews against a brute-force count,
//! and caps and quiet hours across campaigns. Reaching holders on both wallets, recovery and
//! approval have their own modules (`campaign_wallets`, `campaign_recovery`, `campaign_approval`);
//! the helpers here serve all four.

use std::sync::Arc;
use std::time::Duration;

use passerelle::config::Config;
use passerelle::store::{PassQuery, Store};
use passerelle::testkit::mock_google::MockGoogle;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app_on, test_config};
use crate::push::{eventually, mock, push_config, token};

pub const ISSUER: &str = "3388000000022141777";
pub const PASS_TYPE: &str = "pass.com.passerelle.demo";

pub async fn store_of(app: &TestApp) -> Arc<dyn Store> {
    let mut config = test_config();
    config.database.url = passerelle::secret::Secret::new(app.database_url.clone());
    passerelle::app::open_store(&config).await.unwrap()
}

pub async fn ok_json(resp: reqwest::Response, expected: StatusCode) -> Value {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expected, "{body}");
    body
}

pub use crate::helpers::add_store;

/// A member of `store` with `points`; returns (member id, pass serial).
pub async fn member(
    app: &TestApp,
    store: Option<&str>,
    points: i64,
    marketing: bool,
    language: &str,
    extra: Value,
) -> (String, String) {
    let mut body = json!({
        "first_name": "Camille", "language": language, "home_store_id": store,
        "email": format!("{}@example.com", passerelle::tokens::random_hex(6)),
        "consent": {"terms": true, "marketing": marketing},
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let created =
        ok_json(app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap(), StatusCode::CREATED).await;
    let id = created["id"].as_str().unwrap().to_owned();
    if points != 0 {
        let resp = app
            .api(Method::POST, &format!("/api/v1/members/{id}/points"))
            .json(&json!({"delta": points, "reason": "seed"}))
            .send()
            .await
            .unwrap();
        ok_json(resp, StatusCode::OK).await;
    }
    (id, created["pass"]["serial_number"].as_str().unwrap().to_owned())
}

/// Registers the pass on an iPhone, as Wallet does (the pass's own authentication token).
pub async fn on_iphone(app: &TestApp, store: &dyn Store, serial: &str, device: &str, push_token: &str) {
    let pass = store.pass(serial).await.unwrap().unwrap();
    let url = format!("{}/v1/devices/{device}/registrations/{PASS_TYPE}/{serial}", app.public_url);
    let resp = app
        .client
        .post(url)
        .header("Authorization", format!("ApplePass {}", pass.authentication_token))
        .json(&json!({"pushToken": push_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
}

/// The pass.json an iPhone gets for `serial` (GET through the web service).
pub async fn fetch_pass_json(app: &TestApp, store: &dyn Store, serial: &str) -> Value {
    let pass = store.pass(serial).await.unwrap().unwrap();
    let resp = app
        .client
        .get(format!("{}/v1/passes/{PASS_TYPE}/{serial}", app.public_url))
        .header("Authorization", format!("ApplePass {}", pass.authentication_token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    crate::helpers::unpack(&resp.bytes().await.unwrap()).json("pass.json")
}

pub fn back_field(pass: &Value, key: &str) -> Option<Value> {
    pass["storeCard"]["backFields"].as_array()?.iter().find(|f| f["key"] == key).cloned()
}

pub async fn create_campaign(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.client.post(app.url("/api/v1/campaigns")).bearer_auth(key).json(&body).send().await.unwrap()
}

pub async fn get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).bearer_auth(key).send().await.unwrap()
}

pub async fn stats(app: &TestApp, id: &str) -> Value {
    ok_json(get(app, crate::helpers::ADMIN, &format!("/api/v1/campaigns/{id}/stats")).await, StatusCode::OK).await
}

pub async fn wait_sent(app: &TestApp, id: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        last = stats(app, id).await;
        if last["status"] == "sent" {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("campaign {id} not sent: {last}");
}

pub fn no_quiet_hours(mut c: Config) -> Config {
    c.campaigns.quiet_hours = "off".into();
    c
}

// ---------------------------------------------------------------------------------------------

struct Seeded {
    store: Option<&'static str>,
    points: i64,
    marketing: bool,
    language: &'static str,
    vip: bool,
    age: i64,
    devices: usize,
}

pub async fn preview(app: &TestApp, segment: &str) -> (StatusCode, Value) {
    let resp =
        app.api(Method::POST, "/api/v1/segments/preview").json(&json!({"segment": segment})).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

async fn previews_match_a_brute_force_count(backend: Backend) {
    let app = spawn_app_on(backend, no_quiet_hours(test_config())).await;
    let store = store_of(&app).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let stores = [Some("paris-01"), Some("lyon-02"), None];
    let mut seeded = Vec::new();
    for i in 0..24usize {
        let s = Seeded {
            store: stores[i % 3],
            points: ((i * 137) % 1300) as i64,
            marketing: i % 4 != 0,
            language: if i % 2 == 0 { "fr" } else { "en" },
            vip: i % 5 == 0,
            age: 20 + i as i64,
            devices: (i / 2) % 3,
        };
        let extra = json!({"attributes": {"vip": s.vip, "age": s.age}});
        let (_, serial) = member(&app, s.store, s.points, s.marketing, s.language, extra).await;
        for d in 0..s.devices {
            on_iphone(&app, store.as_ref(), &serial, &format!("dev-{i}-{d}"), &token(i * 10 + d)).await;
        }
        seeded.push(s);
    }
    let tier = |p: i64| {
        if p >= 1000 {
            "gold"
        } else if p >= 300 {
            "premium"
        } else {
            "member"
        }
    };
    type Rule = Box<dyn Fn(&Seeded) -> bool>;
    let cases: Vec<(&str, Rule)> = vec![
        (
            r#"tier = "premium" and points >= 300 and store in ("paris-01", "lyon-02") and installed = true and platform = "apple""#,
            Box::new(move |s: &Seeded| tier(s.points) == "premium" && s.store.is_some() && s.devices > 0),
        ),
        ("points < 400 OR attributes.vip = true", Box::new(|s: &Seeded| s.points < 400 || s.vip)),
        (
            r#"not (store = "paris-01") and language = "en""#,
            Box::new(|s: &Seeded| s.store != Some("paris-01") && s.language == "en"),
        ),
        ("attributes.age >= 35 and joined_at > now - 1d", Box::new(|s: &Seeded| s.age >= 35)),
        ("last_purchase_at < now - 90d", Box::new(|_: &Seeded| false)),
        ("not (last_purchase_at < now - 90d) and platform != \"apple\"", Box::new(|s: &Seeded| s.devices == 0)),
    ];
    for (segment, rule) in &cases {
        let picked: Vec<&Seeded> = seeded.iter().filter(|s| s.marketing && rule(s)).collect();
        let (status, mut counts) = preview(&app, segment).await;
        assert_eq!(status, StatusCode::OK, "{segment}: {counts}");
        let warnings = counts.as_object_mut().unwrap().remove("warnings").unwrap();
        let codes: Vec<&str> = warnings.as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
        let expected_codes: &[&str] = if picked.is_empty() { &["empty_audience"] } else { &[] };
        assert_eq!(codes, expected_codes, "{segment}: {warnings}");
        let devices: usize = picked.iter().map(|s| s.devices).sum();
        let matching = seeded.iter().filter(|s| rule(s)).count();
        let expected = json!({
            "matching": matching, "members": picked.len(), "passes": picked.len(), "apple_devices": devices, "google_objects": 0,
            "held_back": {"daily_cap": 0, "quiet_hours": 0, "weekly_cap": 0}, "holdout": 0,
        });
        assert_eq!(counts, expected, "{segment}");
    }

    // Mistakes are named with their position; hostile strings stay values.
    let (status, err) = preview(&app, "points >= ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["field"], "segment");
    assert!(err["error"]["message"].as_str().unwrap().contains("position 11"), "{err}");
    let (status, err) = preview(&app, r#"tier = "premium"; DROP TABLE members"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("position 17"), "{err}");
    for hostile in [r#"tier = "x\" OR 1=1 --""#, r#"attributes.vip = "'); DELETE FROM members; --""#] {
        let (status, counts) = preview(&app, hostile).await;
        assert_eq!((status, &counts["members"]), (StatusCode::OK, &json!(0)), "{hostile}: {counts}");
    }
    let (_, all) = preview(&app, "points >= 0").await;
    assert_eq!(all["members"], seeded.iter().filter(|s| s.marketing).count(), "every member still there");
    let passes = store.list_passes(&PassQuery { limit: 100, ..PassQuery::default() }).await.unwrap();
    assert_eq!(passes.len(), 24);
}

// ---------------------------------------------------------------------------------------------

pub async fn google_setup(config: &mut Config, dir: &std::path::Path) -> MockGoogle {
    let google = MockGoogle::start().await.unwrap();
    config.google.sa_key = Some(google.service_account_json(dir));
    config.google.issuer_id = Some(ISSUER.into());
    config.google.api_url = google.api_url();
    config.google.rate_per_sec = 500;
    config.google.timeout_ms = 2000;
    google
}

/// Saved in Google Wallet: the object exists at Google and its save callback came.
pub async fn saved_on_google(store: &dyn Store, serial: &str) {
    eventually("the Google object is written", async || store.google_object(serial).await.unwrap().is_some()).await;
    let object_id = store.google_object(serial).await.unwrap().unwrap().object_id;
    assert!(store.record_google_callback(&format!("nonce-{serial}"), &object_id, true).await.unwrap());
}

// ---------------------------------------------------------------------------------------------

/// Quiet hours from an hour ago until `secs` from now, in UTC (`HH:MM:SS-HH:MM:SS`).
pub fn quiet_window_now(secs: i64) -> String {
    let now = jiff::Timestamp::now();
    let fmt = |t: jiff::Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).strftime("%H:%M:%S").to_string();
    format!("{}-{}", fmt(now - jiff::SignedDuration::from_hours(1)), fmt(now + jiff::SignedDuration::from_secs(secs)))
}

async fn caps_and_quiet_hours_hold_across_campaigns(backend: Backend) {
    let apns = mock().await;
    let mut config = push_config(&apns);
    config.campaigns.weekly_cap = 1;
    config.campaigns.daily_cap = 2;
    // Long enough for the set-up below on a loaded CI machine; the test then waits it out.
    config.campaigns.quiet_hours = quiet_window_now(15);
    let app = spawn_app_on(backend, config).await;
    let store = store_of(&app).await;
    // It is quiet time in UTC now; in Dhaka (UTC+6, no summer time) it is six hours later.
    add_store(&app, "utc-01", "UTC").await;
    add_store(&app, "dhaka-01", "Asia/Dhaka").await;
    let (_, x) = member(&app, Some("dhaka-01"), 100, true, "en", json!({})).await;
    let (_, y) = member(&app, Some("utc-01"), 100, true, "en", json!({})).await;
    on_iphone(&app, store.as_ref(), &x, "device-x", &token(1)).await;
    on_iphone(&app, store.as_ref(), &y, "device-y", &token(2)).await;
    let campaign = async |name: &str, priority: &str| {
        let body = json!({"name": name, "segment": "points >= 0", "message": {"en": name}, "priority": priority});
        let created = ok_json(create_campaign(&app, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await;
        created["id"].as_str().unwrap().to_owned()
    };

    let (_, counts) = preview(&app, "points >= 0").await;
    assert_eq!(counts["held_back"], json!({"daily_cap": 0, "quiet_hours": 1, "weekly_cap": 0}), "Y is in quiet hours");
    let first = campaign("first", "normal").await;
    eventually("X gets the first campaign", async || stats(&app, &first).await["sent"] == 1).await;
    let s = stats(&app, &first).await;
    assert_eq!((s["status"].as_str(), &s["held_back"]), (Some("sending"), &json!({"quiet_hours": 1})), "Y waits: {s}");
    let second = campaign("second", "normal").await;
    eventually("the second campaign handles X", async || stats(&app, &second).await["held_back"]["weekly_cap"] == 1)
        .await;
    let (_, counts) = preview(&app, "points >= 0").await;
    assert_eq!(counts["held_back"]["weekly_cap"], 1, "X is at the weekly cap: {counts}");

    // Quiet hours end: Y gets the first campaign (delayed, not dropped), then the weekly cap holds
    // the second one back for Y too.
    let s = wait_sent(&app, &first).await;
    assert_eq!((s["sent"].as_i64(), &s["held_back"]), (Some(2), &json!({})), "{s}");
    let s = wait_sent(&app, &second).await;
    assert_eq!((s["sent"].as_i64(), &s["held_back"]), (Some(0), &json!({"weekly_cap": 2})), "{s}");

    // Priority passes the weekly cap, never the daily one (Google's 3 a day; here 2).
    let third = campaign("third", "high").await;
    let s = wait_sent(&app, &third).await;
    assert_eq!((s["sent"].as_i64(), &s["held_back"]), (Some(2), &json!({})), "{s}");
    let fourth = campaign("fourth", "high").await;
    let s = wait_sent(&app, &fourth).await;
    assert_eq!((s["sent"].as_i64(), &s["held_back"]), (Some(0), &json!({"daily_cap": 2})), "{s}");
    let pass = store.pass(&y).await.unwrap().unwrap();
    assert_eq!(pass.data["offer"], "third", "Y's pass shows the last campaign it got");
}

on_both_backends!(previews_match_a_brute_force_count, caps_and_quiet_hours_hold_across_campaigns);

async_test!(a_text_longer_than_the_offer_field_is_refused);
/// A template may cap its offer field (here at 50 characters; its default has 42): a campaign
/// text longer than that is refused when the campaign is made (a pass breaking its template
/// could not be signed later).
async fn a_text_longer_than_the_offer_field_is_refused() {
    let templates = tempfile::tempdir().unwrap();
    crate::template_rules::copy_dir(&crate::helpers::repo().join("pass-templates"), templates.path());
    let toml = templates.path().join("loyalty/template.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let capped =
        text.replace("[fields.offer]\ntype = \"string\"\n", "[fields.offer]\ntype = \"string\"\nmax_length = 50\n");
    assert_ne!(text, capped, "the demo loyalty template declares its offer field");
    std::fs::write(&toml, capped).unwrap();
    let mut config = test_config();
    config.templates.dir = templates.path().to_owned();
    let app = spawn_app_on(Backend::Sqlite, config).await;
    let long = "x".repeat(51);
    let body = json!({"name": "Too long", "segment": "points >= 0", "message": {"en": "fits", "fr": long}});
    let err = ok_json(create_campaign(&app, crate::helpers::ADMIN, body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(err["error"]["field"], "message.fr", "{err}");
    let body = json!({"name": "Fits", "segment": "points >= 0", "message": {"en": "x".repeat(50)}});
    ok_json(create_campaign(&app, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await;
}
