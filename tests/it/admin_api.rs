//! The admin API: pass creation, listing, changes, voiding, API keys, public pass links.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN, Backend, assert_valid_pass, example, spawn_app_on, test_config, unpack};

async fn error_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    (status, resp.json::<Value>().await.unwrap()["error"].clone())
}

async fn create_and_read(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let created = app
        .api(Method::POST, "/api/v1/passes")
        .json(&json!({"template": "loyalty", "data": example("loyalty"), "serial_number": "CARD-0001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["serial_number"], "CARD-0001");
    assert_eq!(created["pass_type_identifier"], "pass.com.passerelle.demo");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    let url = created["apple_pass_url"].as_str().unwrap();
    assert!(url.starts_with(&app.public_url) && !url.contains("CARD-0001"), "unguessable: {url}");

    // The download needs no API key and is not cached.
    let resp = app.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert!(resp.headers()["content-disposition"].to_str().unwrap().contains(".pkpass"));
    let pass = assert_valid_pass(&resp.bytes().await.unwrap()).json("pass.json");
    assert_eq!(pass["serialNumber"], "CARD-0001");

    // The page for browsers links to the same file.
    let page = app.client.get(created["pass_page_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    // minijinja escapes '/' in attributes; browsers read it back.
    let html = page.text().await.unwrap().replace("&#x2f;", "/");
    assert!(html.contains("Add to Apple Wallet") && html.contains(url), "{html}");
    let fr = app
        .client
        .get(created["pass_page_url"].as_str().unwrap())
        .header("Accept-Language", "fr-FR,fr;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(fr.text().await.unwrap().contains("Ajouter à Apple Wallet"));
    assert_eq!(app.client.get(app.url("/p/0123456789abcdef0123456789abcdef")).send().await.unwrap().status(), 404);

    let shown: Value = app.api(Method::GET, "/api/v1/passes/CARD-0001").send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["data"], example("loyalty"));
    assert_eq!(app.api(Method::GET, "/api/v1/passes/NOPE").send().await.unwrap().status(), 404);

    let (status, err) = error_of(
        app.api(Method::POST, "/api/v1/passes")
            .json(&json!({"template": "loyalty", "data": example("loyalty"), "serial_number": "CARD-0001"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (409, Some("serial_number")));
}

async fn bad_input_is_named(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let post = |body: Value| app.api(Method::POST, "/api/v1/passes").json(&body).send();

    let (status, err) = error_of(
        post(json!({"template": "loyalty", "data": {"card_number": "A", "member_name": "B", "points": "x"}}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(err["field"], "data.points");
    assert_eq!(err["message"], "data.points must be an integer, got a string");

    let (status, err) = error_of(post(json!({"template": "coupon", "data": {}})).await.unwrap()).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("template")));

    let (status, err) = error_of(
        post(json!({"template": "loyalty", "data": example("loyalty"), "serial_number": "has space"})).await.unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("serial_number")));

    let (status, _) = error_of(post(json!({"data": {}})).await.unwrap()).await;
    assert_eq!(status, 400, "template missing");

    let (status, err) = error_of(
        app.api(Method::PATCH, "/api/v1/passes/NOPE").json(&json!({"data": {"points": 1}})).send().await.unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), err["code"].as_str()), (404, Some("not_found")));

    let created = app.create_pass("loyalty", example("loyalty")).await;
    let serial = created["serial_number"].as_str().unwrap();
    let patch = |body: Value| app.api(Method::PATCH, &format!("/api/v1/passes/{serial}")).json(&body).send();
    let (status, err) = error_of(patch(json!({"data": {"card_number": null}})).await.unwrap()).await;
    assert_eq!(
        (status.as_u16(), err["field"].as_str()),
        (422, Some("data.card_number")),
        "a required field cannot be removed"
    );
    let (status, _) = error_of(patch(json!({})).await.unwrap()).await;
    assert_eq!(status, 400);
    // A message follows the campaigns' length rule (PASSERELLE_CAMPAIGN_MESSAGE_MAX_CHARS, 300).
    for message in ["x".repeat(200_000), "x".repeat(301), "   ".into()] {
        let (status, err) = error_of(patch(json!({"message": message})).await.unwrap()).await;
        assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("message")), "{} characters", message.len());
    }
    assert_eq!(patch(json!({"message": "x".repeat(40)})).await.unwrap().status(), 200);

    let receipt = app.create_pass("receipt", example("receipt")).await;
    let (status, err) = error_of(
        app.api(Method::PATCH, &format!("/api/v1/passes/{}", receipt["serial_number"].as_str().unwrap()))
            .json(&json!({"message": "hello"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("message")), "receipts have no offer field");

    let deleted = app.api(Method::DELETE, &format!("/api/v1/passes/{serial}")).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    let (status, _) = error_of(patch(json!({"data": {"points": 5}})).await.unwrap()).await;
    assert_eq!(status, 409, "a voided pass no longer changes");

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=zz", "cursor"),
        ("updated_since=yesterday", "updated_since"),
    ] {
        let (status, err) =
            error_of(app.api(Method::GET, &format!("/api/v1/passes?{query}")).send().await.unwrap()).await;
        assert_eq!((status.as_u16(), err["field"].as_str()), (400, Some(field)), "{query}");
    }
}

async fn list_paginates(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    for _ in 0..5 {
        app.create_pass("loyalty", example("loyalty")).await;
    }
    app.create_pass("receipt", example("receipt")).await;
    let mut serials = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/api/v1/passes?template=loyalty&limit=2&cursor={c}"),
            None => "/api/v1/passes?template=loyalty&limit=2".into(),
        };
        let page: Value = app.api(Method::GET, &q).send().await.unwrap().json().await.unwrap();
        for p in page["items"].as_array().unwrap() {
            assert_eq!(p["template"], "loyalty");
            serials.push(p["serial_number"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.into()),
            None => break,
        }
    }
    assert_eq!(serials.len(), 5);
    let mut sorted = serials.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, serials, "ordered, no duplicates across pages");

    let future: Value = app
        .api(Method::GET, "/api/v1/passes?updated_since=2999-01-01T00:00:00Z")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(future["items"], json!([]));
}

async fn api_keys(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    assert_eq!(app.client.get(app.url("/api/v1/passes")).send().await.unwrap().status(), 401, "no key");
    let r = app.client.get(app.url("/api/v1/passes")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(r.status(), 401);

    let created = app.api(Method::POST, "/api/v1/keys").json(&json!({"name": "till paris-01"})).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));

    let with_key = app.client.get(app.url("/api/v1/passes")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(with_key.status(), 200, "the new key works");

    let listed: Value = app.api(Method::GET, "/api/v1/keys").send().await.unwrap().json().await.unwrap();
    let text = listed.to_string();
    assert!(text.contains("till paris-01") && !text.contains(&key), "listed without its secret");
    assert!(listed["items"][0]["last_used_at"].is_string(), "last use is recorded");

    assert_eq!(app.api(Method::DELETE, &format!("/api/v1/keys/{id}")).send().await.unwrap().status(), 204);
    let revoked = app.client.get(app.url("/api/v1/passes")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(revoked.status(), 401, "a revoked key is refused");
    assert_eq!(app.api(Method::DELETE, &format!("/api/v1/keys/{id}")).send().await.unwrap().status(), 404);
    assert_ne!(ADMIN, key);
}

async fn last_modified_strictly_increases(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let held = crate::web_service::add_to_wallet(&app).await;
    let auth = format!("ApplePass {}", held.token);
    let mut previous = None;
    for points in 0..3 {
        let r = app
            .api(Method::PATCH, &format!("/api/v1/passes/{}", held.serial))
            .json(&json!({"data": {"points": points}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let mut req = app.client.get(held.latest()).header("Authorization", &auth);
        if let Some(p) = &previous {
            req = req.header("If-Modified-Since", p);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "three changes within a second are three new versions");
        let lm = resp.headers()["last-modified"].to_str().unwrap().to_owned();
        let pass = unpack(&resp.bytes().await.unwrap()).json("pass.json");
        assert_eq!(pass["storeCard"]["primaryFields"][0]["value"], points);
        previous = Some(lm);
    }
}

on_both_backends!(create_and_read, bad_input_is_named, list_paginates, api_keys, last_modified_strictly_increases);
