//! A campaign on both wallets, on SQLite and PostgreSQL: it reaches exactly its holders on Apple
//! (mock APNs) and Google (mock Google), and a campaign to a whole Google class sends one class
//! message instead of one per object.

use std::collections::BTreeSet;

use passerelle::store::JobKind;
use passerelle::testkit::mock_google::MockGoogle;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::campaigns::{
    ISSUER, back_field, create_campaign, fetch_pass_json, get, google_setup, member, no_quiet_hours, ok_json,
    on_iphone, preview, saved_on_google, stats, store_of, wait_sent,
};
use crate::helpers::{Backend, spawn_app_on, wait_until_drained};
use crate::push::{eventually, mock, push_config, token};

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
    wait_until_drained(&app, JobKind::Push).await;
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
    wait_until_drained(&app, JobKind::Google).await;
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

on_both_backends!(
    a_campaign_reaches_exactly_its_holders_on_both_wallets,
    a_campaign_to_a_whole_google_class_sends_one_class_message,
);
