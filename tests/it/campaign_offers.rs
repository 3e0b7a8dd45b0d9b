//! Campaigns that carry an offer, on SQLite and PostgreSQL: `offer_id` checked and named (no
//! such offer, not approved, over before the send, not valid in a store campaign's store), kept
//! by a draft; at the start every treated holder gets exactly one instance with its own code and
//! the card lists it, the holdout none; a start retried after a crash mid-issue gives no one a
//! second instance; and the Google work still queued for the campaign's offer objects shows in
//! its stats, its object and its console page.

use std::collections::{BTreeSet, HashSet};

use passerelle::campaigns::holdout::held_out;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaign_approval::new_key;
use crate::campaigns::{add_store, create_campaign, get, member, no_quiet_hours, ok_json, stats, store_of, wait_sent};
use crate::helpers::{ADMIN, Backend, TestApp, execute_sql, spawn_app_on, test_config};
use crate::offers::{hq_offer, offer_body, send};
use crate::push::eventually;

const HOLDERS: usize = 30;

fn field_of(out: &Value) -> &str {
    out["error"]["field"].as_str().unwrap_or_default()
}

/// Redeems a live offer of the card at paris-01 as head office; returns the redemption's id.
pub async fn redeem_by_card(app: &TestApp, card: &str, offer: &str) -> String {
    let body = json!({"card_number": card, "offer_id": offer, "store_id": "paris-01"});
    let (status, out) = send(app, None, Method::POST, "/api/v1/offers/redeem", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    out["id"].as_str().unwrap().to_owned()
}

/// Reverses a redemption as head office (the cancelled sale at the till).
pub async fn reverse(app: &TestApp, redemption: &str) {
    let path = format!("/api/v1/offers/redemptions/{redemption}/reverse");
    let (status, out) = send(app, None, Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{out}");
}

/// Moves a redemption to `at` (unix ms), as time would have.
pub async fn redeemed_at(app: &TestApp, redemption: &str, at: i64) {
    let sql = format!("UPDATE offer_redemptions SET redeemed_at = {at} WHERE id = '{redemption}'");
    execute_sql(&app.database_url, &sql).await;
}

/// The campaign body used below, with `extra` fields.
fn campaign(extra: Value) -> Value {
    let mut body = json!({"name": "Candles", "segment": "points >= 0", "message": {"en": "10% off candles"}});
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    body
}

async fn offer_ids_are_checked(backend: Backend) {
    let app = spawn_app_on(backend, no_quiet_hours(test_config())).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let mut lyon_only = offer_body();
    lyon_only["stores"] = json!(["lyon-02"]);
    let lyon_offer = hq_offer(&app, lyon_only).await;
    let (paris, _) = new_key(&app, json!({"role": "store_manager", "store_id": "paris-01"})).await;
    let (status, waiting) = send(&app, Some(&paris), Method::POST, "/api/v1/offers", Some(offer_body())).await;
    assert_eq!(status, StatusCode::CREATED, "{waiting}");
    let mut short = offer_body();
    let in_hours = |h: i64| jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + h * 3600).unwrap();
    short["valid_until"] = json!(in_hours(2).to_string());
    let short = hq_offer(&app, short).await;
    let later = in_hours(3).to_string();

    for (body, what) in [
        (campaign(json!({"offer_id": "off_0000000000000000"})), "no such offer"),
        (campaign(json!({"offer_id": waiting["id"]})), "an offer waiting for approval"),
        (campaign(json!({"offer_id": short, "send_at": later})), "an offer over before the send"),
        (campaign(json!({"offer_id": lyon_offer, "scope": "store:paris-01"})), "an offer not valid in the store"),
    ] {
        let resp = create_campaign(&app, ADMIN, body).await;
        let status = resp.status();
        let out: Value = resp.json().await.unwrap();
        assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "offer_id"), "{what}: {out}");
    }
    // Valid for every store, the same offer suits any campaign; a draft keeps and changes it.
    let everywhere = hq_offer(&app, offer_body()).await;
    let draft = campaign(json!({"draft": true, "scope": "store:paris-01", "offer_id": everywhere}));
    let made = ok_json(create_campaign(&app, ADMIN, draft).await, StatusCode::CREATED).await;
    assert_eq!(made["offer_id"], everywhere, "{made}");
    let id = made["id"].as_str().unwrap();
    let path = format!("/api/v1/campaigns/{id}");
    let (status, out) = send(&app, None, Method::PATCH, &path, Some(json!({"offer_id": lyon_offer}))).await;
    assert_eq!((status, field_of(&out)), (StatusCode::UNPROCESSABLE_ENTITY, "offer_id"), "{out}");
    let (status, out) = send(&app, None, Method::PATCH, &path, Some(json!({"name": "Renamed"}))).await;
    assert_eq!((status, &out["offer_id"]), (StatusCode::OK, &json!(everywhere)), "kept: {out}");
    let (status, out) = send(&app, None, Method::PATCH, &path, Some(json!({"offer_id": null}))).await;
    assert_eq!((status, &out["offer_id"]), (StatusCode::OK, &Value::Null), "removed: {out}");
    let shown = ok_json(get(&app, ADMIN, &path).await, StatusCode::OK).await;
    assert_eq!((shown["name"].as_str(), &shown["offer_id"]), (Some("Renamed"), &Value::Null), "{shown}");
}

on_both_backends!(offer_ids_are_checked);

/// Every instance of the offer each member holds, holdout rows included, straight from the store.
async fn instances(app: &TestApp, member: &str) -> Vec<passerelle::store::OfferInstanceRecord> {
    let store = store_of(app).await;
    store.member_offers(member, None).await.unwrap().into_iter().map(|(i, _)| i).collect()
}

async fn treated_holders_get_the_offer_once(backend: Backend) {
    let app = spawn_app_on(backend, no_quiet_hours(test_config())).await;
    let store = store_of(&app).await;
    let mut holders = Vec::new();
    for _ in 0..HOLDERS {
        holders.push(member(&app, None, 100, true, "en", json!({})).await);
    }
    let offer = hq_offer(&app, offer_body()).await;
    let body = campaign(json!({"offer_id": offer, "holdout_percent": 50}));
    let made = ok_json(create_campaign(&app, ADMIN, body).await, StatusCode::CREATED).await;
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!(made["offer_id"], offer);
    let sent = wait_sent(&app, &id).await;

    let held: BTreeSet<&str> = holders.iter().map(|(m, _)| m.as_str()).filter(|m| held_out(&id, m, 50)).collect();
    assert!(!held.is_empty() && held.len() < HOLDERS, "both groups have holders: {held:?}");
    assert_eq!(sent["holdout"].as_i64(), Some(held.len() as i64), "{sent}");
    let mut codes = HashSet::new();
    for (n, (m, serial)) in holders.iter().enumerate() {
        let mine = instances(&app, m).await;
        let card = store.pass(serial).await.unwrap().unwrap();
        if held.contains(m.as_str()) {
            assert!(mine.is_empty(), "holdout holder {n} has no instance, not even a holdout row: {mine:?}");
            assert_eq!(card.data.get("your_offers").and_then(Value::as_str).unwrap_or(""), "", "holder {n}");
            assert!(card.data.get("offer").is_none(), "holdout holder {n} untouched");
            continue;
        }
        assert_eq!(mine.len(), 1, "treated holder {n}: {mine:?}");
        let (instance, code) = (&mine[0], mine[0].code.clone().unwrap());
        assert_eq!(
            (instance.state.as_str(), instance.offer_id.as_str(), instance.issue_id.as_str()),
            ("live", offer.as_str(), id.as_str())
        );
        assert!(instance.pass_serial.is_some(), "a coupon pass for holder {n}");
        assert!(codes.insert(code.clone()), "codes are distinct");
        // The push that carries the message brings the offer: the card lists it.
        assert_eq!(card.data["offer"], "10% off candles", "holder {n}");
        assert!(card.data["your_offers"].as_str().unwrap().contains(&code), "holder {n}: {}", card.data);
    }
    let treated = HOLDERS - held.len();
    assert_eq!(codes.len(), treated);
    let (_, shown) = send(&app, None, Method::GET, &format!("/api/v1/offers/{offer}"), None).await;
    assert_eq!(shown["issued"].as_i64(), Some(treated as i64), "{shown}");

    // A crash in the middle of the issue: the later half of the treated holders (in member
    // order, as the issue goes) lost theirs, and the start is retried.
    let treated_ids: Vec<&str> = holders
        .iter()
        .map(|(m, _)| m.as_str())
        .filter(|m| !held.contains(m))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let lost: Vec<String> = treated_ids[treated / 2..].iter().map(|m| format!("'{m}'")).collect();
    // One of them still waits for the fan-out, which waits for the offer: the campaign cannot
    // finish before its offer is issued again.
    for sql in [
        format!("DELETE FROM offer_instances WHERE issue_id = '{id}' AND member_id IN ({})", lost.join(", ")),
        format!(
            "UPDATE campaign_recipients SET state = 'pending' WHERE campaign_id = '{id}' AND member_id = {}",
            lost[0]
        ),
        format!("UPDATE campaigns SET status = 'sending', offer_issued_at = NULL WHERE id = '{id}'"),
    ] {
        execute_sql(&app.database_url, &sql).await;
    }
    eventually("the retried start issued the offer again", async || {
        let c = store.campaign(&id).await.unwrap().unwrap();
        c.offer_issued_at.is_some() && c.status == "sent"
    })
    .await;
    let mut after = HashSet::new();
    for (n, (m, _)) in holders.iter().enumerate() {
        let mine = instances(&app, m).await;
        let expected = usize::from(!held.contains(m.as_str()));
        assert_eq!(mine.len(), expected, "holder {n} after the retry: {mine:?}");
        after.extend(mine.into_iter().filter_map(|i| i.code));
    }
    assert_eq!(after.len(), treated, "distinct codes after the retry");
    let kept: HashSet<String> = codes.intersection(&after).cloned().collect();
    assert_eq!(kept.len(), treated - lost.len(), "those who kept theirs were given no second one");
    let history = ok_json(get(&app, ADMIN, &format!("/api/v1/campaigns/{id}/history")).await, StatusCode::OK).await;
    let issued: Vec<&Value> =
        history["items"].as_array().unwrap().iter().filter(|e| e["action"] == "offer_issued").collect();
    assert_eq!(issued.len(), 2, "{history}");
    assert_eq!(issued[1]["detail"]["issued"].as_i64(), Some(lost.len() as i64), "{history}");

    // The Google work still queued for the campaign's offer objects shows in its stats.
    let coupon = instances(&app, treated_ids[0]).await[0].pass_serial.clone().unwrap();
    assert_eq!(stats(&app, &id).await["google"]["pending"], 0);
    let far = jiff::Timestamp::now().as_millisecond() + 86_400_000;
    execute_sql(
        &app.database_url,
        &format!(
            "INSERT INTO jobs (kind, key, state, attempts, run_at, created_at, updated_at) \
             VALUES ('google', '{coupon}', 'pending', 0, {far}, {far}, {far})"
        ),
    )
    .await;
    assert_eq!(stats(&app, &id).await["google"]["pending"], 1);
    let shown = ok_json(get(&app, ADMIN, &format!("/api/v1/campaigns/{id}")).await, StatusCode::OK).await;
    assert_eq!((&shown["google_pending"], shown["offer_issued_at"].is_string()), (&json!(1), true), "{shown}");

    // The console's campaign page shows it beside the progress, with the offer, and its
    // refresh carries it.
    crate::console::create_user(&app, "mkt@example.com", "hq_marketer", None);
    let client = crate::console::browser();
    crate::console::sign_in(&app, &client, "mkt@example.com", crate::console::PASSWORD).await;
    let html = client.get(app.url(&format!("/console/campaigns/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"data-key="google_pending">1<"#), "{html}");
    assert!(html.contains(&format!(r#"id="offer">{offer}<"#)), "{html}");
    let refresh = client.get(app.url(&format!("/console/campaigns/{id}/progress"))).send().await.unwrap();
    assert_eq!(refresh.json::<Value>().await.unwrap()["progress"]["google_pending"], 1);
}

on_both_backends!(treated_holders_get_the_offer_once);

/// A holder who already holds the offer (`max_per_holder` 1) is given no second one by the
/// campaign, and the campaign goes out all the same.
async fn a_holder_who_has_it_is_skipped(backend: Backend) {
    let app = spawn_app_on(backend, no_quiet_hours(test_config())).await;
    let mut holders = Vec::new();
    for _ in 0..3 {
        holders.push(member(&app, None, 100, true, "en", json!({})).await.0);
    }
    let offer = hq_offer(&app, offer_body()).await;
    let earlier = crate::offers::issue(&app, &offer, &[holders[0].as_str()]).await;
    let made =
        ok_json(create_campaign(&app, ADMIN, campaign(json!({"offer_id": offer}))).await, StatusCode::CREATED).await;
    let id = made["id"].as_str().unwrap().to_owned();
    let sent = wait_sent(&app, &id).await;
    assert_eq!(sent["sent"].as_i64(), Some(3), "{sent}");
    let first = instances(&app, &holders[0]).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(Some(first[0].issue_id.as_str()), earlier["issue_id"].as_str());
    for m in &holders[1..] {
        let mine = instances(&app, m).await;
        assert_eq!((mine.len(), mine[0].issue_id.as_str()), (1, id.as_str()), "{mine:?}");
    }
    let history = ok_json(get(&app, ADMIN, &format!("/api/v1/campaigns/{id}/history")).await, StatusCode::OK).await;
    let issued = history["items"].as_array().unwrap().iter().find(|e| e["action"] == "offer_issued").unwrap().clone();
    assert_eq!((issued["detail"]["issued"].as_i64(), issued["detail"]["skipped"].as_i64()), (Some(2), Some(1)));
}

on_both_backends!(a_holder_who_has_it_is_skipped);
