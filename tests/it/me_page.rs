//! The member's private "My receipts" pages, on SQLite and PostgreSQL: the link on the back of
//! the loyalty pass opens the card and the receipts (newest first), each receipt opens to its
//! lines; a wrong token, another member's receipt and a revoked link give a 404 that names no
//! one. And the pages in headless Chromium at phone size (screenshots as test artifacts).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{Backend, TestApp, assert_valid_pass, spawn_app, spawn_app_on, test_config};

async fn sign_up(app: &TestApp, first_name: &str, email: &str) -> Value {
    let resp = app
        .api(Method::POST, "/api/v1/members")
        .json(&json!({"first_name": first_name, "last_name": "Durand", "email": email}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

/// Posts a receipt for the holder of `card`: `label` × 1 at `price`, tax 20% on top.
async fn post_receipt(app: &TestApp, card: &str, number: &str, issued_at: &str, label: &str, price: i64) -> Value {
    let tax = price / 5;
    let body = json!({
        "store_id": "paris-01",
        "issued_at": issued_at,
        "receipt_number": number,
        "lines": [{"sku": "SKU-1", "label": label, "quantity": 1, "unit_price": price, "total": price}],
        "totals": {"subtotal": price, "tax": tax, "total": price + tax, "currency": "EUR"},
        "payment": {"method": "visa", "last4": "4242"},
        "customer": {"card_number": card},
    });
    let resp = app.api(Method::POST, "/api/v1/receipts").json(&body).send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

/// The `me_url` on the back of the member's loyalty pass, read from the downloaded .pkpass.
async fn me_url_on_pass(app: &TestApp, member: &Value) -> String {
    let pkpass = app.client.get(member["pass"]["apple_pass_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(pkpass.status(), 200);
    let pass = assert_valid_pass(&pkpass.bytes().await.unwrap()).json("pass.json");
    let back = pass["storeCard"]["backFields"].as_array().unwrap();
    let field = back.iter().find(|f| f["key"] == "my_receipts").expect("a my_receipts back field");
    assert_eq!(field["label"], "MY_RECEIPTS");
    let url = field["value"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/me/", app.public_url)), "{url}");
    assert_eq!(field["attributedValue"], format!("<a href='{url}'>{url}</a>"));
    url
}

fn path_of(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.public_url).unwrap_or_else(|| panic!("{url} is not under {}", app.public_url)).to_owned()
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let resp = app.client.get(app.url(path)).header("accept-language", "en-GB,en;q=0.8").send().await.unwrap();
    (resp.status(), resp.headers().clone(), resp.text().await.unwrap())
}

fn assert_private(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
}

/// A 404 that says nothing about any member.
async fn assert_unknown(app: &TestApp, path: &str, secrets: &[&str]) {
    let (status, headers, html) = get(app, path).await;
    assert_eq!(status, 404, "{path}: {html}");
    assert_private(&headers);
    for secret in secrets {
        assert!(!html.contains(secret), "{path} leaks {secret:?}: {html}");
    }
}

/// Two receipt hrefs in the order the page lists them.
fn receipt_links(html: &str) -> Vec<String> {
    html.match_indices("href=\"&#x2f;me&#x2f;")
        .filter_map(|(i, _)| {
            let rest = &html[i + 6..];
            let href = &rest[..rest.find('"')?];
            href.contains("receipts").then(|| href.replace("&#x2f;", "/"))
        })
        .collect()
}

async fn me_page_lists_receipts_newest_first(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let store = json!({"id": "paris-01", "name": "Paris Rivoli", "latitude": 48.8606, "longitude": 2.3522, "timezone": "Europe/Paris"});
    assert_eq!(app.api(Method::POST, "/api/v1/stores").json(&store).send().await.unwrap().status(), 201);
    let marie = sign_up(&app, "Marie", "marie@example.com").await;
    let card = marie["card_number"].as_str().unwrap();
    let older = post_receipt(&app, card, "R-100", "2026-11-20T10:05:00+01:00", "Linen lampshade", 1299).await;
    let newer = post_receipt(&app, card, "R-101", "2026-11-22T15:42:00+01:00", "Scented candle", 500).await;

    let url = me_url_on_pass(&app, &marie).await;
    let path = path_of(&app, &url);
    let (status, headers, html) = get(&app, &path).await;
    assert_eq!(status, 200, "{html}");
    assert_private(&headers);
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(html.contains("Marie"), "{html}");
    assert!(html.contains("Paris Rivoli"), "the store's name: {html}");
    assert!(html.contains("15.58 EUR") && html.contains("6.00 EUR"), "totals in major units: {html}");
    assert!(html.contains("2026-11-22 15:42"), "{html}");
    assert!(html.contains("Add to Apple Wallet"), "the card's wallet button: {html}");
    let links = receipt_links(&html);
    assert_eq!(
        links,
        vec![
            format!("{path}/receipts/{}", newer["id"].as_str().unwrap()),
            format!("{path}/receipts/{}", older["id"].as_str().unwrap()),
        ],
        "newest first"
    );
    let first = html.find("R-101").unwrap();
    assert!(first < html.find("R-100").unwrap(), "newest first");

    // A receipt opens to its lines, totals, payment and its own wallet buttons.
    let (status, headers, detail) = get(&app, &links[1]).await;
    assert_eq!(status, 200, "{detail}");
    assert_private(&headers);
    assert!(detail.contains("Linen lampshade"), "{detail}");
    assert!(detail.contains("12.99 EUR") && detail.contains("2.59 EUR") && detail.contains("15.58 EUR"), "{detail}");
    assert!(detail.contains("Visa •••• 4242"), "{detail}");
    let apple = older["pass"]["apple_pass_url"].as_str().unwrap().replace('/', "&#x2f;");
    assert!(detail.contains(&apple), "the receipt pass's button: {detail}");
    // French by Accept-Language.
    let resp = app.client.get(app.url(&links[1])).header("accept-language", "fr-FR,fr").send().await.unwrap();
    let fr = resp.text().await.unwrap();
    assert!(fr.contains("Ajouter à Apple Wallet") && fr.contains("lang=\"fr\""), "{fr}");

    // Wrong token, another member's receipt, a revoked link: 404, nothing about Marie.
    let secrets = ["Marie", "Durand", card, "R-100", "R-101", "Linen lampshade", "Paris Rivoli"];
    assert_unknown(&app, "/me/00000000000000000000000000000000", &secrets).await;
    assert_unknown(&app, "/me/not-a-token", &secrets).await;
    assert_unknown(
        &app,
        &format!("/me/00000000000000000000000000000000/receipts/{}", older["id"].as_str().unwrap()),
        &secrets,
    )
    .await;
    let paul = sign_up(&app, "Paul", "paul@example.com").await;
    let paul_path = path_of(&app, &me_url_on_pass(&app, &paul).await);
    assert_unknown(&app, &format!("{paul_path}/receipts/{}", older["id"].as_str().unwrap()), &secrets).await;
    assert_unknown(&app, &format!("{path}/receipts/rcp_0000000000000000"), &secrets).await;

    let id = marie["id"].as_str().unwrap();
    let resp = app.api(Method::POST, &format!("/api/v1/members/{id}/me-link/revoke")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let revoked: Value = resp.json().await.unwrap();
    let new_url = revoked["me_url"].as_str().unwrap();
    assert_ne!(new_url, url);
    assert_unknown(&app, &path, &secrets).await;
    assert_unknown(&app, &links[0], &secrets).await;
    // The pass carries the new link, and it works.
    assert_eq!(me_url_on_pass(&app, &marie).await, new_url);
    let (status, _, html) = get(&app, &path_of(&app, new_url)).await;
    assert_eq!(status, 200);
    assert!(html.contains("R-101"), "{html}");
    // Revoking needs the admin key and a member.
    let resp = app.client.post(app.url(&format!("/api/v1/members/{id}/me-link/revoke"))).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = app.api(Method::POST, "/api/v1/members/mem_missing/me-link/revoke").send().await.unwrap();
    assert_eq!(resp.status(), 404);
}

/// A receipt bought before the loyalty card existed shows on the member's /me page and in the
/// API once the member's e-mail is verified, never before.
async fn earlier_receipts_appear_after_sign_up(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let body = json!({
        "store_id": "paris-01",
        "issued_at": "2026-11-02T11:00:00+01:00",
        "receipt_number": "R-EARLY-1",
        "lines": [{"sku": "SKU-9", "label": "Brass table lamp", "quantity": 1, "unit_price": 8900, "total": 8900}],
        "totals": {"subtotal": 8900, "tax": 1780, "total": 10680, "currency": "EUR"},
        "payment": {"method": "visa", "last4": "4242"},
        "customer": {"email": "Early.Bird@Example.fr"},
    });
    let receipt: Value =
        app.api(Method::POST, "/api/v1/receipts").json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(receipt["member_id"], Value::Null, "no member yet");

    let member = sign_up(&app, "Eve", "early.bird@example.fr").await;
    let id = member["id"].as_str().unwrap();
    let me = path_of(&app, &me_url_on_pass(&app, &member).await);
    let path = format!("/api/v1/members/{id}/receipts");
    let listed = async || app.api(Method::GET, &path).send().await.unwrap().json::<Value>().await.unwrap();
    assert!(!get(&app, &me).await.2.contains("R-EARLY-1"), "an unverified e-mail claims nothing");
    assert_eq!(listed().await["items"], json!([]));

    let r = app
        .api(Method::PATCH, &format!("/api/v1/members/{id}"))
        .json(&json!({"email_verified": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(get(&app, &me).await.2.contains("R-EARLY-1"), "the earlier receipt is on the /me page");
    assert_eq!(listed().await["items"][0]["receipt_number"], "R-EARLY-1");
}

on_both_backends!(me_page_lists_receipts_newest_first, earlier_receipts_appear_after_sign_up);

browser_test!(the_me_page_renders_in_chromium);
/// The pages in headless Chromium on a phone-sized viewport, then at desktop size.
async fn the_me_page_renders_in_chromium() {
    let browser = Browser::start().await;
    let app = spawn_app(test_config()).await;
    let store = json!({"id": "paris-01", "name": "Paris Rivoli", "latitude": 48.8606, "longitude": 2.3522, "timezone": "Europe/Paris"});
    assert_eq!(app.api(Method::POST, "/api/v1/stores").json(&store).send().await.unwrap().status(), 201);
    let member = sign_up(&app, "Camille", "camille@example.fr").await;
    let card = member["card_number"].as_str().unwrap();
    post_receipt(&app, card, "R-200", "2026-11-18T09:30:00+01:00", "Linen lampshade", 2598).await;
    let last = post_receipt(&app, card, "R-201", "2026-11-22T17:10:00+01:00", "Scented candle", 1500).await;
    let url = me_url_on_pass(&app, &member).await;

    browser.goto(&url).await;
    let page = browser.wait_for_text("R-201").await;
    assert!(page.contains("Add to Apple Wallet"));
    browser.screenshot("me-page").await;

    browser.click("a.row").await;
    let detail = browser.wait_for_text("Scented candle").await;
    assert!(detail.contains(last["receipt_number"].as_str().unwrap()));
    browser.screenshot("me-receipt").await;

    // At desktop size the same pages keep a readable column.
    browser.resize(1280, 800).await;
    browser.screenshot("me-receipt-desktop").await;
    browser.goto(&url).await;
    browser.wait_for_text("R-201").await;
    browser.screenshot("me-page-desktop").await;
}
