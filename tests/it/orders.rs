//! Click & collect orders through the admin API, on SQLite and PostgreSQL: the reservation pass
//! (valid, located at the pickup store, pickup start as relevant date), placed → ready →
//! collected with a push to the phone after "ready", refused moves (409), voided passes once
//! the order is over, the expiry sweep, and field errors.

use std::collections::HashSet;

use passerelle::store::{OrderRecord, StoreError};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, assert_only_passes, assert_valid_pass, new_pass, open_store, spawn_app_on, test_config,
};
use crate::push::{eventually, mock, push_config, register_as, token};
use crate::web_service::Held;

const DEVICE: &str = "5a4b3c2d1e0f96877869a5b4c3d2e1f0";

async fn error_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    (status, resp.json::<Value>().await.unwrap()["error"].clone())
}

async fn add_store(app: &TestApp) {
    let r = app
        .api(Method::POST, "/api/v1/stores")
        .json(&json!({
            "id": "lyon-01", "name": "Maison Lumière Lyon", "address": "17 rue du Docteur Bouchut, 69003 Lyon",
            "latitude": 45.7609, "longitude": 4.859, "timezone": "Europe/Paris"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

fn order_body(number: &str, from: &str, until: &str) -> Value {
    json!({
        "order_number": number,
        "store_id": "lyon-01",
        "customer": {"name": "Camille Durand", "email": "camille@example.fr"},
        "items": [{"label": "Linen lampshade", "quantity": 1}, {"label": "Scented candle", "quantity": 2}],
        "pickup": {"from": from, "until": until},
    })
}

async fn post_order(app: &TestApp, body: &Value) -> reqwest::Response {
    app.api(Method::POST, "/api/v1/orders").json(body).send().await.unwrap()
}

async fn place(app: &TestApp, number: &str) -> Value {
    let resp = post_order(app, &order_body(number, "2099-11-24T10:00:00+01:00", "2099-11-24T19:00:00+01:00")).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn set_status(app: &TestApp, number: &str, status: &str) -> reqwest::Response {
    app.api(Method::POST, &format!("/api/v1/orders/{number}/status"))
        .json(&json!({"status": status}))
        .send()
        .await
        .unwrap()
}

async fn get_order(app: &TestApp, number: &str) -> Value {
    let r = app.api(Method::GET, &format!("/api/v1/orders/{number}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Downloads the order's pass like Wallet; returns what the phone knows and the pass.json.
async fn add_to_wallet(app: &TestApp, order: &Value) -> (Held, Value) {
    let resp = app.client.get(order["pass"]["apple_pass_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let pass = assert_valid_pass(&resp.bytes().await.unwrap()).json("pass.json");
    let held = Held {
        serial: pass["serialNumber"].as_str().unwrap().into(),
        token: pass["authenticationToken"].as_str().unwrap().into(),
        pass_type: pass["passTypeIdentifier"].as_str().unwrap().into(),
        web_service_url: pass["webServiceURL"].as_str().unwrap().into(),
    };
    (held, pass)
}

/// The latest pass.json, as the phone fetches it after a push.
async fn latest(app: &TestApp, held: &Held) -> Value {
    let resp = app
        .client
        .get(held.latest())
        .header("Authorization", format!("ApplePass {}", held.token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_valid_pass(&resp.bytes().await.unwrap()).json("pass.json")
}

fn status_field(pass: &Value) -> Value {
    pass["eventTicket"]["headerFields"].as_array().unwrap().iter().find(|f| f["key"] == "status").unwrap().clone()
}

async fn placed_ready_collected(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, push_config(&apns)).await;
    add_store(&app).await;
    let order = place(&app, "CC-1001").await;
    assert_eq!(order["order_number"], "CC-1001");
    assert_eq!(order["status"], "placed");
    for key in ["serial_number", "apple_pass_url", "pass_page_url"] {
        assert!(order["pass"][key].is_string(), "{key} in {order}");
    }

    let (held, pass) = add_to_wallet(&app, &order).await;
    assert_eq!(held.serial, order["pass"]["serial_number"]);
    assert_eq!(status_field(&pass)["value"], "Preparing");
    assert_eq!(pass["locations"][0]["latitude"], 45.7609);
    assert_eq!(pass["locations"][0]["longitude"], 4.859);
    assert_eq!(pass["relevantDate"], "2099-11-24T10:00:00+01:00");
    assert_eq!(pass["barcodes"][0]["message"], "CC-1001");
    assert!(pass.get("voided").is_none_or(|v| v == false), "{pass}");

    register_as(&app, &held, DEVICE, &token(11)).await;
    let r = set_status(&app, "CC-1001", "ready").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ready");
    eventually("the device is pushed", async || apns.received_count() >= 1).await;
    let tokens: HashSet<String> = apns.received().into_iter().map(|r| r.token).collect();
    assert_eq!(tokens, HashSet::from([token(11)]));

    let serials = app
        .client
        .get(held.serials(DEVICE, None))
        .header("Authorization", format!("ApplePass {}", held.token))
        .send()
        .await
        .unwrap();
    assert_eq!(serials.status(), 200);
    assert_eq!(serials.json::<Value>().await.unwrap()["serialNumbers"], json!([held.serial]));
    let ready = latest(&app, &held).await;
    let field = status_field(&ready);
    assert_eq!(field["value"], "Ready for pickup at Maison Lumière Lyon");
    assert_eq!(field["changeMessage"], "%@");

    let (status, err) = error_of(set_status(&app, "CC-1001", "placed").await).await;
    assert_eq!(status, 409, "ready → placed is refused");
    assert!(err["message"].as_str().unwrap().contains("ready"), "names the current status: {err}");

    let r = set_status(&app, "CC-1001", "collected").await;
    assert_eq!(r.status(), 200);
    assert_eq!(get_order(&app, "CC-1001").await["status"], "collected");
    let collected = latest(&app, &held).await;
    assert_eq!(collected["voided"], true);
    assert_eq!(status_field(&collected)["value"], "Collected");
    let (status, _) = error_of(set_status(&app, "CC-1001", "cancelled").await).await;
    assert_eq!(status, 409, "a collected order is over");
}

async fn cancel_voids_and_refused_moves(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app).await;
    let order = place(&app, "CC-2001").await;
    let (status, err) = error_of(set_status(&app, "CC-2001", "collected").await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (409, Some("status")), "placed → collected skips ready");
    assert!(err["message"].as_str().unwrap().contains("placed"), "{err}");
    let r = set_status(&app, "CC-2001", "cancelled").await;
    assert_eq!(r.status(), 200);
    let (held, pass) = add_to_wallet(&app, &order).await;
    assert_eq!(pass["voided"], true);
    assert_eq!(held.serial, order["pass"]["serial_number"]);
    let (status, _) = error_of(set_status(&app, "CC-2001", "ready").await).await;
    assert_eq!(status, 409);
    let (status, err) = error_of(set_status(&app, "CC-2001", "shipped").await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("status")));
    let (status, _) = error_of(set_status(&app, "CC-404", "ready").await).await;
    assert_eq!(status, 404);
}

async fn orders_past_their_window_expire(backend: Backend) {
    let mut config = test_config();
    // The server's own sweep stays out of the way: this test runs the sweep itself.
    config.orders.expiry_interval_secs = 3_600;
    let app = spawn_app_on(backend, config).await;
    add_store(&app).await;
    let past = post_order(&app, &order_body("CC-3001", "2020-01-01T10:00:00+01:00", "2020-01-01T19:00:00+01:00")).await;
    assert_eq!(past.status(), 201);
    let past: Value = past.json().await.unwrap();
    let ready = post_order(&app, &order_body("CC-3002", "2020-01-02T10:00:00Z", "2020-01-02T19:00:00Z")).await;
    assert_eq!(ready.status(), 201);
    assert_eq!(set_status(&app, "CC-3002", "ready").await.status(), 200);
    place(&app, "CC-3003").await;

    let mut config = test_config();
    config.database.url = passerelle::secret::Secret::new(app.database_url.clone());
    let store = passerelle::app::open_store(&config).await.unwrap();
    let (templates, _) = passerelle::app::load_passes(&config).unwrap();
    let now = passerelle::store::now_ms();
    assert_eq!(passerelle::orders::expire_due_in(store.as_ref(), &templates, now).await.unwrap(), 2);
    assert_eq!(passerelle::orders::expire_due_in(store.as_ref(), &templates, now).await.unwrap(), 0);

    assert_eq!(get_order(&app, "CC-3001").await["status"], "expired");
    assert_eq!(get_order(&app, "CC-3002").await["status"], "expired");
    assert_eq!(get_order(&app, "CC-3003").await["status"], "placed", "its window is still to come");
    let (_, pass) = add_to_wallet(&app, &past).await;
    assert_eq!(pass["voided"], true);
    assert_eq!(status_field(&pass)["value"], "Expired");
    let (status, _) = error_of(set_status(&app, "CC-3001", "collected").await).await;
    assert_eq!(status, 409, "an expired order is over");
}

async fn the_server_sweeps_by_itself(backend: Backend) {
    let mut config = test_config();
    config.orders.expiry_interval_secs = 1;
    let app = spawn_app_on(backend, config).await;
    add_store(&app).await;
    let past = post_order(&app, &order_body("CC-5001", "2020-01-01T10:00:00Z", "2020-01-01T19:00:00Z")).await;
    assert_eq!(past.status(), 201);
    eventually("the background sweep expires the order", async || {
        get_order(&app, "CC-5001").await["status"] == "expired"
    })
    .await;
}

async fn refused_orders(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app).await;
    let (from, until) = ("2099-11-24T10:00:00+01:00", "2099-11-24T19:00:00+01:00");
    let mut unknown_store = order_body("CC-4001", from, until);
    unknown_store["store_id"] = json!("nowhere");
    let (status, err) = error_of(post_order(&app, &unknown_store).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("store_id")));
    let (status, err) = error_of(post_order(&app, &order_body("CC-4001", until, from)).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("pickup.until")));
    let (status, err) = error_of(post_order(&app, &order_body("CC-4001", "tomorrow", until)).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("pickup.from")));
    let mut nameless = order_body("CC-4001", from, until);
    nameless["customer"] = json!({"email": "a@example.fr"});
    let (status, err) = error_of(post_order(&app, &nameless).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("customer.name")));
    let mut bad_number = order_body("CC 4001/x", from, until);
    bad_number["items"] = json!([{"label": "x", "quantity": 1}]);
    let (status, err) = error_of(post_order(&app, &bad_number).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("order_number")));

    place(&app, "CC-4001").await;
    let (status, err) = error_of(post_order(&app, &order_body("CC-4001", from, until)).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (409, Some("order_number")));
    let order = get_order(&app, "CC-4001").await;
    assert_eq!(order["status"], "placed");
    assert_eq!(order["customer"]["name"], "Camille Durand");
    assert_eq!(order["items"][1], json!({"label": "Scented candle", "quantity": 2}));
    assert_eq!(order["pickup"]["from"], "2099-11-24T09:00:00Z");
}

/// An order and its pass are stored in one transaction: an order whose number is taken (as when
/// two order systems place it at once, past the API's check) leaves no pass, no voided pass and
/// no Google sync behind.
async fn a_taken_order_number_leaves_no_pass(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&backend, dir.path()).await;
    let order = |serial: &str| OrderRecord {
        order_number: "CC-1001".into(),
        store_id: "paris-01".into(),
        customer: json!({"name": "Ada"}),
        items: json!([{"label": "Bread", "quantity": 1}]),
        pickup_from: 1_700_000_000_000,
        pickup_until: 1_700_003_600_000,
        status: "placed".into(),
        pass_serial: Some(serial.into()),
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_000_000,
    };
    let (stored, pass) = store.insert_order(&order("PASS-1"), new_pass("click-and-collect", "PASS-1")).await.unwrap();
    assert_eq!((stored, pass.serial_number.as_str()), (order("PASS-1"), "PASS-1"));
    let result = store.insert_order(&order("PASS-2"), new_pass("click-and-collect", "PASS-2")).await;
    assert!(matches!(result, Err(StoreError::Conflict { field: "order_number", .. })), "{result:?}");
    assert_eq!(store.order("CC-1001").await.unwrap().unwrap().pass_serial.as_deref(), Some("PASS-1"));
    assert_only_passes(store.as_ref(), &["PASS-1"]).await;
}

on_both_backends!(
    a_taken_order_number_leaves_no_pass,
    placed_ready_collected,
    cancel_voids_and_refused_moves,
    orders_past_their_window_expire,
    the_server_sweeps_by_itself,
    refused_orders
);
