//! Offers through the admin API, on SQLite and PostgreSQL: fields checked and named, a store's
//! offer for its own store waiting for head office's approval (audited, HQ mailed), changes
//! only before the first issue, and issues: by segment (with a holdout drawn as
//! `campaigns::holdout` says) and by member ids, each holder a distinct checked code, never
//! beyond `max_per_holder`; what the till sees of a holder's offers, also by card number.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaign_approval::new_key;
use crate::campaigns::{add_store, member};
use crate::helpers::{Backend, TestApp, spawn_app_on, test_config};

/// A valid offer body: 10 % off, valid from an hour ago for 30 days.
pub fn offer_body() -> Value {
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    json!({
        "title": {"fr": "-10 % sur les bougies", "en": "10% off candles"},
        "description": {"en": "On every candle"},
        "terms": {"en": "One per customer."},
        "reward": {"kind": "percent", "value": 10},
        "valid_from": fmt(now - time::Duration::hours(1)),
        "valid_until": fmt(now + time::Duration::days(30)),
    })
}

pub async fn send(
    app: &TestApp,
    key: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = match key {
        Some(key) => app.client.request(method, app.url(path)).bearer_auth(key),
        None => app.api(method, path),
    };
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Creates an offer as HQ; returns its id.
pub async fn hq_offer(app: &TestApp, body: Value) -> String {
    let (status, made) = send(app, None, Method::POST, "/api/v1/offers", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

/// Issues an offer to members by id, as HQ; returns the answer.
pub async fn issue(app: &TestApp, offer: &str, members: &[&str]) -> Value {
    let (status, out) =
        send(app, None, Method::POST, &format!("/api/v1/offers/{offer}/issue"), Some(json!({"member_ids": members})))
            .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out
}

/// The member's offers of a status, as HQ.
pub async fn member_offers(app: &TestApp, member: &str, status: &str) -> Vec<Value> {
    let (code, out) =
        send(app, None, Method::GET, &format!("/api/v1/members/{member}/offers?status={status}"), None).await;
    assert_eq!(code, StatusCode::OK, "{out}");
    out["items"].as_array().unwrap().clone()
}

fn field_of(out: &Value) -> &str {
    out["error"]["field"].as_str().unwrap_or_default()
}

async fn offers_are_checked_and_store_offers_wait_for_approval(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;

    // Fields are checked, each error naming its field.
    for (key, value, field) in [
        ("title", json!({}), "title"),
        ("reward", json!({"kind": "amount", "value": 500}), "reward.currency"),
        ("reward", json!({"kind": "percent", "value": 150}), "reward.value"),
        ("valid_until", json!("2020-01-01T00:00:00Z"), "valid_until"),
        ("stores", json!(["paris-01", "nowhere"]), "stores[1]"),
        ("max_per_holder", json!(0), "max_per_holder"),
    ] {
        let mut body = offer_body();
        body[key] = value;
        let (status, out) = send(&app, None, Method::POST, "/api/v1/offers", Some(body)).await;
        assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, field), "{key}: {out}");
    }

    // Head office's offer is approved at once, for every store unless it names some.
    let (status, hq) = send(&app, None, Method::POST, "/api/v1/offers", Some(offer_body())).await;
    assert_eq!(status, StatusCode::CREATED, "{hq}");
    assert_eq!(
        (hq["status"].as_str(), &hq["stores"], hq["max_per_holder"].as_i64()),
        (Some("approved"), &Value::Null, Some(1))
    );
    assert!(hq["id"].as_str().unwrap().starts_with("off_"));

    // A store's key makes offers for its own store only, waiting for head office.
    let (paris, _) = new_key(&app, json!({"role": "store_manager", "store_id": "paris-01"})).await;
    let mut other = offer_body();
    other["stores"] = json!(["lyon-02"]);
    let (status, out) = send(&app, Some(&paris), Method::POST, "/api/v1/offers", Some(other)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{out}");
    assert!(out["error"]["message"].as_str().unwrap().contains("own store"), "{out}");
    let (status, local) = send(&app, Some(&paris), Method::POST, "/api/v1/offers", Some(offer_body())).await;
    assert_eq!(status, StatusCode::CREATED, "{local}");
    assert_eq!((local["status"].as_str(), &local["stores"]), (Some("pending_approval"), &json!(["paris-01"])));
    let id = local["id"].as_str().unwrap().to_owned();
    let (m, _) = member(&app, Some("paris-01"), 0, true, "fr", json!({})).await;
    let issue_path = format!("/api/v1/offers/{id}/issue");
    let (status, out) = send(&app, Some(&paris), Method::POST, &issue_path, Some(json!({"member_ids": [m]}))).await;
    assert_eq!((status, field_of(&out)), (StatusCode::CONFLICT, "status"), "not before approval: {out}");

    // Listed by status; a store sees its own and those it may redeem, not Lyon's.
    let mut lyon_only = offer_body();
    lyon_only["stores"] = json!(["lyon-02"]);
    let lyon = hq_offer(&app, lyon_only).await;
    let (_, pending) = send(&app, None, Method::GET, "/api/v1/offers?status=pending_approval", None).await;
    let ids: Vec<&str> = pending["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str()]);
    let (_, seen) = send(&app, Some(&paris), Method::GET, "/api/v1/offers", None).await;
    let seen: HashSet<&str> = seen["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(seen, HashSet::from([id.as_str(), hq["id"].as_str().unwrap()]));
    let (status, _) = send(&app, Some(&paris), Method::GET, &format!("/api/v1/offers/{lyon}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = send(&app, None, Method::GET, "/api/v1/offers?limit=2", None).await;
    let (_, rest) = send(
        &app,
        None,
        Method::GET,
        &format!("/api/v1/offers?limit=2&cursor={}", page["next_cursor"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len() + rest["items"].as_array().unwrap().len(), 3);

    // Only head office decides; a rejection needs its reason; both are audited.
    let (status, _) = send(&app, Some(&paris), Method::POST, &format!("/api/v1/offers/{id}/approve"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, out) = send(&app, None, Method::POST, &format!("/api/v1/offers/{id}/reject"), Some(json!({}))).await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "reason"));
    let (status, approved) = send(&app, None, Method::POST, &format!("/api/v1/offers/{id}/approve"), None).await;
    assert_eq!((status, approved["status"].as_str()), (StatusCode::OK, Some("approved")), "{approved}");
    let (status, _) = send(&app, None, Method::POST, &format!("/api/v1/offers/{id}/approve"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "decided already");
    let (_, log) = send(&app, None, Method::GET, "/api/v1/audit", None).await;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"offer.approved") && actions.contains(&"offer.proposed"), "{log}");

    // Changes until the first issue, then 409.
    let (status, changed) =
        send(&app, Some(&paris), Method::PATCH, &format!("/api/v1/offers/{id}"), Some(json!({"max_per_holder": 2})))
            .await;
    assert_eq!((status, changed["max_per_holder"].as_i64()), (StatusCode::OK, Some(2)), "{changed}");
    assert_eq!(changed["title"], offer_body()["title"], "what the patch leaves out stays");
    let (status, out) = send(&app, Some(&paris), Method::POST, &issue_path, Some(json!({"member_ids": [m]}))).await;
    assert_eq!((status, out["issued"].as_i64()), (StatusCode::OK, Some(1)), "{out}");
    let (status, out) =
        send(&app, Some(&paris), Method::PATCH, &format!("/api/v1/offers/{id}"), Some(json!({"max_per_holder": 3})))
            .await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    let (status, _) = send(
        &app,
        Some(&paris),
        Method::POST,
        &format!("/api/v1/offers/{lyon}/issue"),
        Some(json!({"member_ids": [m]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a store issues only offers it sees, and its own");
    let (status, out) = send(
        &app,
        Some(&paris),
        Method::POST,
        &format!("/api/v1/offers/{}/issue", hq["id"].as_str().unwrap()),
        Some(json!({"member_ids": [m]})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{out}");
}

async fn issues_give_each_holder_a_distinct_code_and_hold_some_out(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    // 40 VIP holders who accept marketing, 5 who do not, 5 others.
    let mut vips = Vec::new();
    for i in 0..50 {
        let (vip, marketing) = (i < 45, !(40..45).contains(&i));
        let (id, _) = member(&app, Some("paris-01"), 0, marketing, "fr", json!({"attributes": {"vip": vip}})).await;
        if vip && marketing {
            vips.push(id);
        }
    }
    let offer = hq_offer(&app, offer_body()).await;
    let path = format!("/api/v1/offers/{offer}/issue");
    let (status, out) =
        send(&app, None, Method::POST, &path, Some(json!({"segment": "attributes.vip = true", "holdout_percent": 51})))
            .await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "holdout_percent"));
    let (status, out) =
        send(&app, None, Method::POST, &path, Some(json!({"segment": "attributes.vip ==", "holdout_percent": 10})))
            .await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "segment"));
    let (status, out) =
        send(&app, None, Method::POST, &path, Some(json!({"member_ids": [vips[0]], "holdout_percent": 10}))).await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "holdout_percent"), "{out}");
    let (status, out) = send(&app, None, Method::POST, &path, Some(json!({"member_ids": ["mem_nobody"]}))).await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "member_ids[0]"), "{out}");

    let (status, out) =
        send(&app, None, Method::POST, &path, Some(json!({"segment": "attributes.vip = true", "holdout_percent": 30})))
            .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let issue_id = out["issue_id"].as_str().unwrap();
    // The holdout group is the deterministic draw, recomputed here by brute force.
    let held: HashSet<&String> =
        vips.iter().filter(|m| passerelle::campaigns::holdout::held_out(issue_id, m, 30)).collect();
    assert!(!held.is_empty() && held.len() < vips.len(), "a 30% draw of 40 holds some out: {}", held.len());
    assert_eq!(out["holdout"].as_i64(), Some(held.len() as i64), "{out}");
    assert_eq!(out["issued"].as_i64(), Some((vips.len() - held.len()) as i64), "{out}");
    assert_eq!(out["skipped"].as_i64(), Some(0));

    // Every treated holder has one live instance with its own code; the holdout none.
    let mut codes = HashSet::new();
    for m in &vips {
        let live = member_offers(&app, m, "live").await;
        if held.contains(m) {
            assert!(live.is_empty(), "held out: {live:?}");
            continue;
        }
        assert_eq!(live.len(), 1, "{live:?}");
        let code = live[0]["code"].as_str().unwrap().to_owned();
        assert_eq!(code.len(), 11, "{code}");
        assert!(code.chars().all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U".contains(c)), "{code}");
        assert_eq!(
            (live[0]["offer_id"].as_str(), &live[0]["reward"]),
            (Some(offer.as_str()), &json!({"kind": "percent", "value": 10}))
        );
        assert!(codes.insert(code));
    }

    // A second issue gives nobody a second instance (max_per_holder 1); by ids nobody is held out.
    let first_held = held.iter().next().unwrap().as_str();
    let treated = vips.iter().find(|m| !held.contains(m)).unwrap().as_str();
    let out = issue(&app, &offer, &[first_held, treated, first_held]).await;
    assert_eq!(
        (out["issued"].as_i64(), out["skipped"].as_i64(), out["holdout"].as_i64()),
        (Some(1), Some(1), Some(0)),
        "{out}"
    );
    assert_eq!(member_offers(&app, first_held, "live").await.len(), 1);

    // The till scanning the card sees the live offers with the member.
    let (_, m) = send(&app, None, Method::GET, &format!("/api/v1/members/{treated}"), None).await;
    let card = m["card_number"].as_str().unwrap();
    let (_, found) = send(&app, None, Method::GET, &format!("/api/v1/members?card_number={card}"), None).await;
    let offers = found["items"][0]["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 1, "{found}");
    assert_eq!(offers[0]["code"], member_offers(&app, treated, "live").await[0]["code"]);
    let (status, _) =
        send(&app, None, Method::GET, &format!("/api/v1/members/{treated}/offers?status=soon"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, offer_now) = send(&app, None, Method::GET, &format!("/api/v1/offers/{offer}"), None).await;
    assert_eq!(offer_now["issued"].as_i64(), Some((vips.len() - held.len() + 1) as i64));
}

on_both_backends!(offers_are_checked_and_store_offers_wait_for_approval);
on_both_backends!(issues_give_each_holder_a_distinct_code_and_hold_some_out);
