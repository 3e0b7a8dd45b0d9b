//! The HTTP server itself: liveness and clear errors.

use crate::helpers::{spawn_app, test_config};

async_test!(healthz_answers);
async fn healthz_answers() {
    let app = spawn_app(test_config()).await;
    let resp = reqwest::get(format!("{}/healthz", app.base_url)).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), r#"{"status":"ok"}"#);
}

async_test!(unknown_template_is_a_json_404);
async fn unknown_template_is_a_json_404() {
    let app = spawn_app(test_config()).await;
    let resp = reqwest::get(format!("{}/demo/passes/nope", app.base_url)).await.unwrap();
    assert_eq!(resp.status(), 404);
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].as_str().unwrap().contains("nope"));
}

async_test!(a_configured_public_url_becomes_the_web_service_url);
async fn a_configured_public_url_becomes_the_web_service_url() {
    let mut config = test_config();
    config.http.public_url = Some("https://passes.example.com/".into());
    config.http.secret_key = Some(passerelle::secret::Secret::new("k".repeat(40)));
    let app = spawn_app(config).await;
    assert_eq!(app.public_url, "https://passes.example.com");
    let pkpass = crate::pkpass::fetch_demo(&app.base_url, "loyalty").await;
    let pass = crate::helpers::unpack(&pkpass).json("pass.json");
    assert_eq!(pass["webServiceURL"], "https://passes.example.com");
}

async_test!(unknown_routes_and_bad_queries_answer_json);
async fn unknown_routes_and_bad_queries_answer_json() {
    let app = spawn_app(test_config()).await;
    let resp = reqwest::get(format!("{}/nowhere", app.base_url)).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["error"]["code"], "not_found");
    let resp = app.api(reqwest::Method::GET, "/api/v1/passes?limit=many").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["error"]["code"], "bad_request");
}
