//! Redemption at the till, on SQLite and PostgreSQL: by code (as typed or scanned) or by card
//! and offer, alone or in a receipt's own transaction; once only (the second names when and
//! where), within the offer's dates, stores and budget; reversed by the same store within
//! PASSERELLE_OFFER_REVERSE_MINUTES; and 50 tills redeeming one code at once: one succeeds.

use passerelle::store::{OfferRecord, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaign_approval::new_key;
use crate::campaigns::{add_store, member, store_of};
use crate::helpers::{Backend, TestApp, spawn_app_on, test_config};
use crate::offers::{hq_offer, issue, member_offers, offer_body, send};

fn field_of(out: &Value) -> &str {
    out["error"]["field"].as_str().unwrap_or_default()
}

fn message_of(out: &Value) -> &str {
    out["error"]["message"].as_str().unwrap_or_default()
}

/// An offer issued to `members` (HQ), with `extra` fields; returns its id and each member's code.
async fn issued(app: &TestApp, members: &[&str], extra: Value) -> (String, Vec<String>) {
    let mut body = offer_body();
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let offer = hq_offer(app, body).await;
    issue(app, &offer, members).await;
    let mut codes = Vec::new();
    for m in members {
        let all = member_offers(app, m, if extra.get("valid_from").is_some() { "upcoming" } else { "live" }).await;
        let mine = all.iter().find(|i| i["offer_id"] == offer.as_str()).unwrap();
        codes.push(mine["code"].as_str().unwrap().to_owned());
    }
    (offer, codes)
}

async fn redeem(app: &TestApp, key: Option<&str>, body: Value) -> (StatusCode, Value) {
    send(app, key, Method::POST, "/api/v1/offers/redeem", Some(body)).await
}

/// Moves an offer's dates, as time passing would.
async fn set_dates(store: &dyn Store, id: &str, from: i64, until: i64) {
    let update = Box::new(move |o: &OfferRecord| Ok(OfferRecord { valid_from: from, valid_until: until, ..o.clone() }));
    store.update_offer(id, update).await.unwrap().unwrap();
}

fn receipt(number: &str, offers: Value) -> Value {
    json!({
        "store_id": "paris-01", "issued_at": "2026-11-22T15:42:00+01:00", "receipt_number": number,
        "lines": [{"sku": "CNDL-2", "label": "Candle", "quantity": 1, "unit_price": 500, "total": 500}],
        "totals": {"subtotal": 500, "tax": 0, "total": 500, "currency": "EUR"},
        "offers": offers,
    })
}

async fn card_of(app: &TestApp, member: &str) -> String {
    let (_, m) = send(app, None, Method::GET, &format!("/api/v1/members/{member}"), None).await;
    m["card_number"].as_str().unwrap().to_owned()
}

async fn codes_are_redeemed_once_where_and_when_the_offer_holds(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let store = store_of(&app).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let (paris, _) = new_key(&app, json!({"role": "store", "store_id": "paris-01"})).await;
    let (lyon, _) = new_key(&app, json!({"role": "store", "store_id": "lyon-02"})).await;
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(member(&app, Some("paris-01"), 0, true, "fr", json!({})).await.0);
    }
    let m: Vec<&str> = members.iter().map(String::as_str).collect();
    let (offer, codes) = issued(&app, &m, json!({"stores": ["paris-01"]})).await;

    // Another store, another store's id, an unknown code, a mistyped one.
    let (status, out) = redeem(&app, Some(&lyon), json!({"code": codes[0]})).await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "store_id"), "{out}");
    assert!(message_of(&out).contains("lyon-02"), "{out}");
    let (status, _) = redeem(&app, Some(&lyon), json!({"code": codes[0], "store_id": "paris-01"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = redeem(&app, Some(&paris), json!({"code": passerelle::offers::codes::new_code()})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mut typo: Vec<char> = codes[0].chars().collect();
    typo[2] = if typo[2] == 'A' { 'B' } else { 'A' };
    let (status, out) = redeem(&app, Some(&paris), json!({"code": typo.iter().collect::<String>()})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(message_of(&out).contains("check symbol"), "{out}");
    let (status, out) = redeem(&app, Some(&paris), json!({"card_number": "123"})).await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "code"), "{out}");

    // Redeemed as typed (lower case, a hyphen), then never again: the 409 says when and where.
    let typed = format!("{}-{}", &codes[0][..5], &codes[0][5..]).to_lowercase();
    let (status, done) = redeem(&app, Some(&paris), json!({"code": typed, "receipt_number": "R-77"})).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(
        (done["offer_id"].as_str(), done["member_id"].as_str(), done["store_id"].as_str()),
        (Some(offer.as_str()), Some(m[0]), Some("paris-01"))
    );
    assert_eq!(done["receipt_number"], "R-77");
    let redemption = done["id"].as_str().unwrap().to_owned();
    let (status, out) = redeem(&app, None, json!({"code": codes[0], "store_id": "paris-01"})).await;
    assert_eq!((status, field_of(&out)), (StatusCode::CONFLICT, "code"), "{out}");
    let used_on = &done["redeemed_at"].as_str().unwrap()[..16];
    assert!(message_of(&out).contains("paris-01") && message_of(&out).contains(used_on), "{out}");
    assert!(member_offers(&app, m[0], "live").await.is_empty());
    assert_eq!(member_offers(&app, m[0], "redeemed").await.len(), 1);

    // By card and offer, once.
    let card = card_of(&app, m[1]).await;
    let (status, out) = redeem(&app, Some(&paris), json!({"card_number": card, "offer_id": offer})).await;
    assert_eq!((status, out["member_id"].as_str()), (StatusCode::CREATED, Some(m[1])), "{out}");
    let (status, out) = redeem(&app, Some(&paris), json!({"card_number": card, "offer_id": offer})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    let (status, _) = redeem(&app, Some(&paris), json!({"card_number": "0000", "offer_id": offer})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Reversed by the store that redeemed it (another store does not see it), once; audited.
    let path = format!("/api/v1/offers/redemptions/{redemption}/reverse");
    let (status, _) = send(&app, Some(&lyon), Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, out) = send(&app, Some(&paris), Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(out["reversed_at"].is_string(), "{out}");
    let (status, _) = send(&app, Some(&paris), Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(member_offers(&app, m[0], "live").await[0]["code"].as_str(), Some(codes[0].as_str()));
    let (_, log) = send(&app, None, Method::GET, "/api/v1/audit", None).await;
    assert_eq!(log["items"][0]["action"], "offer.redemption_reversed", "{log}");
    let (status, _) = redeem(&app, Some(&paris), json!({"code": codes[0]})).await;
    assert_eq!(status, StatusCode::CREATED, "live again after the reversal");
    let (_, now) = send(&app, None, Method::GET, &format!("/api/v1/offers/{offer}"), None).await;
    assert_eq!(now["redeemed"].as_i64(), Some(2));

    // Expired, and not yet valid: 422 naming the dates.
    let (late, late_codes) = issued(&app, &m[2..], json!({})).await;
    let hour = 3_600_000;
    let now_ms = passerelle::store::now_ms();
    set_dates(store.as_ref(), &late, now_ms - 48 * hour, now_ms - 24 * hour).await;
    let (status, out) = redeem(&app, Some(&paris), json!({"code": late_codes[0]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    let until = passerelle::templates::datetime::rfc3339(now_ms - 24 * hour);
    assert!(message_of(&out).contains("expired") && message_of(&out).contains(&until[..16]), "{out}");
    set_dates(store.as_ref(), &late, now_ms + 24 * hour, now_ms + 48 * hour).await;
    let (status, out) = redeem(&app, Some(&paris), json!({"code": late_codes[0]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert!(message_of(&out).contains("not valid yet"), "{out}");

    // A budget across holders: the redemption past it is 409.
    let (_, budget_codes) = issued(&app, &m, json!({"max_redemptions": 2})).await;
    for code in &budget_codes[..2] {
        let (status, out) = redeem(&app, Some(&paris), json!({"code": code})).await;
        assert_eq!(status, StatusCode::CREATED, "{out}");
    }
    let (status, out) = redeem(&app, Some(&paris), json!({"code": budget_codes[2]})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert!(message_of(&out).contains("max_redemptions"), "{out}");
}

async fn receipts_redeem_offers_in_their_own_transaction(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    let a = member(&app, Some("paris-01"), 0, true, "fr", json!({})).await.0;
    let b = member(&app, Some("paris-01"), 0, true, "fr", json!({})).await.0;
    let (offer, codes) = issued(&app, &[&a, &b], json!({})).await;
    let card_b = card_of(&app, &b).await;

    // A used code refuses the receipt, naming offers[i]; the other code stays live, nothing is stored.
    let (status, first) =
        send(&app, None, Method::POST, "/api/v1/receipts", Some(receipt("R-1", json!([codes[0]])))).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let used = &first["offers_redeemed"];
    assert_eq!(
        (used[0]["receipt_id"].as_str(), used[0]["member_id"].as_str()),
        (first["id"].as_str(), Some(a.as_str())),
        "{first}"
    );
    let body = receipt("R-2", json!([{"card_number": card_b, "offer_id": offer}, codes[0]]));
    let (status, out) = send(&app, None, Method::POST, "/api/v1/receipts", Some(body.clone())).await;
    assert_eq!((status, field_of(&out)), (StatusCode::CONFLICT, "offers[1]"), "{out}");
    let (status, _) = send(&app, None, Method::GET, "/api/v1/receipts/R-2", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the refused receipt is not stored");
    assert_eq!(member_offers(&app, &b, "live").await.len(), 1, "b's offer was not used");
    let (status, out) = send(&app, None, Method::POST, "/api/v1/receipts", Some(receipt("R-3", json!([42])))).await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "offers[0]"), "{out}");
    let (status, out) =
        send(&app, None, Method::POST, "/api/v1/receipts", Some(receipt("R-3", json!([{"card_number": card_b}]))))
            .await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "offers[0]"), "{out}");

    // By card in a receipt.
    let (status, out) = send(
        &app,
        None,
        Method::POST,
        "/api/v1/receipts",
        Some(receipt("R-4", json!([{"card_number": card_b, "offer_id": offer}]))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["offers_redeemed"][0]["member_id"].as_str(), Some(b.as_str()));
    let (_, looked) = send(&app, None, Method::GET, "/api/v1/receipts/R-4", None).await;
    assert_eq!(looked["offers_redeemed"].as_array().unwrap().len(), 1);
    assert!(member_offers(&app, &b, "live").await.is_empty());

    // With PASSERELLE_OFFER_REVERSE_MINUTES=0, nothing is reversed.
    let mut config = test_config();
    config.offers.reverse_minutes = 0;
    let strict = spawn_app_on(Backend::Sqlite, config).await;
    add_store(&strict, "paris-01", "Europe/Paris").await;
    let c = member(&strict, Some("paris-01"), 0, true, "fr", json!({})).await.0;
    let (_, codes) = issued(&strict, &[&c], json!({})).await;
    let (_, done) = redeem(&strict, None, json!({"code": codes[0], "store_id": "paris-01"})).await;
    let path = format!("/api/v1/offers/redemptions/{}/reverse", done["id"].as_str().unwrap());
    let (status, out) = send(&strict, None, Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert!(message_of(&out).contains("PASSERELLE_OFFER_REVERSE_MINUTES"), "{out}");
}

async fn fifty_tills_redeeming_one_code_at_once_one_succeeds(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    let a = member(&app, Some("paris-01"), 0, true, "fr", json!({})).await.0;
    let (offer, codes) = issued(&app, &[&a], json!({})).await;
    let app = std::sync::Arc::new(app);
    let mut tills = Vec::new();
    for _ in 0..50 {
        let (app, code) = (app.clone(), codes[0].clone());
        tills.push(tokio::spawn(
            async move { redeem(&app, None, json!({"code": code, "store_id": "paris-01"})).await.0 },
        ));
    }
    let mut statuses = Vec::new();
    for till in tills {
        statuses.push(till.await.unwrap());
    }
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let conflicts = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 49), "{statuses:?}");
    let (_, now) = send(&app, None, Method::GET, &format!("/api/v1/offers/{offer}"), None).await;
    assert_eq!(now["redeemed"].as_i64(), Some(1));
}

on_both_backends!(codes_are_redeemed_once_where_and_when_the_offer_holds);
on_both_backends!(receipts_redeem_offers_in_their_own_transaction);
on_both_backends!(fifty_tills_redeeming_one_code_at_once_one_succeeds);
