//! Points from the till and tiers, on SQLite and PostgreSQL: idempotent, never negative unless
//! allowed, no lost update under 50 parallel requests, tiers following points until set by
//! hand, and the pass the phone downloads afterwards.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app_on, test_config, unpack};
use crate::members::{error_of, field, get_member, patch, points, served_pass, sign_up};
use crate::web_service::{Held, register};

const DEVICE: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// A member holding their card on a registered iPhone; returns the member and the phone's view.
async fn member_on_a_phone(app: &TestApp) -> (Value, Held) {
    let member = sign_up(app, json!({"first_name": "Marie", "last_name": "Dupont", "email": "marie@example.fr"})).await;
    let pass = served_pass(app, &member).await;
    let held = Held {
        serial: pass["serialNumber"].as_str().unwrap().into(),
        token: pass["authenticationToken"].as_str().unwrap().into(),
        pass_type: pass["passTypeIdentifier"].as_str().unwrap().into(),
        web_service_url: pass["webServiceURL"].as_str().unwrap().into(),
    };
    assert_eq!(register(app, &held, DEVICE).await, 201);
    (member, held)
}

/// What the phone asks after a push: the serials changed since `tag` (None for 204) and the new tag.
async fn changed_since(app: &TestApp, held: &Held, tag: Option<&str>) -> Option<(Value, String)> {
    let resp = app.client.get(held.serials(DEVICE, tag)).send().await.unwrap();
    if resp.status() == 204 {
        return None;
    }
    let body: Value = resp.json().await.unwrap();
    let tag = body["lastUpdated"].as_str().unwrap().to_owned();
    Some((body["serialNumbers"].clone(), tag))
}

async fn points_are_idempotent_and_reach_the_phone(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let (member, held) = member_on_a_phone(&app).await;
    let id = member["id"].as_str().unwrap();
    let (_, tag) = changed_since(&app, &held, None).await.unwrap();

    let sale = json!({"delta": 120, "reason": "purchase", "store_id": "paris-01", "idempotency_key": "till-7-0001"});
    let resp = points(&app, id, sale.clone()).await;
    assert_eq!(resp.status(), 200);
    let first: Value = resp.json().await.unwrap();
    assert_eq!(
        (first["points"].as_i64(), first["tier"].as_str(), first["replayed"].as_bool()),
        (Some(120), Some("member"), Some(false))
    );
    assert_eq!(first["entry"]["store_id"], "paris-01");

    // The phone is told, and the pass it downloads carries the new balance.
    let (serials, tag) = changed_since(&app, &held, Some(&tag)).await.expect("the points change is listed");
    assert_eq!(serials, json!([held.serial]));
    let resp = app
        .client
        .get(held.latest())
        .header("Authorization", format!("ApplePass {}", held.token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let pass = unpack(&resp.bytes().await.unwrap()).json("pass.json");
    assert_eq!(field(&pass, "points"), 120);

    // The till retries: the same answer, nothing changes, nothing is pushed.
    let resp = points(&app, id, sale.clone()).await;
    assert_eq!(resp.status(), 200);
    let again: Value = resp.json().await.unwrap();
    assert_eq!(again["replayed"], true);
    assert_eq!((&again["entry"], &again["points"]), (&first["entry"], &first["points"]));
    assert!(changed_since(&app, &held, Some(&tag)).await.is_none(), "a replay changes no pass");
    assert_eq!(get_member(&app, id).await["points"], 120);

    let mut reused = sale.clone();
    reused["delta"] = json!(5);
    let (status, err) = error_of(points(&app, id, reused).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (409, Some("idempotency_key")));

    let (status, err) = error_of(points(&app, id, json!({"delta": -121, "idempotency_key": "refund-1"})).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("delta")), "{err}");
    let (status, err) = error_of(points(&app, id, json!({"reason": "gift"})).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("delta")));
    let resp = points(&app, id, json!({"delta": -120, "reason": "voucher", "idempotency_key": "redeem-1"})).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["points"], 0, "down to zero is fine");
    assert!(changed_since(&app, &held, Some(&tag)).await.is_some());
    assert_eq!(points(&app, "mem_nope", json!({"delta": 1})).await.status(), 404);

    let ledger: Value =
        app.api(Method::GET, &format!("/api/v1/members/{id}/points")).send().await.unwrap().json().await.unwrap();
    let deltas: Vec<i64> = ledger["items"].as_array().unwrap().iter().map(|e| e["delta"].as_i64().unwrap()).collect();
    assert_eq!(deltas, [-120, 120], "newest first; refused and replayed changes leave no row");
}

async fn negative_balances_when_allowed(backend: Backend) {
    let mut config = test_config();
    config.loyalty.points_allow_negative = true;
    let app = spawn_app_on(backend, config).await;
    let m = sign_up(&app, json!({"first_name": "Marie", "email": "marie@example.fr"})).await;
    let resp = points(&app, m["id"].as_str().unwrap(), json!({"delta": -30, "reason": "return"})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["points"], -30);
}

async fn parallel_points_lose_nothing(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let m = sign_up(&app, json!({"first_name": "Marie", "email": "marie@example.fr"})).await;
    let id = m["id"].as_str().unwrap().to_owned();
    let requests = (0..50).map(|i| {
        let (client, url) = (app.client.clone(), app.url(&format!("/api/v1/members/{id}/points")));
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(crate::helpers::ADMIN)
                .json(&json!({"delta": 1, "reason": "purchase", "idempotency_key": format!("sale-{i}")}))
                .send()
                .await
                .unwrap()
                .status()
        })
    });
    for status in futures_util::future::join_all(requests).await {
        assert_eq!(status.unwrap(), 200);
    }
    let member = get_member(&app, &id).await;
    assert_eq!(member["points"], 50, "no lost update");
    let ledger: Value = app
        .api(Method::GET, &format!("/api/v1/members/{id}/points?limit=500"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut balances: Vec<i64> =
        ledger["items"].as_array().unwrap().iter().map(|e| e["balance_after"].as_i64().unwrap()).collect();
    balances.sort();
    assert_eq!(balances, (1..=50).collect::<Vec<_>>(), "50 rows, each one point above the last");
    assert_eq!(field(&served_pass(&app, &member).await, "points"), 50, "the pass shows the last balance");

    // One sale retried ten times at once by a confused till: counted once.
    let retries = (0..10).map(|_| {
        let (client, url) = (app.client.clone(), app.url(&format!("/api/v1/members/{id}/points")));
        tokio::spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(crate::helpers::ADMIN)
                .json(&json!({"delta": 7, "idempotency_key": "sale-retried"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        })
    });
    let answers: Vec<Value> = futures_util::future::join_all(retries).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(answers.iter().filter(|a| a["replayed"] == false).count(), 1);
    assert!(answers.iter().all(|a| a["points"] == 57 && a["entry"] == answers[0]["entry"]));
    assert_eq!(get_member(&app, &id).await["points"], 57);
}

async fn tiers_follow_points_until_set_by_hand(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let m = sign_up(&app, json!({"first_name": "Marie", "last_name": "Dupont", "email": "marie@example.fr"})).await;
    let id = m["id"].as_str().unwrap();
    let body: Value = points(&app, id, json!({"delta": 299})).await.json().await.unwrap();
    assert_eq!(body["tier"], "member");
    let body: Value = points(&app, id, json!({"delta": 1})).await.json().await.unwrap();
    assert_eq!((body["points"].as_i64(), body["tier"].as_str()), (Some(300), Some("premium")));
    let pass = served_pass(&app, &m).await;
    assert_eq!((field(&pass, "points"), field(&pass, "tier")), (json!(300), json!("Premium")));

    let resp = patch(&app, id, json!({"tier": "gold", "first_name": "Marion", "email_verified": true})).await;
    assert_eq!(resp.status(), 200);
    let changed: Value = resp.json().await.unwrap();
    assert_eq!((changed["tier"].as_str(), changed["tier_manual"].as_bool()), (Some("gold"), Some(true)));
    assert_eq!(changed["email_verified"], true);
    let body: Value = points(&app, id, json!({"delta": -250})).await.json().await.unwrap();
    assert_eq!(body["tier"], "gold", "a tier set by hand wins over the rules");
    let pass = served_pass(&app, &m).await;
    assert_eq!(
        (field(&pass, "tier"), field(&pass, "member"), field(&pass, "points")),
        (json!("Gold"), json!("Marion D."), json!(50))
    );

    let cleared: Value = patch(&app, id, json!({"tier": null})).await.json().await.unwrap();
    assert_eq!((cleared["tier"].as_str(), cleared["tier_manual"].as_bool()), (Some("member"), Some(false)));
    assert_eq!(field(&served_pass(&app, &m).await, "tier"), "Member");

    let (status, err) = error_of(patch(&app, id, json!({"tier": "platinum"})).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("tier")));
    let moved: Value = patch(&app, id, json!({"email": "Marion@Example.fr"})).await.json().await.unwrap();
    assert_eq!((moved["email"].as_str(), moved["email_verified"].as_bool()), (Some("marion@example.fr"), Some(false)));
    let (status, _) = error_of(patch(&app, "mem_nope", json!({"tier": null})).await).await;
    assert_eq!(status, 404);
}

on_both_backends!(
    points_are_idempotent_and_reach_the_phone,
    negative_balances_when_allowed,
    parallel_points_lose_nothing,
    tiers_follow_points_until_set_by_hand,
);
