//! Receipts as purchases, on SQLite and PostgreSQL: kind, total, currency and lines as rows
//! (also filled in for receipts stored before migration 0019), a return's signs checked with
//! the field named, and points from the till: earned at once or when the receipt is linked
//! later, taken back by a return down to zero, never earned when PASSERELLE_POINTS_PER_UNIT is
//! off, and shown on the loyalty pass (changeMessage, pushed).

use jiff::Timestamp;
use passerelle::config::PointsRates;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection};

use crate::helpers::{Backend, TestApp, spawn_app_on, test_config};
use crate::members::{field, get_member, served_pass, sign_up};
use crate::push::{eventually, mock, push_config, register_as, token};
use crate::web_service::Held;

/// A receipt of `store_id` `paris-01` issued at `issued_at` (unix ms, whole seconds); `lines`
/// are (sku, quantity, unit price in minor units); the totals add up, without tax.
pub fn receipt_at(number: &str, kind: &str, issued_at: i64, currency: &str, lines: &[(&str, i64, i64)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(sku, q, unit)| json!({"sku": sku, "label": sku, "quantity": q, "unit_price": unit, "total": q * unit}))
        .collect();
    let total: i64 = lines.iter().map(|l| l["total"].as_i64().unwrap()).sum();
    json!({
        "store_id": "paris-01", "receipt_number": number, "kind": kind,
        "issued_at": Timestamp::from_millisecond(issued_at - issued_at % 1000).unwrap().to_string(),
        "lines": lines, "totals": {"subtotal": total, "tax": 0, "total": total, "currency": currency},
    })
}

pub async fn post(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let resp = app.api(Method::POST, "/api/v1/receipts").json(body).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// One text the query selects, from the test server's database.
async fn text_of(url: &str, sql: &str) -> String {
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(&mut conn).await.unwrap()
    }
}

/// `kind|total|currency` of a receipt, and its lines as `sku|quantity|amount`, in order.
async fn stored(url: &str, id: &str) -> (String, Vec<String>) {
    let row = text_of(
        url,
        &format!("SELECT kind || '|' || CAST(total AS TEXT) || '|' || currency FROM receipts WHERE id = '{id}'"),
    )
    .await;
    let count: String =
        text_of(url, &format!("SELECT CAST(COUNT(*) AS TEXT) FROM receipt_lines WHERE receipt_id = '{id}'")).await;
    let mut lines = Vec::new();
    for n in 1..=count.parse::<i64>().unwrap() {
        let sql = format!(
            "SELECT COALESCE(sku, '-') || '|' || CAST(quantity AS TEXT) || '|' || CAST(amount AS TEXT) \
             FROM receipt_lines WHERE receipt_id = '{id}' AND line_no = {n}"
        );
        lines.push(text_of(url, &sql).await);
    }
    (row, lines)
}

async fn receipts_are_rows_with_lines_and_a_kind(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let now = Timestamp::now().as_millisecond();
    let (status, sale) =
        post(&app, &receipt_at("S-1", "sale", now, "EUR", &[("LAMP-1", 2, 1299), ("CNDL-2", 1, 500)])).await;
    assert_eq!(status, 201, "{sale}");
    assert_eq!(sale["kind"], "sale");
    let mut default_kind = receipt_at("S-2", "sale", now, "CHF", &[("LAMP-1", 1, 1000)]);
    default_kind.as_object_mut().unwrap().remove("kind");
    let (status, plain) = post(&app, &default_kind).await;
    assert_eq!((status, &plain["kind"]), (StatusCode::CREATED, &json!("sale")), "sale by default: {plain}");
    let (status, ret) = post(&app, &receipt_at("R-1", "return", now, "EUR", &[("LAMP-1", -1, 1299)])).await;
    assert_eq!(status, 201, "{ret}");
    assert_eq!((&ret["kind"], &ret["totals"]["total"]), (&json!("return"), &json!(-1299)));
    let looked_up: Value = app.api(Method::GET, "/api/v1/receipts/R-1").send().await.unwrap().json().await.unwrap();
    assert_eq!(looked_up["kind"], "return");

    let url = &app.database_url;
    let (row, lines) = stored(url, sale["id"].as_str().unwrap()).await;
    assert_eq!((row.as_str(), lines), ("sale|3098|EUR", vec!["LAMP-1|2|2598".to_owned(), "CNDL-2|1|500".to_owned()]));
    assert_eq!(stored(url, plain["id"].as_str().unwrap()).await.0, "sale|1000|CHF");
    let (row, lines) = stored(url, ret["id"].as_str().unwrap()).await;
    assert_eq!((row.as_str(), lines), ("return|-1299|EUR", vec!["LAMP-1|-1|-1299".to_owned()]));

    // Signs that contradict the kind, and unknown kinds, are refused naming the field.
    let cases = [
        (receipt_at("X-1", "sale", now, "EUR", &[("LAMP-1", -1, 1299)]), "totals.total"),
        (receipt_at("X-2", "return", now, "EUR", &[("LAMP-1", 1, 1299)]), "totals.total"),
        (receipt_at("X-3", "refund", now, "EUR", &[("LAMP-1", -1, 1299)]), "kind"),
    ];
    for (body, expected) in cases {
        let (status, err) = post(&app, &body).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(expected)),
            "{err}"
        );
    }
    let mut taxed_return = receipt_at("X-4", "return", now, "EUR", &[("LAMP-1", -1, 1000)]);
    taxed_return["totals"]["tax"] = json!(200);
    taxed_return["totals"]["total"] = json!(-800);
    let (status, err) = post(&app, &taxed_return).await;
    assert_eq!((status, err["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("totals.tax")));
    taxed_return["totals"]["tax"] = json!(-200);
    taxed_return["totals"]["total"] = json!(-1200);
    assert_eq!(post(&app, &taxed_return).await.0, StatusCode::CREATED, "a return gives its tax back");
    let count = text_of(url, "SELECT CAST(COUNT(*) AS TEXT) FROM receipts").await;
    assert_eq!(count, "4", "refused receipts store nothing");
}

/// Receipts stored before migration 0019 get their columns and lines from their JSON body.
async fn older_receipts_are_filled_in(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut url = backend.database_url(dir.path()).await;
    let body = json!({
        "issued_at": "2026-11-22T15:42:00+01:00",
        "lines": [
            {"sku": "LAMP-1", "label": "Lamp", "quantity": 2, "unit_price": 1299, "total": 2598},
            {"sku": null, "label": "Bag", "quantity": 1, "unit_price": 10, "total": 10}
        ],
        "totals": {"subtotal": 2608, "tax": 0, "total": 2608, "currency": "CHF", "tax_included": false},
    });
    let insert = format!(
        "INSERT INTO receipts (id, receipt_number, store_id, issued_at, body, pass_serial, created_at) \
         VALUES ('rcp_old', 'OLD-1', 'paris-01', 1, '{body}', 'PASS-old', 1)"
    );
    if let Backend::Sqlite = backend {
        std::fs::create_dir_all(dir.path().join("db")).unwrap();
        url.push_str("?mode=rwc");
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let migrator = passerelle::store::migrations::sqlite();
        migrator.run_to(18, &mut conn).await.unwrap();
        sqlx::query(AssertSqlSafe(insert)).execute(&mut conn).await.unwrap();
        migrator.run(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let migrator = passerelle::store::migrations::postgres();
        migrator.run_to(18, &mut conn).await.unwrap();
        sqlx::query(AssertSqlSafe(insert)).execute(&mut conn).await.unwrap();
        migrator.run(&mut conn).await.unwrap();
    }
    let (row, lines) = stored(&url, "rcp_old").await;
    assert_eq!((row.as_str(), lines), ("sale|2608|CHF", vec!["LAMP-1|2|2598".to_owned(), "-|1|10".to_owned()]));
}

/// A member holding their card on an iPhone registered for pushes.
async fn member_on_a_phone(app: &TestApp, email: &str, push_token: &str) -> (Value, Held) {
    let member = sign_up(app, json!({"first_name": "Marie", "email": email})).await;
    let pass = served_pass(app, &member).await;
    let held = Held {
        serial: pass["serialNumber"].as_str().unwrap().into(),
        token: pass["authenticationToken"].as_str().unwrap().into(),
        pass_type: pass["passTypeIdentifier"].as_str().unwrap().into(),
        web_service_url: pass["webServiceURL"].as_str().unwrap().into(),
    };
    register_as(app, &held, &format!("dev-{push_token}"), push_token).await;
    (member, held)
}

async fn ledger(app: &TestApp, id: &str) -> Vec<Value> {
    let resp = app.api(Method::GET, &format!("/api/v1/members/{id}/points")).send().await.unwrap();
    resp.json::<Value>().await.unwrap()["items"].as_array().unwrap().clone()
}

/// The points field of the pass the phone downloads: (value, changeMessage).
async fn pass_points(app: &TestApp, member: &Value) -> (Value, Value) {
    let pass = served_pass(app, member).await;
    let points = pass["storeCard"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .find(|f| f["key"] == "points")
        .cloned()
        .unwrap();
    assert_eq!(field(&pass, "points"), points["value"]);
    (points["value"].clone(), points["changeMessage"].clone())
}

async fn till_points_are_earned_when_linked_and_taken_back_by_returns(backend: Backend) {
    let apns = mock().await;
    let mut config = push_config(&apns);
    config.loyalty.points_per_unit = "EUR:1,CHF:2".parse::<PointsRates>().unwrap();
    let app = spawn_app_on(backend, config).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let now = Timestamp::now().as_millisecond();

    // At once, by card number: 30.98 EUR → 30 points, on the pass with its changeMessage, pushed.
    let (member, _) = member_on_a_phone(&app, "marie@example.fr", &token(1)).await;
    let id = member["id"].as_str().unwrap();
    let card = member["card_number"].clone();
    let mut sale = receipt_at("P-1", "sale", now, "EUR", &[("LAMP-1", 2, 1299), ("CNDL-2", 1, 500)]);
    sale["customer"] = json!({"card_number": card});
    let (status, posted) = post(&app, &sale).await;
    assert_eq!(status, 201, "{posted}");
    assert_eq!(get_member(&app, id).await["points"], 3098 / 100);
    let entries = ledger(&app, id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let receipt_id = posted["id"].as_str().unwrap();
    assert_eq!(entries[0]["delta"], 30);
    assert!(entries[0]["reason"].as_str().unwrap().contains(receipt_id), "{entries:?}");
    let (value, message) = pass_points(&app, &member).await;
    assert_eq!(value, 30);
    assert!(message.as_str().is_some_and(|m| m.contains("%@")), "the lock screen tells the new balance: {message}");
    eventually("the phone is pushed", async || apns.received().iter().any(|r| r.token == token(1))).await;

    // CHF at 2 per unit: 12.50 → 24; a currency without a rate earns nothing.
    let mut chf = receipt_at("P-2", "sale", now, "CHF", &[("LAMP-1", 1, 1250)]);
    chf["customer"] = json!({"card_number": card});
    assert_eq!(post(&app, &chf).await.0, 201);
    let mut usd = receipt_at("P-3", "sale", now, "USD", &[("LAMP-1", 1, 9900)]);
    usd["customer"] = json!({"card_number": card});
    assert_eq!(post(&app, &usd).await.0, 201);
    assert_eq!(get_member(&app, id).await["points"], 30 + 24);

    // A return of 60.00 EUR takes 60 points back, stopping at zero, and is never refused.
    let mut back = receipt_at("P-4", "return", now, "EUR", &[("LAMP-1", -1, 6000)]);
    back["customer"] = json!({"card_number": card});
    let (status, returned) = post(&app, &back).await;
    assert_eq!(status, 201, "{returned}");
    assert_eq!(get_member(&app, id).await["points"], 0);
    let entries = ledger(&app, id).await;
    assert_eq!((&entries[0]["delta"], &entries[0]["balance_after"]), (&json!(-54), &json!(0)), "{entries:?}");
    assert!(entries[0]["reason"].as_str().unwrap().contains(returned["id"].as_str().unwrap()));
    assert_eq!(pass_points(&app, &member).await.0, 0);

    // Later, when the receipt's e-mail is verified: it earns then, once.
    let (other, _) = member_on_a_phone(&app, "lea@example.fr", &token(2)).await;
    let other_id = other["id"].as_str().unwrap();
    let mut waiting = receipt_at("P-5", "sale", now, "EUR", &[("LAMP-1", 1, 1999)]);
    waiting["customer"] = json!({"email": "lea@example.fr"});
    let (_, posted) = post(&app, &waiting).await;
    assert_eq!(posted["member_id"], Value::Null);
    assert_eq!(get_member(&app, other_id).await["points"], 0, "no points before the link");
    let pushes_before = apns.received().iter().filter(|r| r.token == token(2)).count();
    let resp = app
        .api(Method::PATCH, &format!("/api/v1/members/{other_id}"))
        .json(&json!({"email_verified": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(get_member(&app, other_id).await["points"], 19);
    let entries = ledger(&app, other_id).await;
    assert_eq!(entries.len(), 1);
    assert!(entries[0]["reason"].as_str().unwrap().contains(posted["id"].as_str().unwrap()));
    assert_eq!(pass_points(&app, &other).await.0, 19);
    eventually("the late link is pushed", async || {
        apns.received().iter().filter(|r| r.token == token(2)).count() > pushes_before
    })
    .await;
}

async fn till_points_are_off_by_default(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let member = sign_up(&app, json!({"first_name": "Marie", "email": "marie@example.fr"})).await;
    let id = member["id"].as_str().unwrap();
    let mut sale = receipt_at("D-1", "sale", Timestamp::now().as_millisecond(), "EUR", &[("LAMP-1", 3, 5000)]);
    sale["customer"] = json!({"card_number": member["card_number"]});
    let (status, posted) = post(&app, &sale).await;
    assert_eq!((status, &posted["member_id"]), (StatusCode::CREATED, &json!(id)), "{posted}");
    assert_eq!(get_member(&app, id).await["points"], 0);
    assert!(ledger(&app, id).await.is_empty(), "tills that post points themselves are not doubled");
}

on_both_backends!(
    receipts_are_rows_with_lines_and_a_kind,
    older_receipts_are_filled_in,
    till_points_are_earned_when_linked_and_taken_back_by_returns,
    till_points_are_off_by_default,
);
