//! What operators see: who may read `/metrics` (on its own address, with a token, or from this
//! machine only), and `/readyz` staying ready through an APNs outage while reporting it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{repo, spawn_app, test_config};
use crate::push::{eventually, register_as, token};
use crate::web_service::add_to_wallet;

async fn metrics_status(request: reqwest::RequestBuilder) -> (StatusCode, String) {
    let resp = request.send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

async_test!(metrics_answer_only_local_unproxied_clients_by_default);
async fn metrics_answer_only_local_unproxied_clients_by_default() {
    let app = spawn_app(test_config()).await;
    let (status, body) = metrics_status(app.client.get(app.url("/metrics"))).await;
    assert_eq!(status, 200, "a scraper on this machine reads them");
    assert!(body.contains("passerelle_jobs_queue_depth"), "{body}");
    // Relayed by a reverse proxy on this machine: the client is somewhere else.
    for (name, value) in [("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9")] {
        let (status, body) = metrics_status(app.client.get(app.url("/metrics")).header(name, value)).await;
        assert_eq!(status, 404, "{name}: {body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], "not_found");
    }
}

async_test!(metrics_with_a_token_ask_for_it);
async fn metrics_with_a_token_ask_for_it() {
    let mut config = test_config();
    config.http.metrics_token = Some(passerelle::secret::Secret::new("scrape-token-0123"));
    let app = spawn_app(config).await;
    let get = || app.client.get(app.url("/metrics"));
    for request in [get(), get().bearer_auth("wrong-token-0123"), get().bearer_auth(crate::helpers::ADMIN)] {
        let (status, body) = metrics_status(request).await;
        assert_eq!(status, 401, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(body["error"]["message"].as_str().unwrap().contains("PASSERELLE_METRICS_TOKEN"), "{body}");
    }
    let (status, body) =
        metrics_status(get().bearer_auth("scrape-token-0123").header("X-Forwarded-For", "203.0.113.9")).await;
    assert_eq!(status, 200, "the token opens them from anywhere: {body}");
    assert!(body.contains("passerelle_jobs_queue_depth"), "{body}");
}

async_test!(metrics_on_their_own_address_are_gone_from_the_main_one);
async fn metrics_on_their_own_address_are_gone_from_the_main_one() {
    let mut config = test_config();
    config.http.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let app = spawn_app(config).await;
    let apart = app.metrics_url.clone().expect("the metrics address is bound");
    assert_ne!(apart, app.base_url);
    let (status, _) = metrics_status(app.client.get(app.url("/metrics"))).await;
    assert_eq!(status, 404, "the public address has no /metrics");
    let (status, body) = metrics_status(app.client.get(format!("{apart}/metrics"))).await;
    assert_eq!(status, 200);
    assert!(body.contains("passerelle_jobs_queue_depth"), "{body}");
    let (status, _) = metrics_status(app.client.get(format!("{apart}/healthz"))).await;
    assert_eq!(status, 404, "the metrics address serves /metrics alone");
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}

async_test!(an_unreachable_apns_is_reported_and_leaves_the_process_ready);
async fn an_unreachable_apns_is_reported_and_leaves_the_process_ready() {
    // A port nobody listens on: every connection to "APNs" is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut config = test_config();
    config.apns.url = format!("https://{closed}");
    config.apns.ca_file = Some(repo().join("certs-example/root-ca.pem"));
    config.jobs.poll_ms = 50;
    config.jobs.coalesce_ms = 50;
    config.jobs.backoff_base_ms = 20;
    config.jobs.backoff_max_ms = 200;
    let app = spawn_app(config).await;
    let readyz = async || app.client.get(app.url("/readyz")).send().await.unwrap();
    let before: Value = readyz().await.json().await.unwrap();
    assert_eq!(before["dependencies"]["apns"]["state"], "unknown", "no push tried yet: {before}");
    assert_eq!(before["dependencies"]["google"]["state"], "off", "{before}");
    assert_eq!(before["dependencies"]["smtp"]["state"], "off", "{before}");

    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-one", &token(1)).await;
    let patched = app
        .api(Method::PATCH, &format!("/api/v1/passes/{}", held.serial))
        .json(&json!({"data": {"points": 5}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let failing = async || readyz().await.json::<Value>().await.unwrap()["dependencies"]["apns"]["state"] == "failing";
    eventually("/readyz reports APNs failing", failing).await;
    let resp = readyz().await;
    assert_eq!(resp.status(), 200, "an APNs outage leaves the web process in the load balancer");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let apns = &body["dependencies"]["apns"];
    assert!(apns["last_error"].as_str().unwrap().contains("connect"), "{body}");
    assert!(apns["last_error_at"].as_str().unwrap().ends_with('Z') && apns["last_success"].is_null(), "{body}");
    assert!(apns["consecutive_failures"].as_u64().unwrap() >= 1, "{body}");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        r#"passerelle_dependency_up{dependency="apns"}"#,
        r#"passerelle_dependency_last_error_timestamp_seconds{dependency="apns"}"#,
        r#"passerelle_dependency_failures_total{dependency="apns"}"#,
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}
