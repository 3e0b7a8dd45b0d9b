//! Offers in Google Wallet, on SQLite and PostgreSQL: each offer an `offerClass`, each instance
//! an `offerObject` (valid against the discovery document, its code in the barcode, its dates
//! in `validTimeInterval`), linked to the holder's saved loyalty object (`linkedOfferIds`,
//! `linkedObjectIds`), with a save link of its own; redeemed, the object is COMPLETED.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaigns::{ISSUER, add_store, google_setup, member, saved_on_google, store_of};
use crate::google_schema::Discovery;
use crate::helpers::{Backend, spawn_app_on, test_config};
use crate::offers::{hq_offer, issue, member_offers, offer_body, send};
use crate::push::eventually;

async fn offers_are_google_offer_objects_linked_to_the_loyalty_card(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    let google = google_setup(&mut config, dir.path()).await;
    let app = spawn_app_on(backend, config).await;
    let store = store_of(&app).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    let (holder, card_serial) = member(&app, Some("paris-01"), 0, true, "en", json!({})).await;
    saved_on_google(store.as_ref(), &card_serial).await;
    let offer = hq_offer(&app, offer_body()).await;
    issue(&app, &offer, &[&holder]).await;
    let live = member_offers(&app, &holder, "live").await;
    let (code, serial) =
        (live[0]["code"].as_str().unwrap().to_owned(), live[0]["pass"]["serial_number"].as_str().unwrap().to_owned());
    assert!(
        live[0]["pass"]["google_save_url"].as_str().is_some_and(|u| u.starts_with("https://pay.google.com/")),
        "{live:?}"
    );

    let object_id = format!("{ISSUER}.{serial}");
    let class_id = format!("{ISSUER}.offer-{offer}");
    eventually("the offer object is written", async || google.object("offerObject", &object_id).is_some()).await;
    let object = google.object("offerObject", &object_id).unwrap();
    let class = google.object("offerClass", &class_id).expect("the offer's own class");
    let discovery = Discovery::load();
    assert_eq!(discovery.validate("OfferClass", &class), Vec::<String>::new(), "{class:#}");
    assert_eq!(discovery.validate("OfferObject", &object), Vec::<String>::new(), "{object:#}");
    assert_eq!((object["classId"].as_str(), object["state"].as_str()), (Some(class_id.as_str()), Some("ACTIVE")));
    assert_eq!(object["barcode"]["value"], code.as_str());
    assert_eq!(class["title"], "10% off candles");
    assert_eq!(class["redemptionChannel"], "INSTORE");
    assert!(object["validTimeInterval"]["end"]["date"].is_string(), "{object:#}");

    // Linked to the saved loyalty object, which shows it in the wallet.
    let card_id = format!("{ISSUER}.{card_serial}");
    let linked = async || {
        google
            .object("loyaltyObject", &card_id)
            .is_some_and(|o| o["linkedOfferIds"] == json!([object_id]) && o["linkedObjectIds"] == json!([object_id]))
    };
    eventually("the loyalty object links the offer", linked).await;
    let card = google.object("loyaltyObject", &card_id).unwrap();
    assert_eq!(discovery.validate("LoyaltyObject", &card), Vec::<String>::new());

    // Redeemed: COMPLETED (it stays linked: Google cannot unlink).
    let (status, out) =
        send(&app, None, Method::POST, "/api/v1/offers/redeem", Some(json!({"code": code, "store_id": "paris-01"})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let completed = async || google.object("offerObject", &object_id).is_some_and(|o| o["state"] == "COMPLETED");
    eventually("the used offer object is COMPLETED", completed).await;
    let card: Value = google.object("loyaltyObject", &card_id).unwrap();
    assert_eq!(card["linkedOfferIds"], json!([object_id]));
}

on_both_backends!(offers_are_google_offer_objects_linked_to_the_loyalty_card);
