//! Sign-up with a contact already on file: the same page as anyone's, a provisional card linked
//! to no member, one merge e-mail an hour to the member on file, the merge itself (points and
//! receipts move, the provisional pass is voided and its devices told), and the expiry sweep.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::enrollment::{after, browser, flyer, html, mails, members_with_email, sign_up};
use crate::helpers::{Backend, TestApp, spawn_app_on, test_config};
use crate::web_service::{Held, register};

/// The page with every name replaced, and every token, serial or card number (a run of 8 or
/// more letters and digits holding a digit) too.
fn shape(page: &str, names: &[&str]) -> String {
    let mut page = page.to_owned();
    for name in names {
        page = page.replace(name, "NAME");
    }
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let secret = run.len() >= 8 && run.bytes().any(|b| b.is_ascii_digit());
        out.push_str(if secret { "SECRET" } else { run.as_str() });
        run.clear();
    };
    for c in page.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

async fn pass_of_page(app: &TestApp, page: &str) -> Value {
    let apple = after(page, "class=\"wallet apple\" href=\"").expect("an Apple Wallet link").to_owned();
    let pkpass = browser().get(&apple).send().await.unwrap().bytes().await.unwrap();
    let pass = crate::helpers::unpack(&pkpass).json("pass.json");
    let serial = pass["serialNumber"].as_str().unwrap();
    let shown = app.api(Method::GET, &format!("/api/v1/passes/{serial}")).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    let mut shown: Value = shown.json().await.unwrap();
    shown["pass_json"] = pass;
    shown
}

fn merge_link(mail: &str) -> String {
    let start = mail.find("/merge/").expect("a merge link");
    let end = start + mail[start..].find(|c: char| c.is_whitespace()).unwrap();
    mail[start..end].to_owned()
}

async fn member_by_card(app: &TestApp, card_number: &str) -> Vec<Value> {
    let found: Value = app
        .api(Method::GET, &format!("/api/v1/members?card_number={card_number}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    found["items"].as_array().unwrap().clone()
}

async fn same_page_then_merge(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let code = flyer(&app).await;
    let first =
        sign_up(&app, &browser(), &code, &[("first_name", "Zed"), ("email", "zed@example.fr"), ("terms", "yes")]).await;
    let (first_status, first_page) = (first.status(), html(first).await);
    let member = members_with_email(&app, "zed@example.fr").await.remove(0);
    assert_eq!(mails(&app).len(), 1, "the new member's verification link");

    let second =
        sign_up(&app, &browser(), &code, &[("first_name", "Eve"), ("email", "zed@example.fr"), ("terms", "yes")]).await;
    let (second_status, second_page) = (second.status(), html(second).await);
    assert_eq!(first_status, StatusCode::OK);
    assert_eq!(second_status, first_status, "the same status");
    assert_eq!(shape(&second_page, &["Eve"]), shape(&first_page, &["Zed"]), "the same page but names and tokens");

    // A card of its own, linked to no member: not the member's pass, not on the member's record.
    let provisional = pass_of_page(&app, &second_page).await;
    let serial = provisional["serial_number"].as_str().unwrap().to_owned();
    assert_ne!(serial, member["pass"]["serial_number"].as_str().unwrap());
    let card_number = provisional["pass_json"]["barcodes"][0]["message"].as_str().unwrap().to_owned();
    assert_ne!(card_number, member["card_number"].as_str().unwrap());
    let holder = member_by_card(&app, &card_number).await.remove(0);
    assert_ne!(holder["id"], member["id"]);
    assert!(holder["email"].is_null() && holder["phone"].is_null(), "no contact on the provisional card: {holder}");
    assert_eq!(holder["points"], 0);

    // One e-mail to the member on file; a third attempt within the hour sends none.
    let sent = mails(&app);
    assert_eq!(sent.len(), 2, "exactly one new e-mail");
    let mail = sent.iter().find(|m| m.contains("/merge/")).expect("the merge mail").clone();
    assert!(mail.contains("To: zed@example.fr") && !mail.contains("Eve"), "{mail}");
    assert!(mail.contains(member["pass"]["pass_page_url"].as_str().unwrap()), "the member's own card link: {mail}");
    let third =
        sign_up(&app, &browser(), &code, &[("first_name", "Eve"), ("email", "zed@example.fr"), ("terms", "yes")]).await;
    assert_eq!(third.status(), 200);
    assert_eq!(mails(&app).len(), 2, "no second mail within the hour");

    // A till credits the provisional card by its number; an iPhone holds it.
    let till = json!({"delta": 40, "reason": "purchase", "idempotency_key": "till-1"});
    let credited = app.api(Method::POST, &format!("/api/v1/members/{}/points", holder["id"].as_str().unwrap()));
    assert_eq!(credited.json(&till).send().await.unwrap().status(), 200);
    let receipt = json!({
        "store_id": "paris-01", "issued_at": "2026-11-22T15:42:00+01:00", "receipt_number": "P-1",
        "lines": [{"label": "Candle", "quantity": 1, "unit_price": 500, "total": 500}],
        "totals": {"subtotal": 500, "total": 500, "currency": "EUR"}, "tax_included": true,
        "customer": {"card_number": card_number},
    });
    let posted = app.api(Method::POST, "/api/v1/receipts").json(&receipt).send().await.unwrap();
    assert_eq!(posted.status(), 201);
    let pass_json = &provisional["pass_json"];
    let held = Held {
        serial: serial.clone(),
        token: pass_json["authenticationToken"].as_str().unwrap().into(),
        pass_type: pass_json["passTypeIdentifier"].as_str().unwrap().into(),
        web_service_url: pass_json["webServiceURL"].as_str().unwrap().into(),
    };
    let device = "0123456789abcdef0123456789abcdef";
    assert_eq!(register(&app, &held, device).await, 201);
    let tag =
        app.client.get(held.serials(device, None)).send().await.unwrap().json::<Value>().await.unwrap()["lastUpdated"]
            .as_str()
            .unwrap()
            .to_owned();

    // The link shows a button; following it (GET, as a mail scanner would) changes nothing.
    let link = merge_link(&mail);
    let page = app.client.get(app.url(&link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = html(page).await;
    assert!(page.contains(&format!("action=\"{link}\"")) && page.contains("method=\"post\""), "{page}");
    assert_eq!(pass_of_page(&app, &second_page).await["voided"], false);

    let merged = app.client.post(app.url(&link)).send().await.unwrap();
    assert_eq!(merged.status(), 200);
    let member_after = members_with_email(&app, "zed@example.fr").await.remove(0);
    assert_eq!(member_after["points"], 40, "the points moved over");
    assert_eq!(member_by_card(&app, &card_number).await[0]["points"], 0);
    let receipts: Value = app
        .api(Method::GET, &format!("/api/v1/members/{}/receipts", member["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(receipts["items"][0]["receipt_number"], "P-1", "the receipts moved over: {receipts}");
    assert_eq!(pass_of_page(&app, &second_page).await["voided"], true, "the provisional pass is voided");
    let changed = app.client.get(held.serials(device, Some(&tag))).send().await.unwrap();
    assert_eq!(changed.status(), 200, "the device holding it is told");
    assert_eq!(changed.json::<Value>().await.unwrap()["serialNumbers"], json!([serial]));

    // Once only.
    assert_eq!(app.client.post(app.url(&link)).send().await.unwrap().status(), 410);
    assert_eq!(members_with_email(&app, "zed@example.fr").await[0]["points"], 40);
    let unknown = app.client.post(app.url("/merge/0123456789abcdef0123456789abcdef")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

async fn unmerged_cards_expire(backend: Backend) {
    let mut config = test_config();
    config.loyalty.provisional_card_days = 0;
    let app = spawn_app_on(backend, config).await;
    let code = flyer(&app).await;
    let fields = [("first_name", "Ann"), ("email", "ann@example.fr"), ("terms", "yes")];
    let first = html(sign_up(&app, &browser(), &code, &fields).await).await;
    let second = html(sign_up(&app, &browser(), &code, &fields).await).await;
    crate::push::eventually("the provisional card is voided", async || {
        pass_of_page(&app, &second).await["voided"] == true
    })
    .await;
    assert_eq!(pass_of_page(&app, &first).await["voided"], false, "the member's own card stays");
    let mail = mails(&app).into_iter().find(|m| m.contains("/merge/")).unwrap();
    let merged = app.client.post(app.url(&merge_link(&mail))).send().await.unwrap();
    assert_eq!(merged.status(), 410, "an expired card is not merged");
}

on_both_backends!(same_page_then_merge, unmerged_cards_expire);
