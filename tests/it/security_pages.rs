//! What a hostile client tries on the public surface: every HTML page carries the security
//! headers; one pass cannot hold unbounded devices; the device log is rate-limited per IP;
//! every error, even a path or body the framework refuses, is the JSON error shape; and an
//! unreachable mail server is a clear 503, not a 500.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::enrollment::{browser, flyer};
use crate::helpers::{Backend, spawn_app, spawn_app_on, test_config};
use crate::web_service::{Held, add_to_wallet, register};

fn assert_page_headers(resp: &Response, what: &str) {
    let h = resp.headers();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"), "{what}: an HTML page");
    let csp = h.get("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP")).to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{what}: {csp}");
    assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{what}");
    assert_eq!(h.get("referrer-policy").map(|v| v.to_str().unwrap()), Some("no-referrer"), "{what}");
}

async_test!(every_html_page_has_the_security_headers);
async fn every_html_page_has_the_security_headers() {
    let app = spawn_app(test_config()).await;
    let code = flyer(&app).await;
    let pass = app.create_pass("loyalty", crate::helpers::example("loyalty")).await;
    let pass_page = pass["pass_page_url"].as_str().unwrap().to_owned();
    let unknown = "0123456789abcdef0123456789abcdef";
    let client = browser();
    let gets = [
        format!("/join/{code}"),
        "/join/zzzzzzzz".into(),
        format!("/me/{unknown}"),
        format!("/me/{unknown}/receipts/rcp_1"),
        format!("/verify/{unknown}"),
        format!("/consent/{unknown}"),
        format!("/merge/{unknown}"),
    ];
    for path in gets {
        let resp = client.get(app.url(&path)).send().await.unwrap();
        assert_page_headers(&resp, &path);
    }
    assert_page_headers(&client.get(&pass_page).send().await.unwrap(), "/p/{token}");
    for path in [format!("/join/{code}"), format!("/consent/{unknown}"), format!("/merge/{unknown}")] {
        let resp = client.post(app.url(&path)).form(&[("first_name", "x")]).send().await.unwrap();
        assert_page_headers(&resp, &format!("POST {path}"));
    }
}

async fn registrations_per_pass_are_capped(backend: Backend) {
    let mut config = test_config();
    config.http.max_devices_per_pass = 3;
    let app = spawn_app_on(backend, config).await;
    let held: Held = add_to_wallet(&app).await;
    let device = |i: usize| format!("{i:0>32}");
    let holds = async |i: usize| app.client.get(held.serials(&device(i), None)).send().await.unwrap().status();
    for i in 0..6 {
        assert_eq!(register(&app, &held, &device(i)).await, 201, "device {i} always gets in");
        // Registrations a few milliseconds apart, so "registered longest ago" is unambiguous.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for i in 0..3 {
        assert_eq!(holds(i).await, StatusCode::NO_CONTENT, "device {i}, among the oldest, was dropped");
    }
    for i in 3..6 {
        assert_eq!(holds(i).await, StatusCode::OK, "device {i} holds the pass");
    }
    // A dropped real device that registers again gets in, and the oldest left goes.
    assert_eq!(register(&app, &held, &device(0)).await, 201);
    assert_eq!(holds(0).await, StatusCode::OK);
    assert_eq!(holds(3).await, StatusCode::NO_CONTENT);
    assert_eq!(holds(5).await, StatusCode::OK);
}

on_both_backends!(registrations_per_pass_are_capped);

async_test!(device_log_is_rate_limited_per_ip);
async fn device_log_is_rate_limited_per_ip() {
    let mut config = test_config();
    config.http.log_rate_per_min = 3;
    let app = spawn_app(config).await;
    let post = |body: Value| app.client.post(app.url("/v1/log")).json(&body).send();
    assert_eq!(post(json!({"logs": ["one"]})).await.unwrap().status(), 200);
    assert_eq!(post(json!({"nonsense": 1})).await.unwrap().status(), 400, "a bad body counts too");
    assert_eq!(post(json!({"logs": ["three"]})).await.unwrap().status(), 200);
    let refused = post(json!({"logs": ["four"]})).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
}

async fn assert_json_error(resp: Response, status: u16, what: &str) {
    assert_eq!(resp.status().as_u16(), status, "{what}");
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "{what}: {content_type}");
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string(), "{what}: {body}");
}

async_test!(refused_paths_queries_and_bodies_answer_json);
async fn refused_paths_queries_and_bodies_answer_json() {
    let mut config = test_config();
    config.http.max_body_bytes = 1024;
    let app = spawn_app(config).await;
    let resp = app.api(Method::POST, "/api/v1/push/dead/abc/retry").send().await.unwrap();
    assert_json_error(resp, 400, "a job id that is not a number").await;
    let resp = app.api(Method::POST, "/api/v1/jobs/dead/99999999999999999999999/retry").send().await.unwrap();
    assert_json_error(resp, 400, "a job id out of range").await;
    let resp = app.api(Method::GET, "/api/v1/members/%FF%FE").send().await.unwrap();
    assert_json_error(resp, 400, "a path that is not UTF-8").await;
    let resp = app.api(Method::GET, "/api/v1/passes?limit=many").send().await.unwrap();
    assert_json_error(resp, 400, "a query that does not parse").await;
    let resp = app.client.post(app.url("/google/callback")).body(vec![b'x'; 4096]).send().await.unwrap();
    assert_json_error(resp, 413, "an oversized Google callback").await;
    let resp = app.api(Method::POST, "/api/v1/members").body("{").header("content-type", "application/json").send();
    assert_json_error(resp.await.unwrap(), 400, "a body that is not JSON").await;
}

async_test!(verify_email_with_the_mail_server_down_is_queued_and_retried);
async fn verify_email_with_the_mail_server_down_is_queued_and_retried() {
    use sqlx::Connection;
    // A port nothing listens on: connections are refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = test_config();
    config.mail.smtp_url = Some(passerelle::secret::Secret::new(format!("smtp://127.0.0.1:{closed}")));
    let app = spawn_app(config).await;
    let created = app.api(Method::POST, "/api/v1/members").json(&json!({"first_name": "M", "email": "m@example.fr"}));
    let member: Value = created.send().await.unwrap().json().await.unwrap();
    let path = format!("/api/v1/members/{}/verify-email", member["id"].as_str().unwrap());
    let resp = app.api(Method::POST, &path).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["sent_to"], "m@example.fr");
    // The mail waits in the queue, its failures recorded, to be retried (never a link in it).
    let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
    let sql = "SELECT attempts, last_error, payload FROM jobs WHERE kind = 'mail' AND state = 'pending'";
    crate::push::eventually("a failed attempt is recorded", async || {
        let row: Option<(i64, Option<String>, String)> = sqlx::query_as(sql).fetch_optional(&mut conn).await.unwrap();
        row.is_some_and(|(attempts, error, payload)| {
            assert!(!payload.contains("/verify/"), "{payload}");
            attempts >= 1 && error.is_some_and(|e| e.contains("mail server"))
        })
    })
    .await;
}
