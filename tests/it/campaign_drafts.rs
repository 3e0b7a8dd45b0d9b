//! Campaign drafts, on SQLite and PostgreSQL: a draft never goes out until submitted, changes
//! while it is one (409 afterwards), goes out to exactly its segment once HQ submits it, waits
//! for approval when a store manager does; `?status=` filters the list.

use std::collections::BTreeSet;

use passerelle::store::JobKind;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::campaign_approval::new_key;
use crate::campaigns::{
    add_store, create_campaign, get, member, no_quiet_hours, ok_json, on_iphone, stats, store_of, wait_sent,
};
use crate::helpers::{ADMIN, Backend, TestApp, spawn_app_on, wait_until_drained};
use crate::push::{eventually, mock, push_config, token};

pub async fn send(app: &TestApp, key: &str, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

fn ids(list: &Value) -> Vec<&str> {
    list["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect()
}

pub fn actions(history: &Value) -> Vec<&str> {
    history["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect()
}

async fn a_draft_goes_out_only_once_submitted(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, no_quiet_hours(push_config(&apns))).await;
    let store = store_of(&app).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let (_, rich) = member(&app, Some("paris-01"), 400, true, "fr", json!({})).await;
    let (_, poor) = member(&app, Some("paris-01"), 100, true, "fr", json!({})).await;
    on_iphone(&app, store.as_ref(), &rich, "device-rich", &token(1)).await;
    on_iphone(&app, store.as_ref(), &poor, "device-poor", &token(2)).await;

    let body = json!({"draft": true, "name": "Draft", "segment": "points >= 0", "message": {"fr": "Soldes privées"}});
    let created = ok_json(create_campaign(&app, ADMIN, body).await, StatusCode::CREATED).await;
    assert_eq!(created["status"], "draft", "{created}");
    assert!(created["warnings"].is_array(), "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    // A campaign made afterwards (to nobody) goes out: the worker has looked at the draft since.
    let marker = json!({"name": "Marker", "segment": "points >= 1000000", "message": {"fr": "Rien"}});
    let marker = ok_json(create_campaign(&app, ADMIN, marker).await, StatusCode::CREATED).await;
    wait_sent(&app, marker["id"].as_str().unwrap()).await;
    let s = stats(&app, &id).await;
    assert_eq!((s["status"].as_str(), s["targeted"].as_i64()), (Some("draft"), Some(0)), "a draft is never sent: {s}");

    // Changed while a draft: the segment narrows to the rich holder.
    let path = format!("/api/v1/campaigns/{id}");
    let patch = json!({"name": "Private sale", "segment": "points >= 300"});
    let changed = ok_json(send(&app, ADMIN, Method::PATCH, &path, Some(patch)).await, StatusCode::OK).await;
    assert_eq!((changed["name"].as_str(), changed["segment"].as_str()), (Some("Private sale"), Some("points >= 300")));
    assert_eq!(changed["status"], "draft");
    let bad = send(&app, ADMIN, Method::PATCH, &path, Some(json!({"priority": "urgent"}))).await;
    assert_eq!(ok_json(bad, StatusCode::UNPROCESSABLE_ENTITY).await["error"]["field"], "priority");
    let listed = ok_json(get(&app, ADMIN, "/api/v1/campaigns?status=draft").await, StatusCode::OK).await;
    assert_eq!(ids(&listed), [id.as_str()], "{listed}");

    // Submitted by HQ: approved, and sent to exactly the segment.
    let pushes_before = apns.received_count();
    let submitted = send(&app, ADMIN, Method::POST, &format!("{path}/submit"), None).await;
    assert_eq!(ok_json(submitted, StatusCode::OK).await["status"], "approved");
    let s = wait_sent(&app, &id).await;
    assert_eq!((s["targeted"].as_i64(), s["sent"].as_i64()), (Some(1), Some(1)), "{s}");
    eventually("the iPhone is pushed", async || apns.received_count() > pushes_before).await;
    wait_until_drained(&app, JobKind::Push).await;
    let pushed: BTreeSet<String> = apns.received()[pushes_before..].iter().map(|r| r.token.clone()).collect();
    assert_eq!(pushed, BTreeSet::from([token(1)]), "only the rich holder's device");
    assert_eq!(store.pass(&rich).await.unwrap().unwrap().data["offer"], "Soldes privées");
    assert!(store.pass(&poor).await.unwrap().unwrap().data.get("offer").is_none());

    // No longer a draft: 409 naming the status.
    let late = send(&app, ADMIN, Method::PATCH, &path, Some(json!({"name": "Too late"}))).await;
    let err = ok_json(late, StatusCode::CONFLICT).await;
    assert_eq!(
        (err["error"]["field"].as_str(), err["error"]["message"].as_str()),
        (Some("status"), Some(format!("campaign {id} is sent, not a draft").as_str()))
    );
    assert_eq!(send(&app, ADMIN, Method::POST, &format!("{path}/submit"), None).await.status(), StatusCode::CONFLICT);
    let history = ok_json(get(&app, ADMIN, &format!("{path}/history")).await, StatusCode::OK).await;
    assert_eq!(actions(&history), ["created", "changed", "submitted", "sending", "sent"]);
    assert_eq!(history["items"][0]["detail"]["draft"], true);
    assert_eq!(history["items"][2]["detail"], json!({"status": "approved"}));

    // A store manager's draft: its store's managers and HQ see and change it, another store's
    // does not; submitted, it waits for HQ.
    let (paris, _) = new_key(&app, json!({"role": "store_manager", "store_id": "paris-01"})).await;
    let (lyon, _) = new_key(&app, json!({"role": "store_manager", "store_id": "lyon-02"})).await;
    let body = json!({"draft": true, "name": "Tasting", "segment": "points >= 0", "message": {"fr": "Dégustation"}});
    let local = ok_json(create_campaign(&app, &paris, body).await, StatusCode::CREATED).await;
    assert_eq!((local["status"].as_str(), local["scope"].as_str()), (Some("draft"), Some("store:paris-01")));
    let local_path = format!("/api/v1/campaigns/{}", local["id"].as_str().unwrap());
    let lyon_patch = send(&app, &lyon, Method::PATCH, &local_path, Some(json!({"name": "Mine"}))).await;
    assert_eq!(lyon_patch.status(), StatusCode::NOT_FOUND);
    let wider = send(&app, &paris, Method::PATCH, &local_path, Some(json!({"scope": "hq"}))).await;
    assert_eq!(wider.status(), StatusCode::FORBIDDEN);
    let hq_patch = send(&app, ADMIN, Method::PATCH, &local_path, Some(json!({"name": "Tasting on Saturday"}))).await;
    assert_eq!(ok_json(hq_patch, StatusCode::OK).await["name"], "Tasting on Saturday");
    let submitted = send(&app, &paris, Method::POST, &format!("{local_path}/submit"), None).await;
    assert_eq!(ok_json(submitted, StatusCode::OK).await["status"], "pending_approval");

    // The list filters by status; an unknown status is named.
    let waiting = ok_json(get(&app, ADMIN, "/api/v1/campaigns?status=pending_approval").await, StatusCode::OK).await;
    assert_eq!(ids(&waiting), [local["id"].as_str().unwrap()]);
    let sent = ok_json(get(&app, ADMIN, "/api/v1/campaigns?status=sent").await, StatusCode::OK).await;
    assert_eq!(ids(&sent), [marker["id"].as_str().unwrap(), id.as_str()], "newest made first");
    let drafts = ok_json(get(&app, ADMIN, "/api/v1/campaigns?status=draft").await, StatusCode::OK).await;
    assert!(ids(&drafts).is_empty(), "{drafts}");
    let err =
        ok_json(get(&app, ADMIN, "/api/v1/campaigns?status=paused").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(err["error"]["field"], "status", "{err}");
}

on_both_backends!(a_draft_goes_out_only_once_submitted);
