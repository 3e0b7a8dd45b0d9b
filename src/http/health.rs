//! Operators' endpoints: `GET /healthz` (alive), `GET /readyz` (can serve: its database
//! answers; APNs, Google and SMTP are reported, never counted), `GET /metrics` (Prometheus,
//! served apart, behind a token, or to this machine only).

use std::sync::Arc;

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::{credentials, secrets_equal};
use crate::http::views::rfc3339;
use crate::store::now_ms;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics_here))
}

/// `/metrics` alone, for PASSERELLE_METRICS_LISTEN.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_apart))
        .fallback(|| async { Error::NotFound("no such route: this address serves /metrics only".into()) })
        .with_state(state)
}

/// Liveness only: the process answers. Readiness problems never restart it.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers: that is all this process needs to serve. APNs, Google and
/// SMTP outages are reported (the job queues keep the work) but leave it in the load balancer.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let database = match state.store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("error: {e}"),
    };
    let push = match state.push_health.paused() {
        None => "ok".to_owned(),
        Some(reason) => format!("paused: {reason}"),
    };
    let mut dependencies = Map::new();
    for (name, s) in state.dependencies.all() {
        let report = json!({
            "state": s.state,
            "last_success": s.last_success_ms.map(rfc3339),
            "last_error": s.last_error.as_ref().map(|(_, e)| e),
            "last_error_at": s.last_error.as_ref().map(|(t, _)| rfc3339(*t)),
            "consecutive_failures": s.consecutive_failures,
        });
        dependencies.insert(name.to_owned(), report);
    }
    let ready = database == "ok";
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": {"database": database, "push": push},
        "dependencies": dependencies,
    });
    (status, Json(body)).into_response()
}

/// `/metrics` on the main address: nowhere when PASSERELLE_METRICS_LISTEN serves it apart;
/// with PASSERELLE_METRICS_TOKEN, to whoever has it; else to clients on this machine that no
/// proxy relayed (a proxy adds `X-Forwarded-For` or `Forwarded`). Refusals without a token
/// are 404s: the address does not even say it has metrics.
async fn metrics_here(State(state): State<Arc<AppState>>, parts: Parts) -> Result<Response> {
    let http = &state.config.http;
    if http.metrics_listen.is_some() {
        return Err(Error::NotFound("no such route".into()));
    }
    if http.metrics_token.is_none() {
        let proxied = parts.headers.contains_key("x-forwarded-for") || parts.headers.contains_key(header::FORWARDED);
        if proxied || !crate::http::client_ip::of_request(&parts, &http.trusted_proxies).is_loopback() {
            return Err(Error::NotFound("no such route".into()));
        }
    }
    metrics(&state, &parts).await
}

/// `/metrics` on PASSERELLE_METRICS_LISTEN (with the token, when one is set).
async fn metrics_apart(State(state): State<Arc<AppState>>, parts: Parts) -> Result<Response> {
    metrics(&state, &parts).await
}

/// Prometheus text format; queue gauges are read from the database at each scrape.
async fn metrics(state: &AppState, parts: &Parts) -> Result<Response> {
    if let Some(token) = &state.config.http.metrics_token
        && !credentials(parts, "Bearer").is_some_and(|given| secrets_equal(given, token.expose()))
    {
        return Err(Error::Unauthorized("GET /metrics needs Authorization: Bearer <PASSERELLE_METRICS_TOKEN>".into()));
    }
    let handle = crate::metrics::handle();
    for (kind, stats) in state.store.queue_stats().await? {
        let kind = kind.as_str();
        let age = stats.oldest_created_at.map_or(0.0, |t| (now_ms() - t).max(0) as f64 / 1000.0);
        metrics::gauge!("passerelle_jobs_queue_depth", "kind" => kind).set((stats.pending + stats.leased) as f64);
        metrics::gauge!("passerelle_jobs_dead", "kind" => kind).set(stats.dead as f64);
        metrics::gauge!("passerelle_jobs_oldest_age_seconds", "kind" => kind).set(age);
        if kind == "push" {
            // The first round's names, kept for existing dashboards.
            metrics::gauge!("passerelle_push_queue_depth").set((stats.pending + stats.leased) as f64);
            metrics::gauge!("passerelle_push_jobs_dead").set(stats.dead as f64);
            metrics::gauge!("passerelle_push_oldest_job_age_seconds").set(age);
        }
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response())
}
