//! The purchase fields of the segment language on SQLite and PostgreSQL: previews of
//! `days_since_last_purchase`, `purchases_90d`, `spend_90d`, `bought("SKU", days)` and
//! `offers_redeemed_90d` equal a count computed here from the receipts the test posted (members
//! who never bought, returns, other currencies, old and unlinked receipts included) and the
//! offers it redeemed (old ones and reversed ones included), a hostile SKU stays a value, and a
//! campaign on a purchase field targets the same members.

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::json;

use crate::campaign_offers::{redeem_by_card, redeemed_at, reverse};
use crate::campaigns::{create_campaign, ok_json, preview, wait_sent};
use crate::helpers::{ADMIN, Backend, spawn_app_on, test_config};
use crate::members::sign_up;
use crate::purchases::{post, receipt_at};

const DAY_MS: i64 = 86_400_000;
const HOSTILE: &str = "x' OR 1=1 --";

/// A receipt of the seed: kind, days ago (plus half a day, so that whole days and the 90-day
/// window never sit on a boundary while the test runs), currency, lines (sku, quantity, unit).
struct Buy {
    kind: &'static str,
    days_ago: i64,
    currency: &'static str,
    lines: Vec<(&'static str, i64, i64)>,
}

struct Seeded {
    marketing: bool,
    buys: Vec<Buy>,
}

fn buy(kind: &'static str, days_ago: i64, currency: &'static str, lines: &[(&'static str, i64, i64)]) -> Buy {
    Buy { kind, days_ago, currency, lines: lines.to_vec() }
}

fn seed() -> Vec<Seeded> {
    let s = |marketing: bool, buys: Vec<Buy>| Seeded { marketing, buys };
    vec![
        s(true, vec![]),
        s(true, vec![buy("sale", 5, "EUR", &[("LAMP-1", 1, 2000)]), buy("sale", 40, "EUR", &[("CNDL-2", 2, 500)])]),
        s(true, vec![buy("sale", 61, "EUR", &[("LAMP-1", 1, 3000)])]),
        s(
            true,
            vec![buy("sale", 100, "EUR", &[("LAMP-1", 1, 4000)]), buy("return", 3, "EUR", &[("LAMP-1", -1, 4000)])],
        ),
        s(true, vec![buy("sale", 10, "CHF", &[("LAMP-1", 1, 5000)]), buy("sale", 89, "EUR", &[("CNDL-2", 1, 1500)])]),
        s(true, vec![buy("sale", 91, "EUR", &[("CNDL-2", 1, 700)]), buy("sale", 200, "EUR", &[("LAMP-1", 1, 900)])]),
        s(true, vec![buy("sale", 20, "EUR", &[(HOSTILE, 1, 100)]), buy("sale", 25, "EUR", &[("LAMP-1", 3, 1000)])]),
        s(true, vec![buy("return", 2, "EUR", &[("CNDL-2", -1, 500)])]),
        s(
            true,
            vec![
                buy("sale", 1, "EUR", &[("CNDL-2", 10, 999), ("BAG", 1, 50)]),
                buy("sale", 2, "EUR", &[("LAMP-1", 1, 100)]),
                buy("sale", 59, "EUR", &[("LAMP-1", 1, 100)]),
            ],
        ),
        s(false, vec![buy("sale", 70, "EUR", &[("LAMP-1", 1, 2500)])]),
    ]
}

fn sales(m: &Seeded) -> impl Iterator<Item = &Buy> {
    m.buys.iter().filter(|b| b.kind == "sale")
}

fn days_since_last(m: &Seeded) -> Option<i64> {
    sales(m).map(|b| b.days_ago).min()
}

fn recent(m: &Seeded) -> impl Iterator<Item = &Buy> {
    // Issued `days_ago` days and a half ago: within 90 days up to 89.
    sales(m).filter(|b| b.days_ago < 90)
}

fn spend(m: &Seeded) -> i64 {
    recent(m).filter(|b| b.currency == "EUR").flat_map(|b| b.lines.iter().map(|(_, q, u)| q * u)).sum()
}

/// The member's offer redemptions by index: (days ago, plus half a day; reversed at the till).
fn redemptions_of(i: usize) -> Vec<(i64, bool)> {
    match i % 5 {
        1 => vec![(10, false)],
        2 => vec![(100, false)],
        // Used, reversed (the sale cancelled), used again: one counts.
        3 => vec![(5, true), (30, false)],
        4 => vec![(3, false), (80, false)],
        _ => vec![],
    }
}

fn offers_redeemed_90d(i: usize) -> usize {
    redemptions_of(i).iter().filter(|(days, reversed)| !reversed && *days < 90).count()
}

fn bought(m: &Seeded, sku: &str, days: i64) -> bool {
    sales(m).any(|b| b.days_ago < days && b.lines.iter().any(|(s, _, _)| *s == sku))
}

async fn previews_of_purchase_fields_match_a_brute_force_count(backend: Backend) {
    let app = spawn_app_on(backend, crate::campaigns::no_quiet_hours(test_config())).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let now = Timestamp::now().as_millisecond();
    let seeded = seed();
    // An offer each member holds twice (two issues), for the redemptions.
    let mut twice = crate::offers::offer_body();
    twice["max_per_holder"] = json!(2);
    let offer = crate::offers::hq_offer(&app, twice).await;
    let mut n = 0;
    for (i, m) in seeded.iter().enumerate() {
        let body = json!({"first_name": "Camille", "email": format!("buyer{i}@example.com"),
            "consent": {"terms": true, "marketing": m.marketing}});
        let member = sign_up(&app, body).await;
        let card = member["card_number"].as_str().unwrap();
        for _ in 0..2 {
            crate::offers::issue(&app, &offer, &[member["id"].as_str().unwrap()]).await;
        }
        for (days_ago, reversed) in redemptions_of(i) {
            let id = redeem_by_card(&app, card, &offer).await;
            if reversed {
                reverse(&app, &id).await;
            }
            redeemed_at(&app, &id, now - days_ago * DAY_MS - DAY_MS / 2).await;
        }
        for b in &m.buys {
            n += 1;
            let mut receipt =
                receipt_at(&format!("T-{n}"), b.kind, now - b.days_ago * DAY_MS - DAY_MS / 2, b.currency, &b.lines);
            receipt["customer"] = json!({"card_number": member["card_number"]});
            let (status, posted) = post(&app, &receipt).await;
            assert_eq!(status, StatusCode::CREATED, "{posted}");
        }
    }
    // Unlinked purchases belong to nobody.
    let anonymous = receipt_at("T-anon", "sale", now - DAY_MS, "EUR", &[("LAMP-1", 5, 9999), (HOSTILE, 1, 1)]);
    assert_eq!(post(&app, &anonymous).await.0, StatusCode::CREATED);

    type Rule = Box<dyn Fn(&Seeded) -> bool>;
    let cases: Vec<(&str, Rule)> = vec![
        ("days_since_last_purchase >= 60", Box::new(|m| days_since_last(m).is_some_and(|d| d >= 60))),
        ("days_since_last_purchase < 60", Box::new(|m| days_since_last(m).is_some_and(|d| d < 60))),
        ("not (days_since_last_purchase >= 60)", Box::new(|m| days_since_last(m).is_none_or(|d| d < 60))),
        ("days_since_last_purchase = 61", Box::new(|m| days_since_last(m) == Some(61))),
        ("last_purchase_at < now - 60d", Box::new(|m| days_since_last(m).is_some_and(|d| d >= 60))),
        ("purchases_90d >= 2", Box::new(|m| recent(m).count() >= 2)),
        ("purchases_90d = 0", Box::new(|m| recent(m).count() == 0)),
        ("purchases_90d = 1 and spend_90d = 0", Box::new(|m| recent(m).count() == 1 && spend(m) == 0)),
        ("spend_90d >= 5000", Box::new(|m| spend(m) >= 5000)),
        ("spend_90d > 0 and spend_90d < 3000", Box::new(|m| spend(m) > 0 && spend(m) < 3000)),
        (r#"bought("LAMP-1", 30)"#, Box::new(|m| bought(m, "LAMP-1", 30))),
        (r#"bought("LAMP-1", 120)"#, Box::new(|m| bought(m, "LAMP-1", 120))),
        (r#"not bought("CNDL-2", 365)"#, Box::new(|m| !bought(m, "CNDL-2", 365))),
        (r#"bought("x' OR 1=1 --", 365)"#, Box::new(|m| bought(m, HOSTILE, 365))),
        (r#"bought("x' OR 1=1 --", 10)"#, Box::new(|m| bought(m, HOSTILE, 10))),
        (
            r#"days_since_last_purchase >= 60 or bought("CNDL-2", 3)"#,
            Box::new(|m| days_since_last(m).is_some_and(|d| d >= 60) || bought(m, "CNDL-2", 3)),
        ),
    ];
    for (segment, rule) in &cases {
        let expected = seeded.iter().filter(|m| m.marketing && rule(m)).count();
        let (status, counts) = preview(&app, segment).await;
        assert_eq!(status, StatusCode::OK, "{segment}: {counts}");
        assert_eq!(counts["members"], expected, "{segment}: {counts}");
    }
    // The same for the offers each member redeemed.
    type ByIndex = Box<dyn Fn(usize, &Seeded) -> bool>;
    let redemption_cases: Vec<(&str, ByIndex)> = vec![
        ("offers_redeemed_90d >= 1", Box::new(|i, _| offers_redeemed_90d(i) >= 1)),
        ("offers_redeemed_90d = 0", Box::new(|i, _| offers_redeemed_90d(i) == 0)),
        ("offers_redeemed_90d >= 2", Box::new(|i, _| offers_redeemed_90d(i) >= 2)),
        (
            "offers_redeemed_90d = 1 and purchases_90d >= 1",
            Box::new(|i, m| offers_redeemed_90d(i) == 1 && recent(m).count() >= 1),
        ),
    ];
    for (segment, rule) in &redemption_cases {
        let expected = seeded.iter().enumerate().filter(|(i, m)| m.marketing && rule(*i, m)).count();
        let (status, counts) = preview(&app, segment).await;
        assert_eq!(status, StatusCode::OK, "{segment}: {counts}");
        assert_eq!(counts["members"], expected, "{segment}: {counts}");
    }
    let hostile_buyers = seeded.iter().filter(|m| bought(m, HOSTILE, 365)).count();
    assert_eq!(hostile_buyers, 1, "the seed has one buyer of the hostile SKU: it matched as a value");

    // A campaign on a purchase field targets what the preview counted.
    let segment = "days_since_last_purchase >= 60";
    let expected = seeded.iter().filter(|m| m.marketing && days_since_last(m).is_some_and(|d| d >= 60)).count();
    let body = json!({"name": "We miss you", "segment": segment, "message": {"en": "We miss you"}});
    let created = ok_json(create_campaign(&app, ADMIN, body).await, StatusCode::CREATED).await;
    let stats = wait_sent(&app, created["id"].as_str().unwrap()).await;
    assert_eq!(stats["targeted"], expected, "{stats}");

    let (status, err) = preview(&app, r#"bought("LAMP-1", 0)"#).await;
    assert_eq!((status, &err["error"]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("segment")), "{err}");
}

on_both_backends!(previews_of_purchase_fields_match_a_brute_force_count);
