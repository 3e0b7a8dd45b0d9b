//! Till receipts through the admin API, on SQLite and PostgreSQL: amounts checked (lines,
//! subtotal, tax or tax included) with the faulty field named, one receipt per idempotency key,
//! linking by card number at once and by e-mail or phone only once verified (receipts posted
//! before the member existed included), and the receipt pass that verifies and lists the lines.

use passerelle::store::{ReceiptRecord, StoreError};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, assert_only_passes, assert_valid_pass, new_pass, open_store, spawn_app_on, test_config,
};

async fn post_receipt(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let resp = app.api(Method::POST, "/api/v1/receipts").json(body).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

async fn sign_up(app: &TestApp, body: Value) -> Value {
    let resp = app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn member_receipts(app: &TestApp, id: &str) -> Vec<Value> {
    let resp = app.api(Method::GET, &format!("/api/v1/members/{id}/receipts")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["items"].as_array().unwrap().clone()
}

/// A receipt of two lines: 2 × 12.99 + 1 × 5.00 = 30.98, plus 6.20 of tax.
fn receipt(number: &str) -> Value {
    json!({
        "store_id": "paris-01",
        "issued_at": "2026-11-22T15:42:00+01:00",
        "receipt_number": number,
        "lines": [
            {"sku": "LAMP-1", "label": "Linen lampshade", "quantity": 2, "unit_price": 1299, "total": 2598},
            {"sku": "CNDL-2", "label": "Scented candle", "quantity": 1, "unit_price": 500, "total": 500}
        ],
        "totals": {"subtotal": 3098, "tax": 620, "total": 3718, "currency": "EUR"},
        "payment": {"method": "visa", "last4": "4242"}
    })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

async fn error_field(app: &TestApp, body: &Value) -> String {
    let (status, body) = post_receipt(app, body).await;
    assert_eq!(status, 422, "{body}");
    body["error"]["field"].as_str().unwrap_or_else(|| panic!("no field in {body}")).to_owned()
}

async fn email_receipt_links_once_the_member_verifies(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    // Bought before the loyalty card existed.
    let (status, first) =
        post_receipt(&app, &with(receipt("R-1"), "customer", json!({"email": " Camille@Example.COM "}))).await;
    assert_eq!(status, 201, "{first}");
    assert!(first["id"].as_str().unwrap().starts_with("rcp_"));
    assert_eq!(first["receipt_number"], "R-1");
    assert_eq!(first["member_id"], Value::Null);
    for key in ["serial_number", "apple_pass_url", "pass_page_url"] {
        assert!(first["pass"][key].is_string(), "{key} in {first}");
    }

    // Signing up with that address is only a claim: nothing links.
    let member =
        sign_up(&app, json!({"first_name": "Camille", "last_name": "Durand", "email": "camille@example.com"})).await;
    let id = member["id"].as_str().unwrap();
    assert!(member_receipts(&app, id).await.is_empty());
    let lookup: Value = app.api(Method::GET, "/api/v1/receipts/R-1").send().await.unwrap().json().await.unwrap();
    assert_eq!(lookup["member_id"], Value::Null);

    // A second receipt, later, still unverified.
    let (status, second) =
        post_receipt(&app, &with(receipt("R-2"), "customer", json!({"email": "camille@example.com"}))).await;
    assert_eq!(status, 201);
    assert_eq!(second["member_id"], Value::Null);

    // Verified: both link, newest first, and the pass carries the member's name.
    let resp = app
        .api(Method::PATCH, &format!("/api/v1/members/{id}"))
        .json(&json!({"email_verified": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let items = member_receipts(&app, id).await;
    let numbers: Vec<&str> = items.iter().map(|r| r["receipt_number"].as_str().unwrap()).collect();
    assert_eq!(numbers.len(), 2, "{items:?}");
    assert!(numbers.contains(&"R-1") && numbers.contains(&"R-2"));
    assert!(items.iter().all(|r| r["member_id"] == id));
    let lookup: Value = app.api(Method::GET, "/api/v1/receipts/R-1").send().await.unwrap().json().await.unwrap();
    assert_eq!(lookup["member_id"], id);
    let resp = app.client.get(lookup["pass"]["apple_pass_url"].as_str().unwrap()).send().await.unwrap();
    let pass = assert_valid_pass(&resp.bytes().await.unwrap()).json("pass.json");
    assert_eq!(back_field(&pass, "member"), "Camille Durand");

    // Now verified, a new receipt with that e-mail links at once.
    let (_, third) =
        post_receipt(&app, &with(receipt("R-3"), "customer", json!({"email": "camille@example.com"}))).await;
    assert_eq!(third["member_id"], id);

    // Receipts newest first (by issue date).
    let mut late = with(receipt("R-4"), "customer", json!({"email": "camille@example.com"}));
    late["issued_at"] = json!("2026-12-01T09:00:00+01:00");
    post_receipt(&app, &late).await;
    let items = member_receipts(&app, id).await;
    assert_eq!(items[0]["receipt_number"], "R-4");

    // Unknown receipts and members.
    let resp = app.api(Method::GET, "/api/v1/receipts/R-404").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let resp = app.api(Method::GET, "/api/v1/members/mem_missing/receipts").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let resp = app.client.get(app.url("/api/v1/receipts/R-1")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}

async fn verification_link_and_phone_link_waiting_receipts(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    post_receipt(&app, &with(receipt("R-10"), "customer", json!({"email": "lea@example.com"}))).await;
    post_receipt(&app, &with(receipt("R-11"), "customer", json!({"phone": "06 12 34 56 78"}))).await;
    let member = sign_up(&app, json!({"first_name": "Léa", "email": "lea@example.com", "phone": "+33612345678"})).await;
    let id = member["id"].as_str().unwrap();
    assert!(member_receipts(&app, id).await.is_empty());

    // The mailed verification link.
    let resp = app.api(Method::POST, &format!("/api/v1/members/{id}/verify-email")).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    crate::helpers::wait_until_drained(&app, passerelle::store::JobKind::Mail).await;
    let mail = std::fs::read_dir(&app.mail_dir).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(mail).unwrap();
    let start = text.find(&format!("{}/verify/", app.public_url)).unwrap();
    let url: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    let resp = app.client.get(app.url(&url[app.public_url.len()..])).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let numbers: Vec<Value> = member_receipts(&app, id).await.iter().map(|r| r["receipt_number"].clone()).collect();
    assert_eq!(numbers, vec![json!("R-10")]);

    // The phone, verified through the API.
    let resp = app
        .api(Method::PATCH, &format!("/api/v1/members/{id}"))
        .json(&json!({"phone_verified": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(member_receipts(&app, id).await.len(), 2);
}

async fn card_number_links_at_once(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let member = sign_up(&app, json!({"first_name": "Hugo", "email": "hugo@example.com"})).await;
    let id = member["id"].as_str().unwrap();
    let card = member["card_number"].as_str().unwrap();
    let (status, body) = post_receipt(&app, &with(receipt("R-20"), "customer", json!({"card_number": card}))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["member_id"], id);
    assert_eq!(member_receipts(&app, id).await.len(), 1);
    let field = error_field(&app, &with(receipt("R-21"), "customer", json!({"card_number": "000000000000"}))).await;
    assert_eq!(field, "customer.card_number");
}

async fn amounts_that_do_not_add_up_are_refused(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let mut bad_line = receipt("R-30");
    bad_line["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"label": "Mug", "quantity": 3, "unit_price": 450, "total": 1300}));
    assert_eq!(error_field(&app, &bad_line).await, "lines[2].total");

    let mut bad_subtotal = receipt("R-30");
    bad_subtotal["totals"]["subtotal"] = json!(3000);
    assert_eq!(error_field(&app, &bad_subtotal).await, "totals.subtotal");

    let mut bad_total = receipt("R-30");
    bad_total["totals"]["total"] = json!(3098);
    assert_eq!(error_field(&app, &bad_total).await, "totals.total");

    let mut float = receipt("R-30");
    float["lines"][0]["unit_price"] = json!(12.99);
    assert_eq!(error_field(&app, &float).await, "lines[0].unit_price");

    assert_eq!(error_field(&app, &with(receipt("R-30"), "lines", json!([]))).await, "lines");
    assert_eq!(error_field(&app, &with(receipt("R-30"), "issued_at", json!("yesterday"))).await, "issued_at");
    assert_eq!(error_field(&app, &with(receipt("R-30"), "receipt_number", json!("R/30"))).await, "receipt_number");
    assert_eq!(
        error_field(&app, &with(receipt("R-30"), "customer", json!({"email": "not-an-email"}))).await,
        "customer.email"
    );

    // Prices with the tax included (French TTC): total = subtotal.
    let mut ttc = receipt("R-31");
    ttc["tax_included"] = json!(true);
    ttc["totals"] = json!({"subtotal": 3098, "tax": 516, "total": 3098, "currency": "EUR"});
    let (status, body) = post_receipt(&app, &ttc).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["totals"]["total"], 3098);
    assert_eq!(body["totals"]["tax_included"], true);
    let mut ttc_wrong = ttc.clone();
    ttc_wrong["receipt_number"] = json!("R-32");
    ttc_wrong["totals"]["total"] = json!(3614);
    assert_eq!(error_field(&app, &ttc_wrong).await, "totals.total");

    // Nothing refused was stored.
    let resp = app.api(Method::GET, "/api/v1/receipts/R-30").send().await.unwrap();
    assert_eq!(resp.status(), 404);
}

async fn same_idempotency_key_makes_one_receipt(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    crate::helpers::add_store(&app, "lyon-01", "Europe/Paris").await;
    let body = with(receipt("R-40"), "idempotency_key", json!("till-7-000123"));
    let (status, first) = post_receipt(&app, &body).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = post_receipt(&app, &body).await;
    assert!(status == 200 || status == 201, "{status}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["pass"]["serial_number"], first["pass"]["serial_number"]);
    let lookup: Value = app.api(Method::GET, "/api/v1/receipts/R-40").send().await.unwrap().json().await.unwrap();
    assert_eq!(lookup["id"], first["id"]);
    // The key again with another receipt is refused naming the key, never the first receipt back.
    for other in [with(body.clone(), "receipt_number", json!("R-41")), with(body.clone(), "store_id", json!("lyon-01"))]
    {
        let (status, err) = post_receipt(&app, &other).await;
        assert_eq!(status, 409, "{err}");
        assert_eq!(err["error"]["field"], "idempotency_key", "{err}");
    }

    // The same number in the same store without the key is a conflict, in another store it is not.
    let (status, _) = post_receipt(&app, &receipt("R-40")).await;
    assert_eq!(status, 409);
    let (status, _) = post_receipt(&app, &with(receipt("R-40"), "store_id", json!("lyon-01"))).await;
    assert_eq!(status, 201);
    let resp = app.api(Method::GET, "/api/v1/receipts/R-40").send().await.unwrap();
    assert_eq!(resp.status(), 409);
    let resp = app.api(Method::GET, "/api/v1/receipts/R-40?store_id=lyon-01").send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

/// The value of a back field of the (generic) receipt pass.
fn back_field(pass: &Value, key: &str) -> Value {
    pass["generic"]["backFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no back field {key} in {pass}"))["value"]
        .clone()
}

async fn receipt_pass_verifies_and_lists_the_lines(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let (status, body) = post_receipt(&app, &receipt("R-50")).await;
    assert_eq!(status, 201, "{body}");
    let resp = app.client.get(body["pass"]["apple_pass_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let pass = assert_valid_pass(&resp.bytes().await.unwrap()).json("pass.json");
    assert_eq!(back_field(&pass, "lines"), "2 × Linen lampshade  25.98\n1 × Scented candle  5.00");
    assert_eq!(back_field(&pass, "payment"), "Visa •••• 4242");
    assert_eq!(back_field(&pass, "tax").as_f64(), Some(6.2));
    let total = &pass["generic"]["primaryFields"][0];
    assert_eq!((total["value"].as_f64(), total["currencyCode"].as_str()), (Some(37.18), Some("EUR")));
    // The barcode is the number and its keyed check, as the API gives it.
    let code = pass["barcodes"][0]["message"].as_str().unwrap();
    assert!(code.starts_with("R-50-") && code.len() == "R-50-".len() + 8, "{code}");
    assert_eq!(body["barcode"], code);
    assert_eq!(pass["barcodes"][0]["altText"], code);
}

/// A receipt and its pass are stored in one transaction: a receipt refused for a taken
/// idempotency key or number (as when two tills post at once, past the API's checks) leaves no
/// pass, no voided pass and no Google sync behind.
async fn refused_receipts_leave_no_pass(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&backend, dir.path()).await;
    let receipt = |id: &str, number: &str, key: &str| ReceiptRecord {
        id: id.into(),
        receipt_number: number.into(),
        store_id: "paris-01".into(),
        issued_at: 1_700_000_000_000,
        kind: "sale".into(),
        total: 0,
        currency: "EUR".into(),
        body: json!({"lines": []}),
        member_id: None,
        idempotency_key: Some(key.into()),
        email_hmac: None,
        phone_hmac: None,
        pass_serial: format!("PASS-{id}"),
        created_at: 1_700_000_000_000,
    };
    let first = receipt("rcp_first", "T1-0001", "key-1");
    let (stored, pass, _) =
        store.insert_receipt(&first, &[], new_pass("receipt", "PASS-rcp_first"), None, Vec::new()).await.unwrap();
    assert_eq!((stored, pass.serial_number.as_str()), (first, "PASS-rcp_first"));
    for refused in [receipt("rcp_same_key", "T1-0002", "key-1"), receipt("rcp_same_number", "T1-0001", "key-2")] {
        let result =
            store.insert_receipt(&refused, &[], new_pass("receipt", &refused.pass_serial), None, Vec::new()).await;
        assert!(
            matches!(result, Err(StoreError::Conflict { field: "receipt_number", .. })),
            "{}: {result:?}",
            refused.id
        );
        assert!(store.receipt(&refused.id).await.unwrap().is_none(), "{}: no receipt row", refused.id);
        assert_only_passes(store.as_ref(), &["PASS-rcp_first"]).await;
    }
}

on_both_backends!(
    refused_receipts_leave_no_pass,
    email_receipt_links_once_the_member_verifies,
    verification_link_and_phone_link_waiting_receipts,
    card_number_links_at_once,
    amounts_that_do_not_add_up_are_refused,
    same_idempotency_key_makes_one_receipt,
    receipt_pass_verifies_and_lists_the_lines,
);

/// Hex HMAC-SHA256 of a contact as receipts stored it before keys were derived: under the raw secret.
fn raw_secret_hmac(secret: &str, kind: &str, contact: &str) -> String {
    let key = openssl::pkey::PKey::hmac(secret.as_bytes()).unwrap();
    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
    signer.update(format!("receipt-{kind}:{contact}").as_bytes()).unwrap();
    hex::encode(signer.sign_to_vec().unwrap())
}

async_test!(receipts_waiting_under_the_raw_secret_still_link);
async fn receipts_waiting_under_the_raw_secret_still_link() {
    use sqlx::Connection;
    let secret = "r".repeat(40);
    let mut config = test_config();
    config.http.secret_key = Some(passerelle::secret::Secret::new(secret.clone()));
    let app = crate::helpers::spawn_app(config).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let email = "legacy@example.com";
    let (status, posted) = post_receipt(&app, &with(receipt("L-1"), "customer", json!({"email": email}))).await;
    assert_eq!(status, 201, "{posted}");
    let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT email_hmac FROM receipts WHERE receipt_number = 'L-1'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let legacy = raw_secret_hmac(&secret, "email", email);
    assert_ne!(stored, legacy, "new receipts are keyed with the derived receipt-contact key, not the secret");
    // A receipt stored before the upgrade, keyed with the secret itself.
    sqlx::query("UPDATE receipts SET email_hmac = $1 WHERE receipt_number = 'L-1'")
        .bind(&legacy)
        .execute(&mut conn)
        .await
        .unwrap();
    let member = sign_up(&app, json!({"first_name": "Lou", "email": email, "email_verified": true})).await;
    let linked = member_receipts(&app, member["id"].as_str().unwrap()).await;
    assert_eq!(linked.len(), 1, "{linked:?}");
    assert_eq!(linked[0]["receipt_number"], "L-1");
}
