//! Each offer instance is an Apple coupon pass (template `offer`), on SQLite and PostgreSQL:
//! signed (the signature verifies), `coupon` style, the reward, title, validity and stores on
//! it, terms on the back, `expirationDate` = `valid_until`, the code in the barcode, `locations`
//! of the offer's stores nearest the holder's home store; redeemed, it says "Used on …", is
//! voided and its iPhone pushed; the reversal restores it and pushes again. The loyalty card's
//! "Your offers" and the `/me` page list the live ones with their Add to Apple Wallet links.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaigns::{member, no_quiet_hours, on_iphone, store_of};
use crate::helpers::{Backend, TestApp, assert_valid_pass, spawn_app_on};
use crate::offers::{hq_offer, issue, member_offers, offer_body, send};
use crate::push::{eventually, mock, push_config, token};

async fn shop(app: &TestApp, id: &str, name: &str, latitude: f64, longitude: f64) {
    let body =
        json!({"id": id, "name": name, "latitude": latitude, "longitude": longitude, "timezone": "Europe/Paris"});
    let (status, out) = send(app, None, Method::POST, "/api/v1/stores", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
}

async fn pass_json(app: &TestApp, url: &str) -> Value {
    let resp = app.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_valid_pass(&resp.bytes().await.unwrap()).json("pass.json")
}

fn field<'a>(pass: &'a Value, group: &str, key: &str) -> &'a Value {
    pass["coupon"][group]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .map(|f| &f["value"])
        .unwrap_or(&Value::Null)
}

async fn an_instance_is_a_signed_coupon_voided_and_pushed_when_used(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, no_quiet_hours(push_config(&apns))).await;
    let store = store_of(&app).await;
    // Paris (home), Versailles (near), Lyon (far), Marseille (not in the offer).
    shop(&app, "paris-01", "Paris Marais", 48.857, 2.362).await;
    shop(&app, "versailles-01", "Versailles", 48.804, 2.130).await;
    shop(&app, "lyon-02", "Lyon Presqu'île", 45.764, 4.835).await;
    shop(&app, "marseille-03", "Marseille", 43.296, 5.370).await;
    let (holder, _) = member(&app, Some("paris-01"), 0, true, "fr", json!({})).await;
    let mut body = offer_body();
    body["stores"] = json!(["lyon-02", "versailles-01", "paris-01"]);
    body["reward"] = json!({"kind": "amount", "value": 500, "currency": "EUR"});
    let offer = hq_offer(&app, body.clone()).await;
    issue(&app, &offer, &[&holder]).await;
    let live = member_offers(&app, &holder, "live").await;
    let code = live[0]["code"].as_str().unwrap().to_owned();
    let url = live[0]["pass"]["apple_pass_url"].as_str().unwrap().to_owned();
    let serial = live[0]["pass"]["serial_number"].as_str().unwrap().to_owned();

    let pass = pass_json(&app, &url).await;
    assert!(pass.get("coupon").is_some() && pass.get("storeCard").is_none(), "{pass}");
    assert_eq!(field(&pass, "primaryFields", "reward"), "5.00 EUR");
    assert_eq!(field(&pass, "secondaryFields", "title"), "-10 % sur les bougies", "the holder's language");
    assert_eq!(field(&pass, "backFields", "terms"), "One per customer.", "the only language given");
    assert_eq!(field(&pass, "backFields", "stores"), "Lyon Presqu'île, Versailles, Paris Marais");
    assert_eq!(field(&pass, "backFields", "code"), code.as_str());
    assert_eq!(pass["barcodes"][0]["message"], code.as_str());
    let until = body["valid_until"].as_str().unwrap().replace('Z', "+00:00");
    assert_eq!(pass["expirationDate"], until.as_str());
    assert_eq!(field(&pass, "auxiliaryFields", "valid_until"), until.as_str());
    let names: Vec<&str> =
        pass["locations"].as_array().unwrap().iter().map(|l| l["relevantText"].as_str().unwrap()).collect();
    assert_eq!(names, ["Paris Marais", "Versailles", "Lyon Presqu'île"], "home first, then nearest; only the offer's");
    assert!(pass.get("voided").is_none());

    // The loyalty card lists it ("Your offers", with the link that adds the coupon), and so does
    // the holder's /me page, with its Add to Apple Wallet button.
    let (_, m) = send(&app, None, Method::GET, &format!("/api/v1/members/{holder}"), None).await;
    let card_url = m["pass"]["apple_pass_url"].as_str().unwrap().to_owned();
    let card = pass_json(&app, &card_url).await;
    let back = |card: &Value, key: &str| -> Value {
        card["storeCard"]["backFields"].as_array().unwrap().iter().find(|f| f["key"] == key).cloned().unwrap()
    };
    let listed = back(&card, "your_offers");
    let text = listed["value"].as_str().unwrap();
    assert!(text.contains("-10 % sur les bougies") && text.contains("5.00 EUR") && text.contains(&code), "{listed}");
    assert!(listed["attributedValue"].as_str().unwrap().contains(&format!("<a href='{url}'>")), "{listed}");
    let me = back(&card, "my_receipts")["value"].as_str().unwrap().to_owned();
    let page = app.client.get(me.replace(&app.public_url, &app.base_url)).send().await.unwrap().text().await.unwrap();
    // The page escapes the link's slashes; its unguessable share token is in it.
    let share = url.split("/p/").nth(1).unwrap().split('/').next().unwrap();
    assert!(page.contains(&code) && page.contains(share) && page.contains("Add to Apple Wallet"), "{page}");

    // On an iPhone; redeemed: "Used on …", voided, pushed.
    on_iphone(&app, store.as_ref(), &serial, "device-coupon", &token(7)).await;
    let before = apns.received_count();
    let (status, done) =
        send(&app, None, Method::POST, "/api/v1/offers/redeem", Some(json!({"code": code, "store_id": "lyon-02"})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["pass"]["serial_number"], serial.as_str());
    eventually("the coupon's iPhone is pushed", async || apns.received_count() > before).await;
    let pushed: BTreeSet<String> = apns.received()[before..].iter().map(|r| r.token.clone()).collect();
    assert_eq!(pushed, BTreeSet::from([token(7)]));
    let used = pass_json(&app, &url).await;
    assert_eq!(used["voided"], true, "{used}");
    let text = field(&used, "backFields", "used").as_str().unwrap();
    assert!(text.contains("lyon-02") && text.contains(&done["redeemed_at"].as_str().unwrap()[..16]), "{text}");
    let card = pass_json(&app, &card_url).await;
    assert_eq!(back(&card, "your_offers")["value"], "", "a used offer leaves the card");

    // Reversed: live again, un-voided, pushed again.
    let before = apns.received_count();
    let path = format!("/api/v1/offers/redemptions/{}/reverse", done["id"].as_str().unwrap());
    let (status, out) = send(&app, None, Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    eventually("the coupon's iPhone is pushed again", async || apns.received_count() > before).await;
    let restored = pass_json(&app, &url).await;
    assert!(restored.get("voided").is_none(), "{restored}");
    assert_eq!(field(&restored, "backFields", "used"), "");
    let card = pass_json(&app, &card_url).await;
    assert!(back(&card, "your_offers")["value"].as_str().unwrap().contains(&code));
}

on_both_backends!(an_instance_is_a_signed_coupon_voided_and_pushed_when_used);
