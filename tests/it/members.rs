//! Loyalty members through the admin API, on SQLite and PostgreSQL: sign-up with a pass that
//! verifies, field errors, duplicates, lookups, and nothing left behind by a refused sign-up
//! (points and tiers: `member_points.rs`).

use passerelle::store::{MemberRecord, MemberTokenRecord, StoreError, TokenPurpose, now_ms};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, assert_only_passes, assert_valid_pass, new_pass, open_store, spawn_app_on, test_config,
};

pub(crate) async fn error_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    (status, resp.json::<Value>().await.unwrap()["error"].clone())
}

pub(crate) async fn sign_up(app: &TestApp, body: Value) -> Value {
    let resp = app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

pub(crate) async fn points(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.api(Method::POST, &format!("/api/v1/members/{id}/points")).json(&body).send().await.unwrap()
}

pub(crate) async fn patch(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.api(Method::PATCH, &format!("/api/v1/members/{id}")).json(&body).send().await.unwrap()
}

pub(crate) async fn get_member(app: &TestApp, id: &str) -> Value {
    app.api(Method::GET, &format!("/api/v1/members/{id}")).send().await.unwrap().json().await.unwrap()
}

/// The pass.json served at the member's `apple_pass_url`, after checking the signature.
pub(crate) async fn served_pass(app: &TestApp, member: &Value) -> Value {
    let resp = app.client.get(member["pass"]["apple_pass_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_valid_pass(&resp.bytes().await.unwrap()).json("pass.json")
}

/// The value of a storeCard field.
pub(crate) fn field(pass: &Value, key: &str) -> Value {
    let card = &pass["storeCard"];
    ["primaryFields", "secondaryFields", "auxiliaryFields", "backFields"]
        .iter()
        .filter_map(|s| card[s].as_array())
        .flatten()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no field {key} in {card}"))["value"]
        .clone()
}

async fn sign_up_creates_a_card_that_verifies(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let member = sign_up(
        &app,
        json!({
            "first_name": " Marie ", "last_name": "dupont", "email": " Marie.Dupont@Example.FR ",
            "phone": "06 12 34 56 78", "birthday": "1990-04-12", "language": "fr", "home_store_id": "paris-01",
            "consent": {"terms": true, "marketing": false, "version": "2026-01"},
            "attributes": {"favourite": "shoes"}, "source": {"flyer": "fl_1", "store": "paris-01", "channel": "flyer"}
        }),
    )
    .await;
    let id = member["id"].as_str().unwrap();
    assert!(id.starts_with("mem_") && id.len() == 20, "{id}");
    let card = member["card_number"].as_str().unwrap();
    assert_eq!(card.len(), 12);
    assert!(passerelle::loyalty::card::luhn_valid(card), "check digit of {card}");
    assert_eq!(member["first_name"], "Marie");
    assert_eq!(member["email"], "marie.dupont@example.fr");
    assert_eq!(member["phone"], "+33612345678");
    assert_eq!((member["email_verified"].as_bool(), member["phone_verified"].as_bool()), (Some(false), Some(false)));
    assert_eq!((member["points"].as_i64(), member["tier"].as_str()), (Some(0), Some("member")));
    assert_eq!(member["consent"]["terms"], true);
    assert_eq!(member["consent"]["version"], "2026-01");
    assert!(member["consent"]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(member["source"], json!({"flyer": "fl_1", "store": "paris-01", "channel": "flyer"}));
    let keys: Vec<&String> = member["pass"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["serial_number", "apple_pass_url", "pass_page_url", "google_save_url"]);
    assert!(member["pass"]["google_save_url"].is_null(), "Google is off in tests");

    let pass = served_pass(&app, &member).await;
    assert_eq!(pass["serialNumber"], member["pass"]["serial_number"]);
    assert_eq!(pass["barcodes"][0]["message"], card, "the barcode carries the card number");
    assert_eq!(field(&pass, "card_number"), card);
    assert_eq!(field(&pass, "member"), "Marie D.");
    assert_eq!(field(&pass, "points"), 0);
    assert_eq!(field(&pass, "tier"), "Member");

    assert_eq!(get_member(&app, id).await, member);
    let (status, err) = error_of(app.api(Method::GET, "/api/v1/members/mem_nope").send().await.unwrap()).await;
    assert_eq!((status.as_u16(), err["code"].as_str()), (404, Some("not_found")));

    // A card number of the retailer's own scheme is kept as given.
    let given =
        sign_up(&app, json!({"first_name": "Léa", "phone": "+32 470 12 34 56", "card_number": "ML-0042"})).await;
    assert_eq!(given["card_number"], "ML-0042");
    assert_eq!(given["phone"], "+32470123456");
}

async fn bad_sign_ups_name_the_field(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let ok = json!({"first_name": "Marie", "email": "marie@example.fr"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (json!({"email": "marie@example.fr"}), "first_name"),
        (with("first_name", json!("  ")), "first_name"),
        (json!({"first_name": "Marie"}), "email"),
        (with("email", json!("marie@")), "email"),
        (with("phone", json!("12")), "phone"),
        (with("birthday", json!("12/04/1990")), "birthday"),
        (with("birthday", json!("2999-01-01")), "birthday"),
        (with("language", json!("french!")), "language"),
        (with("card_number", json!("has space")), "card_number"),
        (with("last_name", json!("x".repeat(101))), "last_name"),
    ] {
        let (status, err) = error_of(app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap()).await;
        assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some(field)), "{body}: {err}");
    }
    let (status, _) =
        error_of(app.api(Method::POST, "/api/v1/members").json(&with("nickname", json!("M"))).send().await.unwrap())
            .await;
    assert_eq!(status, 400, "unknown fields are refused");
    let resp = app.client.post(app.url("/api/v1/members")).json(&ok).send().await.unwrap();
    assert_eq!(resp.status(), 401, "an API key is needed");
}

async fn duplicates_name_the_existing_member(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let first =
        sign_up(&app, json!({"first_name": "Marie", "email": "marie@example.fr", "phone": "+33 6 12 34 56 78"})).await;
    let id = first["id"].as_str().unwrap();
    for (body, field) in [
        (json!({"first_name": "M", "email": " MARIE@Example.fr"}), "email"),
        (json!({"first_name": "M", "email": "other@example.fr", "phone": "0612345678"}), "phone"),
        (json!({"first_name": "M", "phone": "06.12.34.56.78"}), "phone"),
    ] {
        let (status, err) = error_of(app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap()).await;
        assert_eq!((status.as_u16(), err["field"].as_str()), (409, Some(field)), "{body}: {err}");
        assert_eq!(err["member_id"], id, "the 409 names the existing member");
    }
    let card = first["card_number"].as_str().unwrap();
    let (status, err) = error_of(
        app.api(Method::POST, "/api/v1/members")
            .json(&json!({"first_name": "M", "email": "m@example.fr", "card_number": card}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (409, Some("card_number")));

    // A change to someone else's contact is refused the same way.
    let other = sign_up(&app, json!({"first_name": "Paul", "email": "paul@example.fr"})).await;
    let (status, err) =
        error_of(patch(&app, other["id"].as_str().unwrap(), json!({"phone": "0612345678"})).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str(), err["member_id"].as_str()), (409, Some("phone"), Some(id)));
    let (status, err) = error_of(patch(&app, id, json!({"email": null, "phone": null})).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("email")), "a member keeps a contact");
}

/// The ids of the members a lookup finds.
async fn find(app: &TestApp, query: &[(&str, &str)]) -> Vec<String> {
    let resp = app.api(Method::GET, "/api/v1/members").query(query).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

async fn lookups_are_exact_and_normalised(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let m = sign_up(&app, json!({"first_name": "Marie", "email": "marie@example.fr", "phone": "0612345678"})).await;
    sign_up(&app, json!({"first_name": "Paul", "email": "paul@example.fr"})).await;
    let id = m["id"].as_str().unwrap().to_owned();
    assert_eq!(find(&app, &[("email", "MARIE@example.FR")]).await, [id.as_str()]);
    assert_eq!(find(&app, &[("phone", "+33 6 12 34 56 78")]).await, [id.as_str()]);
    assert_eq!(find(&app, &[("phone", "06 12 34 56 78")]).await, [id.as_str()]);
    assert_eq!(find(&app, &[("card_number", m["card_number"].as_str().unwrap())]).await, [id.as_str()]);
    assert!(find(&app, &[("email", "marie@example.com")]).await.is_empty());
    assert!(find(&app, &[("email", "marie@example.fr"), ("phone", "0699999999")]).await.is_empty());
    let items = app.api(Method::GET, "/api/v1/members?email=marie@example.fr").send().await.unwrap();
    let items: Value = items.json().await.unwrap();
    assert_eq!(items["items"][0], m, "lookups return the member object");
    assert_eq!(app.api(Method::GET, "/api/v1/members").send().await.unwrap().status(), 400);
}

/// A member as the store takes them: the pass serial and one consent-withdrawal token.
fn member(id: &str, card: &str, email: &str) -> (MemberRecord, MemberTokenRecord) {
    let now = now_ms();
    let member = MemberRecord {
        id: id.into(),
        card_number: card.into(),
        first_name: "Ada".into(),
        email: Some(email.into()),
        tier: "member".into(),
        attributes: json!({}),
        pass_serial: Some(format!("PASS-{id}")),
        created_at: now,
        updated_at: now,
        ..MemberRecord::default()
    };
    let token = MemberTokenRecord {
        token_hash: format!("{:0>64}", id),
        member_id: id.into(),
        purpose: TokenPurpose::WithdrawConsent,
        email: None,
        created_at: now,
        used_at: None,
    };
    (member, token)
}

/// A sign-up is one transaction: refused for a taken e-mail or card number (as when another
/// sign-up commits between the API's checks and the insert), it leaves no pass, no voided pass,
/// no Google sync and no token behind.
async fn refused_sign_ups_leave_nothing_behind(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&backend, dir.path()).await;
    let (first, token) = member("mem_first", "100000000001", "ada@example.com");
    let (stored, pass) = store.insert_member(&first, new_pass("loyalty", "PASS-mem_first"), &[token]).await.unwrap();
    assert_eq!(
        (stored.pass_serial.as_deref(), pass.serial_number.as_str()),
        (Some("PASS-mem_first"), "PASS-mem_first")
    );
    assert!(store.member_token(&format!("{:0>64}", "mem_first")).await.unwrap().is_some(), "the token is stored");

    for (id, card, email, field) in [
        ("mem_same_mail", "100000000002", "ada@example.com", "email"),
        ("mem_same_card", "100000000001", "grace@example.com", "card_number"),
    ] {
        let (refused, token) = member(id, card, email);
        let result = store.insert_member(&refused, new_pass("loyalty", &format!("PASS-{id}")), &[token]).await;
        match result {
            Err(StoreError::Conflict { field: f, existing, .. }) => {
                assert_eq!((f, existing.as_deref()), (field, Some("mem_first")), "{id}")
            }
            other => panic!("{id}: a conflict naming the first member, got {other:?}"),
        }
        assert!(store.member(id).await.unwrap().is_none(), "{id}: no member row");
        assert!(store.member_token(&format!("{:0>64}", id)).await.unwrap().is_none(), "{id}: no token");
        assert_only_passes(store.as_ref(), &["PASS-mem_first"]).await;
    }
}

on_both_backends!(
    refused_sign_ups_leave_nothing_behind,
    sign_up_creates_a_card_that_verifies,
    bad_sign_ups_name_the_field,
    duplicates_name_the_existing_member,
    lookups_are_exact_and_normalised,
);
