//! Flyer buyers and revenue, and the store report, against brute-force computations on SQLite
//! and PostgreSQL: returns, sales past the first 30 days or outside the period, another
//! currency, unlinked receipts, voided cards, campaigns inside and outside the period (local
//! with and without a holdout, head office's), reversed and old redemptions; and who sees which
//! rows.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaign_results::wilson;
use crate::campaigns::{create_campaign, get, no_quiet_hours, ok_json, wait_sent};
use crate::helpers::{ADMIN, Backend, TestApp, add_store, execute_sql, spawn_app_on, test_config};
use crate::offers::{hq_offer, issue, member_offers, offer_body, send};
use crate::purchases::{post, receipt_at};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

/// A member the test made: id, card number, loyalty pass, home store, when they joined.
struct Member {
    id: String,
    card: String,
    serial: String,
    home: Option<&'static str>,
    joined: i64,
    voided: bool,
}

/// A linked receipt the test posted.
struct Bought {
    member: usize,
    store: &'static str,
    at: i64,
    kind: &'static str,
    amount: i64,
    currency: &'static str,
}

fn now_s() -> i64 {
    Timestamp::now().as_millisecond() / 1000 * 1000
}

fn w3c(ms: i64) -> String {
    Timestamp::from_millisecond(ms).unwrap().to_string()
}

async fn new_member(app: &TestApp, home: Option<&'static str>, extra: Value) -> Member {
    let mut body = json!({"first_name": "Camille", "home_store_id": home,
        "email": format!("{}@example.com", passerelle::tokens::random_hex(6)),
        "consent": {"terms": true, "marketing": true}});
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let m =
        ok_json(app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap(), StatusCode::CREATED).await;
    Member {
        id: m["id"].as_str().unwrap().to_owned(),
        card: m["card_number"].as_str().unwrap().to_owned(),
        serial: m["pass"]["serial_number"].as_str().unwrap().to_owned(),
        home,
        joined: 0,
        voided: false,
    }
}

/// Moves a member's sign-up to `at`, as if they had joined then.
async fn joined_at(app: &TestApp, m: &mut Member, at: i64) {
    execute_sql(&app.database_url, &format!("UPDATE members SET created_at = {at} WHERE id = '{}'", m.id)).await;
    m.joined = at;
}

/// Posts a receipt of `b`, linked by the member's card number.
async fn buy(app: &TestApp, members: &[Member], number: &str, b: &Bought) {
    let mut receipt = receipt_at(number, b.kind, b.at, b.currency, &[("SKU-1", 1, b.amount)]);
    receipt["store_id"] = json!(b.store);
    receipt["customer"] = json!({"card_number": members[b.member].card});
    let (status, answer) = post(app, &receipt).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

async fn flyer_stats(app: &TestApp, code: &str) -> Value {
    ok_json(get(app, ADMIN, &format!("/api/v1/flyers/{code}/stats")).await, StatusCode::OK).await
}

async fn flyer_buyers_and_revenue_match_a_brute_force_count(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    let mut codes = Vec::new();
    for _ in 0..2 {
        let made = ok_json(
            app.api(Method::POST, "/api/v1/flyers").json(&json!({"store_id": "paris-01"})).send().await.unwrap(),
            StatusCode::CREATED,
        )
        .await;
        codes.push(made["code"].as_str().unwrap().to_owned());
    }
    // Twelve members of the first flyer, four of the second, two of none; all joined 40 days ago.
    let now = now_s();
    let mut members = Vec::new();
    for i in 0..18 {
        let flyer = match i {
            0..12 => Some(&codes[0]),
            12..16 => Some(&codes[1]),
            _ => None,
        };
        let extra = flyer.map(|c| json!({"source": {"flyer": c}})).unwrap_or(json!({}));
        let mut m = new_member(&app, Some("paris-01"), extra).await;
        joined_at(&app, &mut m, now - 40 * DAY + i as i64 * HOUR).await;
        m.home = flyer.map(|_| "paris-01");
        members.push(m);
    }
    let mut bought = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let j = m.joined;
        let amount = 1_000 + 13 * i as i64;
        let b = |at: i64, kind, amount, currency| Bought { member: i, store: "paris-01", at, kind, amount, currency };
        bought.extend(match i % 6 {
            0 => vec![b(j + HOUR, "sale", amount, "EUR")],
            // A return never makes a buyer; a sale on day 31 (exactly 30 days on) is too late.
            1 => vec![b(j + DAY, "return", -amount, "EUR"), b(j + 30 * DAY, "sale", amount, "EUR")],
            // Two currencies: one buyer, revenue in each.
            2 => vec![b(j + 2 * DAY, "sale", amount, "CHF"), b(j + 29 * DAY, "sale", 2 * amount, "EUR")],
            // Before joining (linked later by card): not the flyer's doing.
            3 => vec![b(j - HOUR, "sale", amount, "EUR")],
            4 => vec![b(j + 3 * DAY, "sale", amount, "EUR"), b(j + 4 * DAY, "return", -amount, "EUR")],
            _ => vec![],
        });
    }
    for (k, b) in bought.iter().enumerate() {
        buy(&app, &members, &format!("R-{k}"), b).await;
    }
    for (f, code) in codes.iter().enumerate() {
        let mut buyers = BTreeSet::new();
        let mut revenue: BTreeMap<&str, i64> = BTreeMap::new();
        for b in &bought {
            let m = &members[b.member];
            let of_flyer = match f {
                0 => b.member < 12,
                _ => (12..16).contains(&b.member),
            };
            if of_flyer && b.kind == "sale" && b.at >= m.joined && b.at < m.joined + 30 * DAY {
                buyers.insert(b.member);
                *revenue.entry(b.currency).or_default() += b.amount;
            }
        }
        let stats = flyer_stats(&app, code).await;
        assert_eq!(stats["signups"], if f == 0 { 12 } else { 4 }, "{stats}");
        assert_eq!(stats["buyers"].as_u64(), Some(buyers.len() as u64), "flyer {f}: {stats}");
        assert_eq!(stats["revenue"], json!(revenue), "flyer {f}");
        if f == 0 {
            assert!(buyers.len() >= 4 && revenue.contains_key("CHF"), "the pattern has buyers: {buyers:?}");
        }
    }
}

/// The expected row of one store.
#[derive(Default, Debug)]
struct Row {
    signups: i64,
    holders: i64,
    local: i64,
    hq: BTreeSet<String>,
    /// (holders, buyers) of the pooled treated and holdout groups.
    treated: (i64, i64),
    holdout: (i64, i64),
    offers_redeemed: i64,
    revenue: BTreeMap<String, i64>,
}

fn close(a: &Value, b: f64, what: &str) {
    let a = a.as_f64().unwrap_or_else(|| panic!("{what}: {a}"));
    assert!((a - b).abs() < 1e-9, "{what}: {a} ≠ {b}");
}

fn check_row(got: &Value, e: &Row, store: &str) {
    assert_eq!(got["store_id"], store);
    assert_eq!(
        (got["signups"].as_i64(), got["holders"].as_i64()),
        (Some(e.signups), Some(e.holders)),
        "{store}: {got}"
    );
    assert_eq!(got["campaigns"], json!({"local": e.local, "hq": e.hq.len()}), "{store}");
    let groups = &got["local_groups"];
    for (name, (holders, buyers)) in [("treated", e.treated), ("holdout", e.holdout)] {
        assert_eq!(groups[name], json!({"holders": holders, "buyers": buyers}), "{store} {name}");
    }
    assert_eq!(got["offers_redeemed"].as_i64(), Some(e.offers_redeemed), "{store}");
    assert_eq!(got["revenue"], json!(e.revenue), "{store}");
    let ((nt, xt), (nh, xh)) = (e.treated, e.holdout);
    if nt == 0 || nh == 0 {
        assert_eq!((&got["lift"], &got["lift_ci95"]), (&Value::Null, &Value::Null), "{store}: no holdout, no lift");
        return;
    }
    let (pt, ph) = (xt as f64 / nt as f64, xh as f64 / nh as f64);
    let d = pt - ph;
    close(&got["lift"], d, &format!("{store} lift"));
    let ((l1, u1), (l2, u2)) = (wilson(xt as f64, nt as f64), wilson(xh as f64, nh as f64));
    close(&got["lift_ci95"][0], d - ((pt - l1).powi(2) + (u2 - ph).powi(2)).sqrt(), &format!("{store} low"));
    close(&got["lift_ci95"][1], d + ((u1 - pt).powi(2) + (ph - l2).powi(2)).sqrt(), &format!("{store} high"));
}

async fn new_key(app: &TestApp, role: &str, store: Option<&str>) -> String {
    let made = ok_json(
        app.api(Method::POST, "/api/v1/keys").json(&json!({"role": role, "store_id": store})).send().await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    made["key"].as_str().unwrap().to_owned()
}

/// A campaign made by `key`, approved by HQ when it needs it, sent, then moved to start at
/// `started_at`; returns its id.
async fn campaign(app: &TestApp, key: &str, body: Value, started_at: i64) -> String {
    let made = ok_json(create_campaign(app, key, body).await, StatusCode::CREATED).await;
    let id = made["id"].as_str().unwrap().to_owned();
    if made["status"] == "pending_approval" {
        let (status, out) = send(app, None, Method::POST, &format!("/api/v1/campaigns/{id}/approve"), None).await;
        assert_eq!(status, StatusCode::OK, "{out}");
    }
    wait_sent(app, &id).await;
    execute_sql(&app.database_url, &format!("UPDATE campaigns SET started_at = {started_at} WHERE id = '{id}'")).await;
    id
}

/// (member id, group) of every holder of a campaign.
async fn recipients(app: &TestApp, id: &str) -> Vec<(String, String)> {
    let page =
        ok_json(get(app, ADMIN, &format!("/api/v1/campaigns/{id}/recipients?limit=1000")).await, StatusCode::OK).await;
    let items = page["items"].as_array().unwrap();
    items
        .iter()
        .map(|r| (r["member_id"].as_str().unwrap().to_owned(), r["group"].as_str().unwrap().to_owned()))
        .collect()
}

async fn report(app: &TestApp, key: &str, query: &str) -> (StatusCode, Value) {
    let resp = get(app, key, &format!("/api/v1/reports/stores{query}")).await;
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

async fn the_store_report_matches_a_brute_force_computation(backend: Backend) {
    let app = spawn_app_on(backend, no_quiet_hours(test_config())).await;
    const STORES: [&str; 3] = ["lyon-02", "nice-03", "paris-01"];
    for store in STORES {
        add_store(&app, store, "Europe/Paris").await;
    }
    let now = now_s();
    let (from, to) = (now - 20 * DAY, now + DAY);

    // 48 members: Paris and Lyon in turn, every eighth without a home store; a third joined
    // before the period; every fifth card voided.
    let mut members = Vec::new();
    for i in 0..48usize {
        let home = if i % 8 == 7 { None } else { Some(["paris-01", "lyon-02"][i % 2]) };
        let mut m = new_member(&app, home, json!({})).await;
        let at = if i % 3 == 0 { now - 30 * DAY } else { now - 15 * DAY + i as i64 * HOUR };
        joined_at(&app, &mut m, at).await;
        members.push(m);
    }
    for m in members.iter_mut().skip(1).step_by(5) {
        let sql = format!("UPDATE passes SET voided = TRUE WHERE serial_number = '{}'", m.serial);
        execute_sql(&app.database_url, &sql).await;
        m.voided = true;
    }

    // Campaigns: each store's own (with and without a holdout, one before the period) and
    // head office's (everyone, Paris only, and Lyon before the period).
    let paris = new_key(&app, "store_manager", Some("paris-01")).await;
    let lyon = new_key(&app, "store_manager", Some("lyon-02")).await;
    let local = |store: &str, holdout: i64, days: i64| {
        json!({"name": "Local", "segment": "points >= 0", "message": {"fr": "Soirée"}, "scope": format!("store:{store}"),
               "holdout_percent": holdout, "conversion_days": days})
    };
    let hq = |segment: &str| json!({"name": "National", "segment": segment, "message": {"fr": "Soldes"}});
    let campaigns = [
        ("paris-01", campaign(&app, &paris, local("paris-01", 30, 7), now - 10 * DAY).await),
        ("paris-01", campaign(&app, &paris, local("paris-01", 50, 3), now - 5 * DAY).await),
        ("lyon-02", campaign(&app, &lyon, local("lyon-02", 30, 7), now - 25 * DAY).await),
        ("lyon-02", campaign(&app, &lyon, local("lyon-02", 0, 7), now - 6 * DAY).await),
        ("hq", campaign(&app, ADMIN, hq("points >= 0"), now - 8 * DAY).await),
        ("hq", campaign(&app, ADMIN, hq("store = \"paris-01\""), now - 2 * DAY).await),
        ("hq", campaign(&app, ADMIN, hq("store = \"lyon-02\""), now - 40 * DAY).await),
    ];
    let starts =
        [now - 10 * DAY, now - 5 * DAY, now - 25 * DAY, now - 6 * DAY, now - 8 * DAY, now - 2 * DAY, now - 40 * DAY];
    let days = [7, 3, 7, 7, 7, 7, 7];

    // Receipts at either store, linked: inside and outside the period and the windows, returns,
    // francs; and unlinked sales, which are no holder's revenue.
    let mut bought = Vec::new();
    for i in 0..members.len() {
        let store = ["paris-01", "lyon-02"][(i / 2) % 2];
        let amount = 1_000 + 7 * i as i64;
        let b = |at: i64, kind, amount, currency| Bought { member: i, store, at, kind, amount, currency };
        bought.extend(match i % 6 {
            0 => vec![b(now - 9 * DAY, "sale", amount, "EUR")],
            1 => vec![b(now - 4 * DAY, "sale", amount, "EUR"), b(now - 2 * DAY, "return", -500, "EUR")],
            2 => vec![b(now - 22 * DAY, "sale", amount, "EUR"), b(now - DAY, "sale", amount, "CHF")],
            3 => vec![b(now - 11 * DAY, "sale", amount, "EUR")],
            4 => vec![b(now - 6 * DAY, "return", -amount, "EUR")],
            _ => vec![],
        });
    }
    for (k, b) in bought.iter().enumerate() {
        buy(&app, &members, &format!("R-{k}"), b).await;
    }
    for (k, store) in ["paris-01", "lyon-02"].into_iter().enumerate() {
        let mut receipt = receipt_at(&format!("U-{k}"), "sale", now - 3 * DAY, "EUR", &[("SKU-1", 1, 9_999)]);
        receipt["store_id"] = json!(store);
        assert_eq!(post(&app, &receipt).await.0, StatusCode::CREATED);
    }

    // Offers: redeemed at Paris (twice), at Lyon, at Paris before the period, at Paris and reversed.
    let till = new_key(&app, "store", Some("paris-01")).await;
    let lyon_till = new_key(&app, "store", Some("lyon-02")).await;
    let holders: Vec<&Member> = members.iter().filter(|m| !m.voided).take(5).collect();
    let offer = hq_offer(&app, offer_body()).await;
    issue(&app, &offer, &holders.iter().map(|m| m.id.as_str()).collect::<Vec<_>>()).await;
    let mut redeemed: Vec<(&str, i64)> = Vec::new();
    for (k, m) in holders.iter().enumerate() {
        let code = member_offers(&app, &m.id, "live").await[0]["code"].as_str().unwrap().to_owned();
        let (store, key) = if k == 2 { ("lyon-02", &lyon_till) } else { ("paris-01", &till) };
        let (status, done) =
            send(&app, Some(key), Method::POST, "/api/v1/offers/redeem", Some(json!({"code": code}))).await;
        assert_eq!(status, StatusCode::CREATED, "{done}");
        let id = done["id"].as_str().unwrap();
        match k {
            3 => {
                let sql = format!("UPDATE offer_redemptions SET redeemed_at = {} WHERE id = '{id}'", now - 30 * DAY);
                execute_sql(&app.database_url, &sql).await;
            }
            4 => {
                let path = format!("/api/v1/offers/redemptions/{id}/reverse");
                let (status, out) = send(&app, Some(&till), Method::POST, &path, None).await;
                assert_eq!(status, StatusCode::OK, "{out}");
            }
            _ => redeemed.push((store, now)),
        }
    }

    // Brute force.
    let mut expected: BTreeMap<&str, Row> = STORES.iter().map(|s| (*s, Row::default())).collect();
    let in_period = |at: i64| at >= from && at < to;
    for m in &members {
        let Some(home) = m.home else { continue };
        let e = expected.get_mut(home).unwrap();
        e.signups += i64::from(in_period(m.joined));
        e.holders += i64::from(!m.voided);
    }
    let home_of: BTreeMap<&str, Option<&str>> = members.iter().map(|m| (m.id.as_str(), m.home)).collect();
    let index_of: BTreeMap<&str, usize> = members.iter().enumerate().map(|(i, m)| (m.id.as_str(), i)).collect();
    for (k, (scope, id)) in campaigns.iter().enumerate() {
        if !in_period(starts[k]) {
            continue;
        }
        let holders = recipients(&app, id).await;
        if *scope == "hq" {
            for (member, _) in &holders {
                if let Some(home) = home_of[member.as_str()] {
                    expected.get_mut(home).unwrap().hq.insert(id.clone());
                }
            }
            continue;
        }
        let e = expected.get_mut(scope).unwrap();
        e.local += 1;
        let (start, end) = (starts[k], starts[k] + days[k] * DAY);
        for (member, group) in &holders {
            let i = index_of[member.as_str()];
            let buyer = bought.iter().any(|b| b.member == i && b.kind == "sale" && b.at >= start && b.at < end);
            let g = if group == "holdout" { &mut e.holdout } else { &mut e.treated };
            g.0 += 1;
            g.1 += i64::from(buyer);
        }
    }
    for (store, _) in &redeemed {
        expected.get_mut(store).unwrap().offers_redeemed += 1;
    }
    for b in bought.iter().filter(|b| in_period(b.at)) {
        *expected.get_mut(b.store).unwrap().revenue.entry(b.currency.to_owned()).or_default() += b.amount;
    }
    let paris_row = &expected["paris-01"];
    assert!(paris_row.holdout.0 > 0 && paris_row.treated.1 > 0 && paris_row.hq.len() == 2, "{paris_row:?}");
    assert_eq!(expected["lyon-02"].holdout.0, 0, "Lyon's local campaign in the period has no holdout");

    let query = format!("?from={}&to={}", w3c(from), w3c(to));
    let (status, got) = report(&app, ADMIN, &query).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!((got["from"].as_str(), got["to"].as_str()), (Some(w3c(from).as_str()), Some(w3c(to).as_str())));
    let rows = got["stores"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["store_id"].as_str().unwrap()).collect::<Vec<_>>(), STORES);
    for (row, store) in rows.iter().zip(STORES) {
        check_row(row, &expected[store], store);
    }
    assert_eq!(rows[1]["name"], "nice-03");

    // Who sees what: head office every store; a store key and a store manager their own row,
    // the same figures, and no other store's.
    let marketer = new_key(&app, "hq_marketer", None).await;
    assert_eq!(report(&app, &marketer, &query).await.1, got);
    for (key, store) in [(till.as_str(), "paris-01"), (lyon.as_str(), "lyon-02")] {
        let (status, mine) = report(&app, key, &query).await;
        assert_eq!(status, StatusCode::OK, "{mine}");
        let only = mine["stores"].as_array().unwrap();
        assert_eq!(only.len(), 1, "{store}: {mine}");
        assert_eq!(only[0], rows.iter().find(|r| r["store_id"] == store).unwrap().clone());
    }
}

async fn the_store_report_period_is_checked(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    // The default: the last 30 days.
    let (status, got) = report(&app, ADMIN, "").await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let span = |v: &Value| {
        let at = |k: &str| v[k].as_str().unwrap().parse::<Timestamp>().unwrap().as_millisecond();
        at("to") - at("from")
    };
    assert_eq!(span(&got), 30 * DAY);
    assert_eq!(got["stores"][0]["signups"], 0);
    // Dates are whole UTC days, `to` included.
    let (_, got) = report(&app, ADMIN, "?from=2026-01-01&to=2026-01-31").await;
    assert_eq!(
        (got["from"].as_str(), got["to"].as_str()),
        (Some("2026-01-01T00:00:00Z"), Some("2026-02-01T00:00:00Z"))
    );
    assert_eq!(span(&got), 31 * DAY);
    // An offset's `+` left unencoded still reads.
    let (status, got) = report(&app, ADMIN, "?from=2026-01-01T00:00:00+01:00&to=2026-01-02").await;
    assert_eq!((status, got["from"].as_str()), (StatusCode::OK, Some("2025-12-31T23:00:00Z")), "{got}");
    for (query, field) in [
        ("?from=2026-02-01&to=2026-01-01", "from"),
        ("?from=2025-01-01&to=2026-01-02", "from"),
        ("?from=yesterday", "from"),
        ("?to=2026-01-01T10:00", "to"),
    ] {
        let (status, err) = report(&app, ADMIN, query).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{query}: {err}"
        );
    }
    let (status, _) = report(&app, ADMIN, "?from=2025-01-01&to=2026-01-01").await;
    assert_eq!(status, StatusCode::OK, "366 days are allowed");
    let (status, _) = report(&app, ADMIN, "?store=paris-01").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown parameters are refused");
    let anonymous = app.client.get(app.url("/api/v1/reports/stores")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

on_both_backends!(flyer_buyers_and_revenue_match_a_brute_force_count);
on_both_backends!(the_store_report_matches_a_brute_force_computation);
on_both_backends!(the_store_report_period_is_checked);
