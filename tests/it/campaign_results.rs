//! A campaign's results against a brute-force computation, on SQLite and PostgreSQL: holders
//! in both groups, receipts before, inside and after the window, returns, another currency, a
//! receipt linked late, offers redeemed before, inside and after the window and reversed;
//! every figure of `results` (and per store) recomputed here.

use std::collections::BTreeMap;

use passerelle::campaigns::holdout::held_out;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaign_offers::{redeem_by_card, redeemed_at, reverse};
use crate::campaigns::{add_store, create_campaign, get, no_quiet_hours, ok_json, wait_sent};
use crate::helpers::{ADMIN, Backend, TestApp, execute_sql, spawn_app_on, test_config};
use crate::purchases::{post, receipt_at};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const HOLDERS: usize = 60;

/// A receipt the test posts: for whom, when, what kind, how much, in what.
struct Bought {
    member: usize,
    at: i64,
    kind: &'static str,
    amount: i64,
    currency: &'static str,
    late: bool,
}

/// Each holder's receipts, by a pattern of six (`start` is the campaign's start).
fn receipts_of(i: usize, start: i64) -> Vec<Bought> {
    let b = |at: i64, kind, amount, currency, late| Bought { member: i, at, kind, amount, currency, late };
    let amount = 1_000 + 37 * i as i64;
    match i % 6 {
        0 => vec![b(start + HOUR, "sale", amount, "EUR", false)],
        // Before the window, and exactly at its end (outside: the window is [start, start + 7 d)).
        1 => vec![b(start - HOUR, "sale", amount, "EUR", false), b(start + 7 * DAY, "sale", amount, "EUR", false)],
        // A return never makes a buyer; a sale in another currency does.
        2 => vec![b(start + DAY, "return", -amount, "EUR", false), b(start + 6 * DAY, "sale", amount, "CHF", false)],
        // Linked after the window, to a contact verified later: still counted.
        3 => vec![b(start + 2 * DAY, "sale", amount, "EUR", true)],
        4 => vec![
            b(start + 3 * HOUR, "sale", amount, "EUR", false),
            b(start + 5 * DAY, "sale", 2 * amount, "EUR", false),
        ],
        _ => vec![],
    }
}

#[derive(Default, Debug)]
struct Expected {
    holders: i64,
    buyers: i64,
    revenue: BTreeMap<String, i64>,
    offers_redeemed: i64,
}

/// A redemption the test makes: when it ends up (relative to the start), and whether the
/// sale was cancelled at the till (reversed).
struct Redeemed {
    at: i64,
    reversed: bool,
}

/// Each holder's redemptions, by a pattern of five (the window is [start, start + 7 d)).
fn redemptions_of(i: usize, start: i64) -> Vec<Redeemed> {
    let r = |at: i64, reversed| Redeemed { at, reversed };
    match i % 5 {
        0 => vec![r(start + 2 * HOUR, false)],
        // Before the window, and exactly at its end: outside.
        1 => vec![r(start - HOUR, false)],
        2 => vec![r(start + 7 * DAY, false)],
        // Reversed inside the window, then used again inside it: one counts.
        3 => vec![r(start + DAY, true), r(start + 4 * DAY, false)],
        _ => vec![],
    }
}

pub(crate) fn wilson(x: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.959964;
    let p = x / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (centre - half, centre + half)
}

fn close(a: &Value, b: f64, what: &str) {
    let a = a.as_f64().unwrap_or_else(|| panic!("{what}: {a}"));
    assert!((a - b).abs() < 1e-9, "{what}: {a} ≠ {b}");
}

/// Checks one comparison (whole, or one store's) against the brute-force groups.
fn check(c: &Value, treated: &Expected, holdout: &Expected, what: &str) {
    for (name, e) in [("treated", treated), ("holdout", holdout)] {
        let g = &c[name];
        assert_eq!((g["holders"].as_i64(), g["buyers"].as_i64()), (Some(e.holders), Some(e.buyers)), "{what} {name}");
        close(&g["conversion"], e.buyers as f64 / e.holders as f64, &format!("{what} {name} conversion"));
        assert_eq!(g["offers_redeemed"].as_i64(), Some(e.offers_redeemed), "{what} {name} offers redeemed");
        assert_eq!(g["revenue"], json!(e.revenue), "{what} {name} revenue");
        for (currency, amount) in &e.revenue {
            close(&g["revenue_per_holder"][currency], *amount as f64 / e.holders as f64, "per holder");
        }
    }
    let (pt, ph) = (treated.buyers as f64 / treated.holders as f64, holdout.buyers as f64 / holdout.holders as f64);
    close(&c["lift"], pt - ph, &format!("{what} lift"));
    let ((l1, u1), (l2, u2)) =
        (wilson(treated.buyers as f64, treated.holders as f64), wilson(holdout.buyers as f64, holdout.holders as f64));
    let d = pt - ph;
    close(&c["lift_ci95"][0], d - ((pt - l1).powi(2) + (u2 - ph).powi(2)).sqrt(), &format!("{what} low"));
    close(&c["lift_ci95"][1], d + ((u1 - pt).powi(2) + (ph - l2).powi(2)).sqrt(), &format!("{what} high"));
    let currencies: std::collections::BTreeSet<&String> =
        treated.revenue.keys().chain(holdout.revenue.keys()).collect();
    for currency in currencies {
        let per = |e: &Expected| *e.revenue.get(currency).unwrap_or(&0) as f64 / e.holders as f64;
        let incremental = ((per(treated) - per(holdout)) * treated.holders as f64).round() as i64;
        assert_eq!(c["incremental_revenue"][currency].as_i64(), Some(incremental), "{what} incremental {currency}");
    }
}

async fn member_with_email(app: &TestApp, n: usize, store: &str) -> (String, String, String) {
    let email = format!("holder{n}@example.com");
    let body = json!({"first_name": "Camille", "email": email, "home_store_id": store,
                      "consent": {"terms": true, "marketing": true}});
    let created =
        ok_json(app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap(), StatusCode::CREATED).await;
    (created["id"].as_str().unwrap().to_owned(), created["card_number"].as_str().unwrap().to_owned(), email)
}

async fn results_match_a_brute_force_computation(backend: Backend) {
    let app = spawn_app_on(backend, no_quiet_hours(test_config())).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let stores = ["paris-01", "lyon-02"];
    let mut members = Vec::new();
    for n in 0..HOLDERS {
        members.push(member_with_email(&app, n, stores[n % 2]).await);
    }
    let body = json!({"name": "Weekend", "segment": "points >= 0", "message": {"en": "20% off"},
                      "holdout_percent": 30, "conversion_days": 7});
    let id =
        ok_json(create_campaign(&app, ADMIN, body).await, StatusCode::CREATED).await["id"].as_str().unwrap().to_owned();
    wait_sent(&app, &id).await;

    // Ten days pass: the window [start, start + 7 d) has closed.
    let start = (jiff::Timestamp::now().as_millisecond() - 10 * DAY) / 1000 * 1000;
    execute_sql(&app.database_url, &format!("UPDATE campaigns SET started_at = {start} WHERE id = '{id}'")).await;
    let mut bought = Vec::new();
    for (i, (_, card, email)) in members.iter().enumerate() {
        for (k, b) in receipts_of(i, start).into_iter().enumerate() {
            let mut receipt = receipt_at(&format!("R-{i}-{k}"), b.kind, b.at, b.currency, &[("SKU-1", 1, b.amount)]);
            receipt["customer"] = if b.late { json!({"email": email}) } else { json!({"card_number": card}) };
            let (status, answer) = post(&app, &receipt).await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
            bought.push(b);
        }
    }
    // The late receipts' owners verify their e-mail now: their receipts link, after the window.
    for (i, (member, _, _)) in members.iter().enumerate().filter(|(i, _)| i % 6 == 3) {
        let resp = app
            .api(Method::PATCH, &format!("/api/v1/members/{member}"))
            .json(&json!({"email_verified": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "holder {i}");
    }

    // A holder who moves after the start stays, in the results per store, where the campaign found them.
    let resp = app
        .api(Method::PATCH, &format!("/api/v1/members/{}", members[0].0))
        .json(&json!({"home_store_id": stores[1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "the move");

    // Offers used at the till by the holders, moved in time as the pattern says.
    let offer = crate::offers::hq_offer(&app, crate::offers::offer_body()).await;
    let ids: Vec<&str> = members.iter().map(|(m, _, _)| m.as_str()).collect();
    crate::offers::issue(&app, &offer, &ids).await;
    let mut redeemed: Vec<Vec<Redeemed>> = Vec::new();
    for (i, (_, card, _)) in members.iter().enumerate() {
        let mine = redemptions_of(i, start);
        for r in &mine {
            let id = redeem_by_card(&app, card, &offer).await;
            if r.reversed {
                reverse(&app, &id).await;
            }
            redeemed_at(&app, &id, r.at).await;
        }
        redeemed.push(mine);
    }

    // Brute force: per (store, group), holders, buyers and revenue of sales in the window, and
    // redemptions in the window not reversed.
    let mut expected: BTreeMap<(Option<&str>, bool), Expected> = BTreeMap::new();
    for (i, (member, _, _)) in members.iter().enumerate() {
        let held = held_out(&id, member, 30);
        let in_window: Vec<&Bought> = bought
            .iter()
            .filter(|b| b.member == i && b.kind == "sale" && b.at >= start && b.at < start + 7 * DAY)
            .collect();
        for key in [(None, held), (Some(stores[i % 2]), held)] {
            let e = expected.entry(key).or_default();
            e.holders += 1;
            e.buyers += i64::from(!in_window.is_empty());
            e.offers_redeemed +=
                redeemed[i].iter().filter(|r| !r.reversed && r.at >= start && r.at < start + 7 * DAY).count() as i64;
            for b in &in_window {
                *e.revenue.entry(b.currency.to_owned()).or_default() += b.amount;
            }
        }
    }
    assert!(expected[&(None, true)].buyers > 0 && expected[&(None, false)].buyers > 0, "buyers in both groups");
    assert!(
        expected[&(None, true)].offers_redeemed > 0 && expected[&(None, false)].offers_redeemed > 0,
        "offers redeemed in both groups"
    );

    let results = ok_json(get(&app, ADMIN, &format!("/api/v1/campaigns/{id}/results")).await, StatusCode::OK).await;
    check(&results, &expected[&(None, false)], &expected[&(None, true)], "all");
    assert_eq!(results["window_open"], false);
    let closes = jiff::Timestamp::from_millisecond(start + 7 * DAY).unwrap();
    assert_eq!(results["window_closes_at"].as_str().map(|s| s.parse::<jiff::Timestamp>().unwrap()), Some(closes));

    let by_store =
        ok_json(get(&app, ADMIN, &format!("/api/v1/campaigns/{id}/results?by=store")).await, StatusCode::OK).await;
    let listed = by_store["stores"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{by_store}");
    for store in stores {
        let c = listed.iter().find(|c| c["store_id"] == store).unwrap();
        check(c, &expected[&(Some(store), false)], &expected[&(Some(store), true)], store);
    }
    let bad = get(&app, ADMIN, &format!("/api/v1/campaigns/{id}/results?by=tier")).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A campaign not started has no results (409 naming its status); one without a holdout has
/// figures for the treated group only and no lift.
async fn results_before_the_start_and_without_holdout(backend: Backend) {
    let app = spawn_app_on(backend, no_quiet_hours(test_config())).await;
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48)).to_string();
    let body = json!({"name": "Later", "segment": "points >= 0", "message": {"en": "Soon"}, "send_at": later});
    let id =
        ok_json(create_campaign(&app, ADMIN, body).await, StatusCode::CREATED).await["id"].as_str().unwrap().to_owned();
    let resp = get(&app, ADMIN, &format!("/api/v1/campaigns/{id}/results")).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["field"], "status");

    member_with_email(&app, 1, "").await;
    let body = json!({"name": "Now", "segment": "points >= 0", "message": {"en": "Now"}});
    let id =
        ok_json(create_campaign(&app, ADMIN, body).await, StatusCode::CREATED).await["id"].as_str().unwrap().to_owned();
    wait_sent(&app, &id).await;
    let r = ok_json(get(&app, ADMIN, &format!("/api/v1/campaigns/{id}/results")).await, StatusCode::OK).await;
    assert_eq!((r["treated"]["holders"].as_i64(), r["holdout"]["holders"].as_i64()), (Some(1), Some(0)), "{r}");
    assert!(r["lift"].is_null() && r["lift_ci95"].is_null() && r["holdout"]["conversion"].is_null(), "{r}");
    assert_eq!(r["window_open"], true);
}

on_both_backends!(results_match_a_brute_force_computation, results_before_the_start_and_without_holdout);
