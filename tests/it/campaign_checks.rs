//! What the composer checks before sending, on SQLite and PostgreSQL: warnings on previews and
//! campaigns (a language without text, counted by brute force; a store that does not exist; an
//! audience of nobody; most of it in quiet hours, and until when), and a test send that reaches
//! the test card's pass only, outside the campaign's figures.

use std::collections::BTreeSet;

use passerelle::store::JobKind;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaign_drafts::{actions, send};
use crate::campaigns::{
    add_store, create_campaign, get, member, no_quiet_hours, ok_json, on_iphone, quiet_window_now, stats, store_of,
};
use crate::helpers::{ADMIN, Backend, TestApp, spawn_app_on, test_config, wait_until_drained};
use crate::push::{eventually, mock, push_config, token};

async fn preview_with(app: &TestApp, body: Value) -> Value {
    ok_json(app.api(Method::POST, "/api/v1/segments/preview").json(&body).send().await.unwrap(), StatusCode::OK).await
}

fn codes(found: &Value) -> Vec<&str> {
    found["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect()
}

fn warning<'a>(found: &'a Value, code: &str) -> &'a Value {
    found["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == code)
        .unwrap_or_else(|| panic!("{code}: {found}"))
}

async fn warnings_say_what_to_check_before_sending(backend: Backend) {
    let mut config = test_config();
    // Quiet hours now in UTC; in Dhaka (UTC+6) it is six hours later, outside them.
    config.campaigns.quiet_hours = quiet_window_now(3600);
    let quiet_end = config.campaigns.quiet_hours.split('-').nth(1).unwrap().to_owned();
    let app = spawn_app_on(backend, config).await;
    add_store(&app, "utc-01", "UTC").await;
    add_store(&app, "dhaka-01", "Asia/Dhaka").await;
    // (store, language, points, marketing consent)
    let people = [
        ("utc-01", "en", 500, true),
        ("utc-01", "en", 50, true),
        ("utc-01", "en", 700, false),
        ("utc-01", "fr", 400, true),
        ("utc-01", "en", 900, true),
        ("dhaka-01", "fr", 300, true),
        ("dhaka-01", "en", 350, true),
    ];
    for (store, language, points, marketing) in people {
        member(&app, Some(store), points, marketing, language, json!({})).await;
    }
    let segment = "points >= 300";
    let picked: Vec<_> = people.iter().filter(|p| p.3 && p.2 >= 300).collect();
    let en = picked.iter().filter(|p| p.1 == "en").count();
    let utc = picked.iter().filter(|p| p.0 == "utc-01").count();
    assert!(utc * 2 > picked.len() && en > 0, "the set-up has most holders in quiet hours");

    // French text only: the English speakers are counted; most holders are in quiet hours.
    let found = preview_with(&app, json!({"segment": segment, "message": {"fr": "Bonjour"}})).await;
    assert_eq!(found["passes"], picked.len(), "{found}");
    assert_eq!(codes(&found), ["missing_language", "mostly_quiet_hours"], "{found}");
    assert_eq!(warning(&found, "missing_language")["languages"], json!([{"language": "en", "members": en}]));
    let quiet = warning(&found, "mostly_quiet_hours");
    assert_eq!((quiet["holders"].as_u64(), quiet["of"].as_u64()), (Some(utc as u64), Some(picked.len() as u64)));
    assert_eq!(quiet["until"][0]["timezone"], "UTC", "{quiet}");
    let until = quiet["until"][0]["until"].as_str().unwrap();
    assert!(until.contains(&format!("T{quiet_end}+00:00")), "quiet hours end at {quiet_end}: {until}");
    assert!(quiet["message"].as_str().unwrap().contains(&quiet_end[..5]), "{quiet}");
    // Without texts, nothing about languages; with both, nothing either.
    assert_eq!(codes(&preview_with(&app, json!({"segment": segment})).await), ["mostly_quiet_hours"]);
    let both = json!({"segment": segment, "message": {"fr": "Bonjour", "en": "Hello"}});
    assert_eq!(codes(&preview_with(&app, both).await), ["mostly_quiet_hours"]);
    // Dhaka's holders are outside quiet hours.
    let dhaka = json!({"segment": "store = \"dhaka-01\"", "message": {"fr": "Bonjour", "en": "Hello"}});
    assert!(codes(&preview_with(&app, dhaka).await).is_empty());

    // A store that does not exist, an audience of nobody.
    let typo =
        preview_with(&app, json!({"segment": "store in (\"utc-01\", \"dhaka-1\")", "message": {"en": "Hi"}})).await;
    assert_eq!(warning(&typo, "unknown_store")["stores"], json!(["dhaka-1"]), "{typo}");
    let nobody = preview_with(&app, json!({"segment": "points >= 1000000"})).await;
    assert_eq!(codes(&nobody), ["empty_audience"]);

    // The campaign made comes back with the same warnings; they never block it.
    let body = json!({"name": "French only", "segment": segment, "message": {"fr": "Bonjour"}, "draft": true});
    let created = ok_json(create_campaign(&app, ADMIN, body).await, StatusCode::CREATED).await;
    assert_eq!(codes(&created), ["missing_language", "mostly_quiet_hours"], "{created}");
    let path = format!("/api/v1/campaigns/{}", created["id"].as_str().unwrap());
    let patch = json!({"message": {"fr": "Bonjour", "en": "Hello"}, "segment": "store = \"dhaka-01\""});
    let changed = ok_json(send(&app, ADMIN, Method::PATCH, &path, Some(patch)).await, StatusCode::OK).await;
    assert!(codes(&changed).is_empty(), "{changed}");
    let patch = json!({"segment": "store = \"nowhere\""});
    let changed = ok_json(send(&app, ADMIN, Method::PATCH, &path, Some(patch)).await, StatusCode::OK).await;
    assert_eq!(codes(&changed), ["unknown_store", "empty_audience"], "{changed}");
}

async fn a_test_send_reaches_the_test_card_only(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, no_quiet_hours(push_config(&apns))).await;
    let store = store_of(&app).await;
    let (tester, test_serial) = member(&app, None, 0, true, "fr", json!({})).await;
    let (_, other_serial) = member(&app, None, 500, true, "en", json!({})).await;
    on_iphone(&app, store.as_ref(), &test_serial, "device-tester", &token(1)).await;
    on_iphone(&app, store.as_ref(), &other_serial, "device-other", &token(2)).await;
    let card = store.member(&tester).await.unwrap().unwrap().card_number;

    let mut body = json!({"draft": true, "name": "Sale", "segment": "points >= 0",
        "message": {"en": "Sale this weekend", "fr": "Soldes ce week-end"}, "test_card_number": "0000000000000"});
    let err = ok_json(create_campaign(&app, ADMIN, body.clone()).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(err["error"]["field"], "test_card_number", "a card number of no member: {err}");
    body["test_card_number"] = json!(card);
    let created = ok_json(create_campaign(&app, ADMIN, body).await, StatusCode::CREATED).await;
    assert_eq!(created["test_card_number"], card.as_str());
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/campaigns/{id}");

    let before = store.pass(&test_serial).await.unwrap().unwrap();
    let other_before = store.pass(&other_serial).await.unwrap().unwrap();
    let pushes_before = apns.received_count();
    let sent = ok_json(send(&app, ADMIN, Method::POST, &format!("{path}/test"), None).await, StatusCode::OK).await;
    assert_eq!(sent, json!({"sent_to": {"card_number": card, "serial_number": test_serial}}));
    eventually("the test iPhone is pushed", async || apns.received_count() > pushes_before).await;
    wait_until_drained(&app, JobKind::Push).await;
    let pushed: BTreeSet<String> = apns.received()[pushes_before..].iter().map(|r| r.token.clone()).collect();
    assert_eq!(pushed, BTreeSet::from([token(1)]), "only the test card's device");
    let after = store.pass(&test_serial).await.unwrap().unwrap();
    assert!(after.version > before.version, "the test pass changed");
    assert_eq!(after.data["offer"], "Soldes ce week-end", "in the tester's language");
    assert_eq!(store.pass(&other_serial).await.unwrap().unwrap(), other_before, "no one else's pass changes");

    // Outside the campaign's figures; in its history.
    let s = stats(&app, &id).await;
    assert_eq!((s["status"].as_str(), s["targeted"].as_i64(), s["sent"].as_i64()), (Some("draft"), Some(0), Some(0)));
    assert_eq!(s["apple"]["accepted"], 0, "{s}");
    let history = ok_json(get(&app, ADMIN, &format!("{path}/history")).await, StatusCode::OK).await;
    assert_eq!(actions(&history), ["created", "test_sent"]);
    assert_eq!(history["items"][1]["detail"]["serial_number"], test_serial.as_str());

    // The test card can be changed and removed; without one there is nothing to test.
    let patch = json!({"test_card_number": "9999999999999"});
    let err =
        ok_json(send(&app, ADMIN, Method::PATCH, &path, Some(patch)).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(err["error"]["field"], "test_card_number");
    let cleared = send(&app, ADMIN, Method::PATCH, &path, Some(json!({"test_card_number": null}))).await;
    assert_eq!(ok_json(cleared, StatusCode::OK).await["test_card_number"], Value::Null);
    let err =
        ok_json(send(&app, ADMIN, Method::POST, &format!("{path}/test"), None).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(err["error"]["field"], "test_card_number");
    // Once approved, tests are over.
    send(&app, ADMIN, Method::PATCH, &path, Some(json!({"test_card_number": card}))).await;
    let submitted = send(&app, ADMIN, Method::POST, &format!("{path}/submit"), None).await;
    assert_eq!(ok_json(submitted, StatusCode::OK).await["status"], "approved");
    let late = send(&app, ADMIN, Method::POST, &format!("{path}/test"), None).await;
    assert_eq!(ok_json(late, StatusCode::CONFLICT).await["error"]["field"], "status");
}

on_both_backends!(warnings_say_what_to_check_before_sending, a_test_send_reaches_the_test_card_only);
