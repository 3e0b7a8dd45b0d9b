//! Store keys and HQ approval, on SQLite and PostgreSQL: what a store's key may and may not
//! reach, a store campaign waiting for HQ, approval, rejection with a reason, cancellation and
//! the audit history of who did what.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaigns::{
    add_store, create_campaign, get, member, no_quiet_hours, ok_json, on_iphone, stats, store_of, wait_sent,
};
use crate::helpers::{Backend, TestApp, run, spawn_app_on};
use crate::push::{mock, push_config, token};

pub async fn new_key(app: &TestApp, body: Value) -> (String, Value) {
    let created =
        ok_json(app.api(Method::POST, "/api/v1/keys").json(&body).send().await.unwrap(), StatusCode::CREATED).await;
    (created["key"].as_str().unwrap().to_owned(), created)
}

async fn store_keys_need_hq_approval_and_stay_in_their_store(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, no_quiet_hours(push_config(&apns))).await;
    let store = store_of(&app).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let (paris_member, paris_serial) = member(&app, Some("paris-01"), 400, true, "fr", json!({})).await;
    let (_, quiet_parisian) = member(&app, Some("paris-01"), 400, false, "fr", json!({})).await;
    let (lyon_member, lyon_serial) = member(&app, Some("lyon-02"), 400, true, "fr", json!({})).await;
    on_iphone(&app, store.as_ref(), &paris_serial, "device-paris", &token(1)).await;
    on_iphone(&app, store.as_ref(), &lyon_serial, "device-lyon", &token(2)).await;

    // HQ makes a key for the Paris store's manager; the secret is shown once, with its role.
    let (paris, created) = new_key(&app, json!({"role": "store_manager", "store_id": "paris-01"})).await;
    assert_eq!((created["role"].as_str(), created["store_id"].as_str()), (Some("store_manager"), Some("paris-01")));
    let status = new_key_status(&app, json!({"role": "store_manager", "store_id": "nowhere"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a key for an unknown store");
    let status = new_key_status(&app, json!({"role": "store_manager"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a store role without its store");
    let resp = app
        .client
        .post(app.url("/api/v1/keys"))
        .bearer_auth(&paris)
        .json(&json!({"role": "hq_admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "a store key makes no keys");
    assert_eq!(get(&app, &paris, "/api/v1/passes").await.status(), StatusCode::FORBIDDEN, "nor reads the pass API");

    // A till with the Paris key may still credit a Lyon member who shops in Paris.
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/members/{lyon_member}/points")))
        .bearer_auth(&paris)
        .json(&json!({"delta": 10, "reason": "purchase in Paris", "store_id": "paris-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // It can target neither another store nor everyone.
    let message = json!({"fr": "Dégustation samedi à Paris"});
    for (scope, segment) in [("store:lyon-02", "points >= 0"), ("hq", "points >= 0")] {
        let body = json!({"name": "x", "segment": segment, "message": message, "scope": scope});
        assert_eq!(create_campaign(&app, &paris, body).await.status(), StatusCode::FORBIDDEN, "{scope}");
    }
    let body = json!({"name": "x", "segment": r#"store = "lyon-02""#, "message": message});
    let err = ok_json(create_campaign(&app, &paris, body).await, StatusCode::FORBIDDEN).await;
    assert!(err["error"]["message"].as_str().unwrap().contains("lyon-02"), "{err}");
    let resp = app
        .client
        .post(app.url("/api/v1/segments/preview"))
        .bearer_auth(&paris)
        .json(&json!({"segment": "points >= 0"}))
        .send()
        .await
        .unwrap();
    let counts = ok_json(resp, StatusCode::OK).await;
    assert_eq!(counts["members"], 1, "a store previews its own consenting members only: {counts}");

    // Its own campaign waits for HQ.
    let body = json!({"name": "Tasting", "segment": "points >= 300", "message": message});
    let created = ok_json(create_campaign(&app, &paris, body).await, StatusCode::CREATED).await;
    assert_eq!(
        (created["status"].as_str(), created["scope"].as_str()),
        (Some("pending_approval"), Some("store:paris-01"))
    );
    let id = created["id"].as_str().unwrap().to_owned();
    // A campaign HQ makes afterwards (to nobody) goes out: the worker has looked at the waiting one since.
    let marker = json!({"name": "Marker", "segment": "points >= 1000000", "message": {"fr": "Rien"}});
    let marker = ok_json(create_campaign(&app, crate::helpers::ADMIN, marker).await, StatusCode::CREATED).await;
    wait_sent(&app, marker["id"].as_str().unwrap()).await;
    assert_eq!(stats(&app, &id).await["targeted"], 0, "nothing goes out before approval");
    let approve = |key: String| {
        let url = app.url(&format!("/api/v1/campaigns/{id}/approve"));
        let client = app.client.clone();
        async move { client.post(url).bearer_auth(key).send().await.unwrap() }
    };
    assert_eq!(approve(paris.clone()).await.status(), StatusCode::FORBIDDEN, "a store cannot approve itself");
    let reject =
        app.api(Method::POST, &format!("/api/v1/campaigns/{id}/reject")).json(&json!({})).send().await.unwrap();
    assert_eq!(ok_json(reject, StatusCode::UNPROCESSABLE_ENTITY).await["error"]["field"], "reason");
    let approved = ok_json(approve(crate::helpers::ADMIN.into()).await, StatusCode::OK).await;
    assert_eq!(approved["status"], "approved");
    let s = wait_sent(&app, &id).await;
    assert_eq!((s["targeted"].as_i64(), s["sent"].as_i64()), (Some(1), Some(1)), "only the consenting Parisian: {s}");
    assert_eq!(store.pass(&paris_serial).await.unwrap().unwrap().data["offer"], "Dégustation samedi à Paris");
    assert!(store.pass(&lyon_serial).await.unwrap().unwrap().data.get("offer").is_none());
    assert!(store.pass(&quiet_parisian).await.unwrap().unwrap().data.get("offer").is_none());
    let again = approve(crate::helpers::ADMIN.into()).await;
    assert_eq!(ok_json(again, StatusCode::CONFLICT).await["error"]["message"], format!("campaign {id} is sent"));

    // Who did what, when.
    let history = ok_json(get(&app, &paris, &format!("/api/v1/campaigns/{id}/history")).await, StatusCode::OK).await;
    let items = history["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["created", "approved", "sending", "sent"]);
    let paris_key_id = created["created_by"].as_str().unwrap();
    assert!(items[0]["actor"].as_str().unwrap().starts_with(paris_key_id), "{}", items[0]);
    assert!(items[1]["actor"].as_str().unwrap().starts_with("admin-token"), "{}", items[1]);
    assert!(items.iter().all(|e| e["at"].as_str().is_some_and(|t| t.ends_with('Z'))));
    assert_eq!(items[3]["detail"], json!({"sent": 1}));

    // Rejected with a reason, recorded; HQ campaigns stay out of the store's sight.
    let body = json!({"name": "Second", "segment": "points >= 0", "message": message});
    let second = ok_json(create_campaign(&app, &paris, body).await, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .api(Method::POST, &format!("/api/v1/campaigns/{second}/reject"))
        .json(&json!({"reason": "clashes with the national sale"}))
        .send()
        .await
        .unwrap();
    let rejected = ok_json(resp, StatusCode::OK).await;
    assert_eq!(
        (rejected["status"].as_str(), rejected["reject_reason"].as_str()),
        (Some("rejected"), Some("clashes with the national sale"))
    );
    let history =
        ok_json(get(&app, &paris, &format!("/api/v1/campaigns/{second}/history")).await, StatusCode::OK).await;
    assert_eq!(history["items"][1]["detail"]["reason"], "clashes with the national sale");
    let body = json!({"name": "National", "segment": "points >= 0", "message": {"fr": "Soldes"}, "send_at": "2099-01-01T09:00:00Z"});
    let unknown = json!({"name": "x", "segment": "points >= 0", "message": {"fr": "x"}, "scope": "store:nowhere"});
    let err =
        ok_json(create_campaign(&app, crate::helpers::ADMIN, unknown).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(err["error"]["field"], "scope");
    let national = ok_json(create_campaign(&app, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another store's (or HQ's) campaign is not there for a store: 404, nothing revealed.
    assert_eq!(get(&app, &paris, &format!("/api/v1/campaigns/{national}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &paris, &format!("/api/v1/campaigns/{national}/stats")).await.status(), StatusCode::NOT_FOUND);
    let cancel = |key: String| {
        let url = app.url(&format!("/api/v1/campaigns/{national}/cancel"));
        let client = app.client.clone();
        async move { client.post(url).bearer_auth(key).send().await.unwrap() }
    };
    assert_eq!(cancel(paris.clone()).await.status(), StatusCode::NOT_FOUND, "not the store's campaign");
    assert_eq!(ok_json(cancel(crate::helpers::ADMIN.into()).await, StatusCode::OK).await["status"], "cancelled");
    assert_eq!(cancel(crate::helpers::ADMIN.into()).await.status(), StatusCode::CONFLICT);
    let listed = ok_json(get(&app, &paris, "/api/v1/campaigns").await, StatusCode::OK).await;
    let ids: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.as_str(), id.as_str()], "a store lists its own campaigns, newest first");
    let _ = paris_member;

    // The CLI makes store keys too: a till's by default, a manager's when asked.
    let (ok, out) = run(std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["keys", "create", "--store", "lyon-02"])
        .env("PASSERELLE_DATABASE_URL", &app.database_url));
    assert!(ok && out.contains("role: store\nstore: lyon-02"), "{out}");
    let (ok, out) = run(std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["keys", "create", "--role", "store_manager", "--store", "lyon-02"])
        .env("PASSERELLE_DATABASE_URL", &app.database_url));
    assert!(ok && out.contains("role: store_manager\nstore: lyon-02"), "{out}");
    let (ok, out) = run(std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["keys", "create", "--role", "store_manager"])
        .env("PASSERELLE_DATABASE_URL", &app.database_url));
    assert!(!ok && out.contains("store_id"), "{out}");
}

async fn new_key_status(app: &TestApp, body: Value) -> StatusCode {
    app.api(Method::POST, "/api/v1/keys").json(&body).send().await.unwrap().status()
}

on_both_backends!(store_keys_need_hq_approval_and_stay_in_their_store);
