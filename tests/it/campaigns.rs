//! Campaigns end to end, on SQLite and PostgreSQL: segment previews against a brute-force count,
//! a campaign reaching exactly its holders on Apple (mock APNs) and Google (mock Google), caps
//! and quiet hours across campaigns, a server killed mid-send, scheduled sends with two
//! processes, and store keys under HQ approval with their audit history.

use std::collections::{BTreeSet, HashSet};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use passerelle::config::Config;
use passerelle::google::mock::MockGoogle;
use passerelle::store::{HolderSeed, NewCampaign, NewPass, PassQuery, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, example, repo, run, spawn_app_on, spawn_app_on_existing, test_config};
use crate::on_both_backends;
use crate::push::{eventually, mock, push_config, token};

const ISSUER: &str = "3388000000022141777";
const PASS_TYPE: &str = "pass.com.passerelle.demo";

async fn store_of(app: &TestApp) -> Arc<dyn Store> {
    let mut config = test_config();
    config.database_url = passerelle::secret::Secret::new(app.database_url.clone());
    passerelle::app::open_store(&config).await.unwrap()
}

async fn ok_json(resp: reqwest::Response, expected: StatusCode) -> Value {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expected, "{body}");
    body
}

async fn add_store(app: &TestApp, id: &str, timezone: &str) {
    let body = json!({"id": id, "name": id, "latitude": 48.85, "longitude": 2.35, "timezone": timezone});
    ok_json(app.api(Method::POST, "/api/v1/stores").json(&body).send().await.unwrap(), StatusCode::CREATED).await;
}

/// A member of `store` with `points`; returns (member id, pass serial).
async fn member(
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
async fn on_iphone(app: &TestApp, store: &dyn Store, serial: &str, device: &str, push_token: &str) {
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
async fn fetch_pass_json(app: &TestApp, store: &dyn Store, serial: &str) -> Value {
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

fn back_field(pass: &Value, key: &str) -> Option<Value> {
    pass["storeCard"]["backFields"].as_array()?.iter().find(|f| f["key"] == key).cloned()
}

async fn create_campaign(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.client.post(app.url("/api/v1/campaigns")).bearer_auth(key).json(&body).send().await.unwrap()
}

async fn get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).bearer_auth(key).send().await.unwrap()
}

async fn stats(app: &TestApp, id: &str) -> Value {
    ok_json(get(app, crate::helpers::ADMIN, &format!("/api/v1/campaigns/{id}/stats")).await, StatusCode::OK).await
}

async fn wait_sent(app: &TestApp, id: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..400 {
        last = stats(app, id).await;
        if last["status"] == "sent" {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("campaign {id} not sent: {last}");
}

fn no_quiet_hours(mut c: Config) -> Config {
    c.quiet_hours = "off".into();
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

async fn preview(app: &TestApp, segment: &str) -> (StatusCode, Value) {
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
        let (status, counts) = preview(&app, segment).await;
        assert_eq!(status, StatusCode::OK, "{segment}: {counts}");
        let devices: usize = picked.iter().map(|s| s.devices).sum();
        let expected = json!({
            "members": picked.len(), "passes": picked.len(), "apple_devices": devices, "google_objects": 0,
            "held_back": {"daily_cap": 0, "quiet_hours": 0, "weekly_cap": 0},
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

async fn google_setup(config: &mut Config, dir: &std::path::Path) -> MockGoogle {
    let google = MockGoogle::start().await.unwrap();
    config.google_sa_key = Some(google.service_account_json(dir));
    config.google_issuer_id = Some(ISSUER.into());
    config.google_api_url = google.api_url();
    config.google_rate_per_sec = 500;
    config.google_timeout_ms = 2000;
    google
}

/// Saved in Google Wallet: the object exists at Google and its save callback came.
async fn saved_on_google(store: &dyn Store, serial: &str) {
    eventually("the Google object is written", async || store.google_object(serial).await.unwrap().is_some()).await;
    let object_id = store.google_object(serial).await.unwrap().unwrap().object_id;
    assert!(store.record_google_callback(&format!("nonce-{serial}"), &object_id, true).await.unwrap());
}

fn campaign_messages(google: &MockGoogle, serial: &str) -> Vec<Value> {
    let object = google.object("loyaltyObject", &format!("{ISSUER}.{serial}")).unwrap_or(Value::Null);
    object["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["id"].as_str().is_some_and(|id| id.starts_with("campaign-")))
        .cloned()
        .collect()
}

async fn a_campaign_reaches_exactly_its_holders_on_both_wallets(backend: Backend) {
    let apns = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = no_quiet_hours(push_config(&apns));
    let google = google_setup(&mut config, dir.path()).await;
    let app = spawn_app_on(backend, config).await;
    let store = store_of(&app).await;
    // (points, marketing consent, language, iPhone, Google)
    let people = [
        (350, true, "fr", true, true),   // A: premium, consent: reached on both wallets
        (250, true, "fr", true, true),   // B: not premium
        (500, false, "fr", true, true),  // C: premium without marketing consent
        (320, true, "en", false, true),  // D: premium, Google only
        (1200, true, "en", true, false), // E: gold
        (330, true, "en", true, false),  // F: premium, iPhone only (no Google message for it)
    ];
    let mut serials = Vec::new();
    for (n, (points, marketing, language, iphone, on_google)) in people.iter().enumerate() {
        let (_, serial) = member(&app, None, *points, *marketing, language, json!({})).await;
        if *on_google {
            saved_on_google(store.as_ref(), &serial).await;
        }
        if *iphone {
            on_iphone(&app, store.as_ref(), &serial, &format!("device-{n}"), &token(n)).await;
        }
        if n == 0 {
            // A's old iPhone: APNs says its token is gone.
            on_iphone(&app, store.as_ref(), &serial, "device-old", &token(99)).await;
            apns.answer_token(&token(99), 410, "Unregistered");
        }
        serials.push(serial);
    }
    let (_, counts) = preview(&app, r#"tier = "premium" and points >= 300"#).await;
    assert_eq!(counts["members"], 3, "{counts}");
    assert_eq!((counts["apple_devices"].as_i64(), counts["google_objects"].as_i64()), (Some(3), Some(2)), "{counts}");
    let pushes_before = apns.received_count();

    let body = json!({
        "name": "Private sale", "segment": r#"tier = "premium" and points >= 300"#,
        "message": {"fr": "Vente privée : -20 % ce week-end", "en": "Private sale: 20% off this weekend"},
    });
    let created = ok_json(create_campaign(&app, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await;
    assert_eq!(created["status"], "approved", "an HQ campaign is approved as it is made");
    let id = created["id"].as_str().unwrap().to_owned();
    let stats = wait_sent(&app, &id).await;
    assert_eq!((stats["targeted"].as_i64(), stats["sent"].as_i64()), (Some(3), Some(3)), "{stats}");

    // Apple: exactly A's and F's iPhones are pushed; A's next download shows the message with a
    // changeMessage.
    eventually("the iPhones are pushed", async || apns.received_count() >= pushes_before + 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pushed: BTreeSet<String> = apns.received()[pushes_before..].iter().map(|r| r.token.clone()).collect();
    assert_eq!(pushed, BTreeSet::from([token(0), token(5)]), "only A's and F's devices");
    let pass = fetch_pass_json(&app, store.as_ref(), &serials[0]).await;
    let offer = back_field(&pass, "offer").expect("the offer field");
    assert_eq!(offer["value"], "Vente privée : -20 % ce week-end");
    assert!(offer["changeMessage"].as_str().unwrap().contains("%@"), "shown on the lock screen: {offer}");
    for other in [1, 2, 4] {
        let p = store.pass(&serials[other]).await.unwrap().unwrap();
        assert!(p.data.get("offer").is_none(), "holder {other} untouched: {}", p.data);
    }

    // Google: A and D get one TEXT_AND_NOTIFY message each, in their language, no one else.
    eventually("Google has both messages", async || {
        campaign_messages(&google, &serials[0]).len() == 1 && campaign_messages(&google, &serials[3]).len() == 1
    })
    .await;
    let a = &campaign_messages(&google, &serials[0])[0];
    assert_eq!(
        (a["id"].as_str(), a["messageType"].as_str()),
        (Some(format!("campaign-{id}").as_str()), Some("TEXT_AND_NOTIFY"))
    );
    assert_eq!(a["body"], "Vente privée : -20 % ce week-end");
    let schema_errors = crate::google_schema::Discovery::load().validate("Message", a);
    assert!(schema_errors.is_empty(), "{schema_errors:?}");
    assert_eq!(campaign_messages(&google, &serials[3])[0]["body"], "Private sale: 20% off this weekend");
    // F's object exists (its save link works) but F never saved it: no message reaches anyone there.
    for other in [1, 2, 4, 5] {
        assert!(campaign_messages(&google, &serials[other]).is_empty(), "holder {other} got no Google message");
    }

    // The reach: pushed and accepted (or refused, with APNs's reason), fetched by the device
    // afterwards, Google accepted.
    eventually("every push answered", async || {
        let s = self::stats(&app, &id).await;
        s["apple"]["accepted"].as_i64().unwrap_or(0) + s["apple"]["rejected"].as_i64().unwrap_or(0) == 3
    })
    .await;
    let stats = self::stats(&app, &id).await;
    assert_eq!(
        stats["apple"],
        json!({"accepted": 2, "rejected": 1, "rejected_by_reason": {"Unregistered": 1}, "fetched": 1}),
        "{stats}"
    );
    assert_eq!(stats["google"], json!({"accepted": 2, "failed": 0, "pending": 0, "class_message": null}), "{stats}");
    let history =
        ok_json(get(&app, crate::helpers::ADMIN, &format!("/api/v1/campaigns/{id}/history")).await, StatusCode::OK)
            .await;
    let actions: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["created", "approved", "sending", "sent"]);
}

/// A campaign to every Google holder of the loyalty class: one class message (localized), no
/// message per object; a campaign to part of them: one message per object.
async fn a_campaign_to_a_whole_google_class_sends_one_class_message(backend: Backend) {
    let apns = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = no_quiet_hours(push_config(&apns));
    let google = google_setup(&mut config, dir.path()).await;
    let app = spawn_app_on(backend, config).await;
    let store = store_of(&app).await;
    let (_, a) = member(&app, None, 10, true, "fr", json!({})).await;
    let (_, b) = member(&app, None, 10, true, "en", json!({})).await;
    let (_, c) = member(&app, None, 10, true, "en", json!({})).await;
    saved_on_google(store.as_ref(), &a).await;
    saved_on_google(store.as_ref(), &b).await;
    on_iphone(&app, store.as_ref(), &c, "device-c", &token(3)).await;

    let body = json!({"name": "Everyone", "segment": "points >= 0", "message": {"en": "Open late tonight", "fr": "Ouvert tard ce soir"}});
    let id = ok_json(create_campaign(&app, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the class message is sent", async || {
        stats(&app, &id).await["google"]["class_message"]["sent_at"].is_string()
    })
    .await;
    let s = wait_sent(&app, &id).await;
    assert_eq!((s["sent"].as_i64(), s["google"]["accepted"].as_i64()), (Some(3), Some(2)), "{s}");
    let class = google.object("loyaltyClass", &format!("{ISSUER}.loyalty")).unwrap();
    let messages: Vec<&Value> =
        class["messages"].as_array().unwrap().iter().filter(|m| m["id"] == format!("campaign-{id}")).collect();
    assert_eq!(messages.len(), 1, "{class}");
    assert_eq!(
        (messages[0]["body"].as_str(), messages[0]["messageType"].as_str()),
        (Some("Open late tonight"), Some("TEXT_AND_NOTIFY"))
    );
    assert_eq!(
        messages[0]["localizedBody"]["translatedValues"],
        json!([{"language": "fr", "value": "Ouvert tard ce soir"}])
    );
    let schema_errors = crate::google_schema::Discovery::load().validate("Message", messages[0]);
    assert!(schema_errors.is_empty(), "the class message fits Google's Message schema: {schema_errors:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for serial in [&a, &b] {
        assert!(campaign_messages(&google, serial).is_empty(), "no message per object");
    }
    let adds = google.requests().iter().filter(|(m, p)| m == "POST" && p.ends_with("/addMessage")).count();
    assert_eq!(adds, 1, "one addMessage for the whole class");
    assert_eq!(
        store.pass(&a).await.unwrap().unwrap().data["offer"],
        "Ouvert tard ce soir",
        "the passes still carry it"
    );

    let body = json!({"name": "French only", "segment": r#"language = "fr""#, "message": {"fr": "Bonjour"}});
    let id = ok_json(create_campaign(&app, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_sent(&app, &id).await;
    eventually("A gets its own message", async || campaign_messages(&google, &a).len() == 1).await;
    assert!(stats(&app, &id).await["google"]["class_message"].is_null());
    assert!(campaign_messages(&google, &b).is_empty());
}

// ---------------------------------------------------------------------------------------------

/// Quiet hours from an hour ago until `secs` from now, in UTC (`HH:MM:SS-HH:MM:SS`).
fn quiet_window_now(secs: i64) -> String {
    let now = jiff::Timestamp::now();
    let fmt = |t: jiff::Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).strftime("%H:%M:%S").to_string();
    format!("{}-{}", fmt(now - jiff::SignedDuration::from_hours(1)), fmt(now + jiff::SignedDuration::from_secs(secs)))
}

async fn caps_and_quiet_hours_hold_across_campaigns(backend: Backend) {
    let apns = mock().await;
    let mut config = push_config(&apns);
    config.campaign_weekly_cap = 1;
    config.campaign_daily_cap = 2;
    config.quiet_hours = quiet_window_now(6);
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

// ---------------------------------------------------------------------------------------------

fn seed(n: usize, data: &Value) -> HolderSeed {
    HolderSeed {
        member_id: format!("mem_crash{n:06}"),
        card_number: format!("C{n:011}"),
        first_name: "Crash".into(),
        language: Some("en".into()),
        home_store_id: None,
        consent_marketing: true,
        points: 100,
        tier: "member".into(),
        attributes: json!({}),
        pass: NewPass {
            serial_number: format!("CRASH-{n:06}"),
            template: "loyalty".into(),
            data: data.clone(),
            authentication_token: passerelle::tokens::authentication_token(),
            share_token: passerelle::tokens::serial_number(),
        },
        device: Some((format!("crash-device-{n}"), token(n))),
    }
}

fn approved_campaign(id: &str, segment: &str, send_at: Option<i64>) -> NewCampaign {
    NewCampaign {
        id: id.into(),
        name: id.into(),
        segment: segment.into(),
        scope: "hq".into(),
        messages: [("en".to_owned(), format!("message of {id}"))].into(),
        priority: "normal".into(),
        status: "approved".into(),
        send_at,
        created_by: "test".into(),
    }
}

/// SIGKILL in the middle of a fan-out: after a restart every holder has the message, each pass
/// changed exactly once (the version tags are exactly 1..=N), every device pushed.
async fn a_campaign_killed_mid_send_finishes_without_gap_or_duplicate(backend: Backend) {
    const HOLDERS: usize = 2_000;
    let apns = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = backend.database_url(dir.path()).await;
    let mut config = test_config();
    config.database_url = passerelle::secret::Secret::new(db_url.clone());
    let store = passerelle::app::open_store(&config).await.unwrap();
    let data = example("loyalty");
    let seeds: Vec<HolderSeed> = (0..HOLDERS).map(|n| seed(n, &data)).collect();
    store.seed_holders(&seeds).await.unwrap();
    store.insert_campaign(approved_campaign("cmp_crash", "points >= 0", None), "test").await.unwrap();

    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .arg("serve")
            .current_dir(repo())
            .env("PASSERELLE_DATABASE_URL", &db_url)
            .env("PASSERELLE_LISTEN", "127.0.0.1:0")
            .env("PASSERELLE_APNS_URL", apns.url())
            .env("PASSERELLE_APNS_CA_FILE", repo().join("certs-example/root-ca.pem"))
            .env("PASSERELLE_CAMPAIGN_BATCH_SIZE", "20")
            .env("PASSERELLE_QUIET_HOURS", "off")
            .env("PASSERELLE_PUSH_POLL_MS", "50")
            .env("PASSERELLE_PUSH_LEASE_SECS", "2")
            .env("PASSERELLE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = start();
    eventually("the fan-out is under way", async || store.campaign_stats("cmp_crash").await.unwrap().sent >= 100).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = store.campaign_stats("cmp_crash").await.unwrap();
    assert!(at_kill.sent < HOLDERS as i64, "killed mid-send ({} sent)", at_kill.sent);
    assert_eq!(at_kill.targeted, HOLDERS as i64, "every holder targeted before the kill");

    let mut second = start();
    for _ in 0..600 {
        if store.campaign("cmp_crash").await.unwrap().unwrap().status == "sent"
            && apns.received().iter().map(|r| r.token.clone()).collect::<HashSet<_>>().len() == HOLDERS
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let stats = store.campaign_stats("cmp_crash").await.unwrap();
    assert_eq!((stats.targeted, stats.sent, stats.pending), (HOLDERS as i64, HOLDERS as i64, 0), "{stats:?}");
    let passes = store.list_passes(&PassQuery { limit: 10_000, ..PassQuery::default() }).await.unwrap();
    assert_eq!(passes.len(), HOLDERS);
    let versions: BTreeSet<i64> = passes.iter().map(|p| p.version).collect();
    assert_eq!(versions, (1..=HOLDERS as i64).collect(), "each pass changed exactly once, none skipped");
    assert!(passes.iter().all(|p| p.data["offer"] == "message of cmp_crash"));
    let pushed: HashSet<String> = apns.received().into_iter().map(|r| r.token).collect();
    assert_eq!(pushed.len(), HOLDERS, "every device pushed");
    let history = store.campaign_history("cmp_crash").await.unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["created", "approved", "sending", "sent"], "started once, finished once");
}

// ---------------------------------------------------------------------------------------------

/// Two server processes on one database: a scheduled campaign goes out at its time, once.
async fn a_scheduled_campaign_goes_out_once_with_two_servers(backend: Backend) {
    let apns = mock().await;
    let config = no_quiet_hours(push_config(&apns));
    let one = spawn_app_on(backend, config.clone()).await;
    let mut config_two = config;
    config_two.database_url = passerelle::secret::Secret::new(one.database_url.clone());
    let two = spawn_app_on_existing(config_two).await;
    let store = store_of(&one).await;
    for n in 0..3 {
        let (_, serial) = member(&one, None, 10, true, "en", json!({})).await;
        on_iphone(&one, store.as_ref(), &serial, &format!("device-{n}"), &token(n)).await;
    }
    // A stored campaign that cannot start (its segment no longer parses) fails loudly, alone.
    store.insert_campaign(approved_campaign("cmp_broken", "points >=", None), "test").await.unwrap();
    eventually("the broken campaign fails", async || {
        store.campaign("cmp_broken").await.unwrap().unwrap().status == "failed"
    })
    .await;
    let failed = store.campaign_history("cmp_broken").await.unwrap().pop().unwrap();
    assert_eq!(failed.action, "failed");
    assert!(failed.detail["error"].as_str().unwrap().contains("position"), "{:?}", failed.detail);
    let send_at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let body = json!({"name": "Tomorrow", "segment": "points >= 0", "message": {"en": "Doors open at 8"},
                      "send_at": send_at.to_string()});
    let created = ok_json(create_campaign(&two, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await;
    let id = created["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(stats(&one, &id).await["targeted"], 0, "not before its time");
    let s = wait_sent(&one, &id).await;
    assert_eq!(s["sent"], 3, "{s}");
    let started = store.campaign(&id).await.unwrap().unwrap().started_at.unwrap();
    assert!(started >= send_at.as_millisecond(), "went out at send_at, not before");
    let history = store.campaign_history(&id).await.unwrap();
    assert_eq!(history.iter().filter(|e| e.action == "sending").count(), 1, "started by one process only");
    eventually("three pushes", async || apns.received_count() >= 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(apns.received_count(), 3, "one push per device, not one per process");
    drop(two);
}

// ---------------------------------------------------------------------------------------------

async fn new_key(app: &TestApp, body: Value) -> (String, Value) {
    let created =
        ok_json(app.api(Method::POST, "/api/v1/keys").json(&body).send().await.unwrap(), StatusCode::CREATED).await;
    (created["key"].as_str().unwrap().to_owned(), created)
}

async fn store_keys_need_hq_approval_and_stay_in_their_store(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, no_quiet_hours(push_config(&apns))).await;
    let store = store_of(&app).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let (paris_member, paris_serial) = member(&app, Some("paris-01"), 400, true, "fr", json!({})).await;
    let (_, quiet_parisian) = member(&app, Some("paris-01"), 400, false, "fr", json!({})).await;
    let (lyon_member, lyon_serial) = member(&app, Some("lyon-02"), 400, true, "fr", json!({})).await;
    on_iphone(&app, store.as_ref(), &paris_serial, "device-paris", &token(1)).await;
    on_iphone(&app, store.as_ref(), &lyon_serial, "device-lyon", &token(2)).await;

    // HQ makes a key for the Paris store; the secret is shown once, with its scope.
    let (paris, created) = new_key(&app, json!({"scope": "store:paris-01"})).await;
    assert_eq!(created["scope"], "store:paris-01");
    let status = new_key_status(&app, json!({"scope": "store:nowhere"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a key for an unknown store");
    let resp = app
        .client
        .post(app.url("/api/v1/keys"))
        .bearer_auth(&paris)
        .json(&json!({"scope": "hq"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "a store key makes no keys");
    assert_eq!(get(&app, &paris, "/api/v1/passes").await.status(), StatusCode::FORBIDDEN, "nor reads the pass API");

    // A till with the Paris key may still credit a Lyon member who shops in Paris.
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/members/{lyon_member}/points")))
        .bearer_auth(&paris)
        .json(&json!({"delta": 10, "reason": "purchase in Paris", "store_id": "paris-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // It can target neither another store nor everyone.
    let message = json!({"fr": "Dégustation samedi à Paris"});
    for (scope, segment) in [("store:lyon-02", "points >= 0"), ("hq", "points >= 0")] {
        let body = json!({"name": "x", "segment": segment, "message": message, "scope": scope});
        assert_eq!(create_campaign(&app, &paris, body).await.status(), StatusCode::FORBIDDEN, "{scope}");
    }
    let body = json!({"name": "x", "segment": r#"store = "lyon-02""#, "message": message});
    let err = ok_json(create_campaign(&app, &paris, body).await, StatusCode::FORBIDDEN).await;
    assert!(err["error"]["message"].as_str().unwrap().contains("lyon-02"), "{err}");
    let resp = app
        .client
        .post(app.url("/api/v1/segments/preview"))
        .bearer_auth(&paris)
        .json(&json!({"segment": "points >= 0"}))
        .send()
        .await
        .unwrap();
    let counts = ok_json(resp, StatusCode::OK).await;
    assert_eq!(counts["members"], 1, "a store previews its own consenting members only: {counts}");

    // Its own campaign waits for HQ.
    let body = json!({"name": "Tasting", "segment": "points >= 300", "message": message});
    let created = ok_json(create_campaign(&app, &paris, body).await, StatusCode::CREATED).await;
    assert_eq!(
        (created["status"].as_str(), created["scope"].as_str()),
        (Some("pending_approval"), Some("store:paris-01"))
    );
    let id = created["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stats(&app, &id).await["targeted"], 0, "nothing goes out before approval");
    let approve = |key: String| {
        let url = app.url(&format!("/api/v1/campaigns/{id}/approve"));
        let client = app.client.clone();
        async move { client.post(url).bearer_auth(key).send().await.unwrap() }
    };
    assert_eq!(approve(paris.clone()).await.status(), StatusCode::FORBIDDEN, "a store cannot approve itself");
    let reject =
        app.api(Method::POST, &format!("/api/v1/campaigns/{id}/reject")).json(&json!({})).send().await.unwrap();
    assert_eq!(ok_json(reject, StatusCode::UNPROCESSABLE_ENTITY).await["error"]["field"], "reason");
    let approved = ok_json(approve(crate::helpers::ADMIN.into()).await, StatusCode::OK).await;
    assert_eq!(approved["status"], "approved");
    let s = wait_sent(&app, &id).await;
    assert_eq!((s["targeted"].as_i64(), s["sent"].as_i64()), (Some(1), Some(1)), "only the consenting Parisian: {s}");
    assert_eq!(store.pass(&paris_serial).await.unwrap().unwrap().data["offer"], "Dégustation samedi à Paris");
    assert!(store.pass(&lyon_serial).await.unwrap().unwrap().data.get("offer").is_none());
    assert!(store.pass(&quiet_parisian).await.unwrap().unwrap().data.get("offer").is_none());
    let again = approve(crate::helpers::ADMIN.into()).await;
    assert_eq!(ok_json(again, StatusCode::CONFLICT).await["error"]["message"], format!("campaign {id} is sent"));

    // Who did what, when.
    let history = ok_json(get(&app, &paris, &format!("/api/v1/campaigns/{id}/history")).await, StatusCode::OK).await;
    let items = history["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["created", "approved", "sending", "sent"]);
    let paris_key_id = created["created_by"].as_str().unwrap();
    assert!(items[0]["actor"].as_str().unwrap().starts_with(paris_key_id), "{}", items[0]);
    assert!(items[1]["actor"].as_str().unwrap().starts_with("admin-token"), "{}", items[1]);
    assert!(items.iter().all(|e| e["at"].as_str().is_some_and(|t| t.ends_with('Z'))));
    assert_eq!(items[3]["detail"], json!({"sent": 1}));

    // Rejected with a reason, recorded; HQ campaigns stay out of the store's sight.
    let body = json!({"name": "Second", "segment": "points >= 0", "message": message});
    let second = ok_json(create_campaign(&app, &paris, body).await, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .api(Method::POST, &format!("/api/v1/campaigns/{second}/reject"))
        .json(&json!({"reason": "clashes with the national sale"}))
        .send()
        .await
        .unwrap();
    let rejected = ok_json(resp, StatusCode::OK).await;
    assert_eq!(
        (rejected["status"].as_str(), rejected["reject_reason"].as_str()),
        (Some("rejected"), Some("clashes with the national sale"))
    );
    let history =
        ok_json(get(&app, &paris, &format!("/api/v1/campaigns/{second}/history")).await, StatusCode::OK).await;
    assert_eq!(history["items"][1]["detail"]["reason"], "clashes with the national sale");
    let body = json!({"name": "National", "segment": "points >= 0", "message": {"fr": "Soldes"}, "send_at": "2099-01-01T09:00:00Z"});
    let national = ok_json(create_campaign(&app, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&app, &paris, &format!("/api/v1/campaigns/{national}")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(&app, &paris, &format!("/api/v1/campaigns/{national}/stats")).await.status(), StatusCode::FORBIDDEN);
    let cancel = |key: String| {
        let url = app.url(&format!("/api/v1/campaigns/{national}/cancel"));
        let client = app.client.clone();
        async move { client.post(url).bearer_auth(key).send().await.unwrap() }
    };
    assert_eq!(cancel(paris.clone()).await.status(), StatusCode::FORBIDDEN, "not the store's campaign");
    assert_eq!(ok_json(cancel(crate::helpers::ADMIN.into()).await, StatusCode::OK).await["status"], "cancelled");
    assert_eq!(cancel(crate::helpers::ADMIN.into()).await.status(), StatusCode::CONFLICT);
    let listed = ok_json(get(&app, &paris, "/api/v1/campaigns").await, StatusCode::OK).await;
    let ids: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.as_str(), id.as_str()], "a store lists its own campaigns, newest first");
    let _ = paris_member;

    // The CLI makes store keys too.
    let (ok, out) = run(std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["keys", "create", "--store", "lyon-02"])
        .env("PASSERELLE_DATABASE_URL", &app.database_url));
    assert!(ok && out.contains("scope: store:lyon-02"), "{out}");
}

async fn new_key_status(app: &TestApp, body: Value) -> StatusCode {
    app.api(Method::POST, "/api/v1/keys").json(&body).send().await.unwrap().status()
}

on_both_backends!(
    previews_match_a_brute_force_count,
    a_campaign_reaches_exactly_its_holders_on_both_wallets,
    a_campaign_to_a_whole_google_class_sends_one_class_message,
    caps_and_quiet_hours_hold_across_campaigns,
    a_campaign_killed_mid_send_finishes_without_gap_or_duplicate,
    a_scheduled_campaign_goes_out_once_with_two_servers,
    store_keys_need_hq_approval_and_stay_in_their_store,
);
