//! Apple's PassKit web service (`{webServiceURL}/v1/...`): device registration, the
//! "what changed" serial list, pass downloads with `Last-Modified`/304, and device logs.
//!
//! Apple: register 201/200/401, unregister 200/401, serials 200/204 with an opaque
//! `lastUpdated` tag, pass 200/304/401 (HEAD too), log 200.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::extract::{JsonBody, QueryParams, secrets_equal};
use super::rate_limit::PerIpLimit;
use crate::apple::PKPASS_CONTENT_TYPE;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::{PassRecord, Registration};

/// Longest device log line stored; longer ones are cut (the log is for diagnosis, not storage).
const MAX_LOG_LINE_CHARS: usize = 1024;
/// Longest push token accepted (APNs tokens are 64 hex characters today).
const MAX_PUSH_TOKEN_LEN: usize = 512;

pub fn router(state: &AppState) -> Router<Arc<AppState>> {
    let log_limit = Arc::new(PerIpLimit::per_minute(state.config.http.log_rate_per_min));
    Router::new()
        .route("/v1/devices/{device}/registrations/{pass_type}/{serial}", post(register).delete(unregister))
        .route("/v1/devices/{device}/registrations/{pass_type}", get(updated_serials))
        .route("/v1/passes/{pass_type}/{serial}", get(latest_pass))
        .route("/v1/log", post(log).layer(Extension(log_limit)))
}

/// Device library ids and serials travel in paths: URL-safe characters, bounded length.
fn check_identifier(value: &str, what: &str) -> Result<()> {
    let ok = (1..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok { Ok(()) } else { Err(Error::bad_request(format!("malformed {what}"), what)) }
}

fn check_pass_type(state: &AppState, pass_type: &str) -> Result<()> {
    if pass_type == state.passes.builder.identity().pass_type_identifier {
        Ok(())
    } else {
        Err(Error::NotFound(format!("this server issues no passes of type {pass_type:?}")))
    }
}

/// `Authorization: ApplePass <authenticationToken>` must match the pass's token; 401 otherwise,
/// for an unknown serial too.
async fn authorize(state: &AppState, headers: &HeaderMap, pass_type: &str, serial: &str) -> Result<PassRecord> {
    check_pass_type(state, pass_type)?;
    check_identifier(serial, "serialNumber")?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("ApplePass "))
        .map(str::trim)
        .ok_or_else(|| Error::Unauthorized("expected Authorization: ApplePass <authenticationToken>".into()))?;
    // An unknown serial answers like a wrong token, so serials cannot be probed (Apple's
    // guidance: 401 to any request that is not authenticated).
    match state.store.pass(serial).await? {
        Some(pass) if secrets_equal(&pass.authentication_token, token) => Ok(pass),
        _ => Err(Error::Unauthorized("wrong authentication token".into())),
    }
}

#[derive(Deserialize)]
struct RegisterBody {
    #[serde(rename = "pushToken")]
    push_token: String,
}

async fn register(
    State(state): State<Arc<AppState>>,
    Path((device, pass_type, serial)): Path<(String, String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<StatusCode> {
    check_identifier(&device, "deviceLibraryIdentifier")?;
    let pass = authorize(&state, &headers, &pass_type, &serial).await?;
    let token = body.push_token.trim();
    if token.is_empty() || token.len() > MAX_PUSH_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::bad_request("pushToken must be a non-empty token", "pushToken"));
    }
    Ok(match state.store.register_device(&device, &serial, token, state.config.http.max_devices_per_pass).await? {
        Registration::Created => {
            crate::webhooks::pass_registration(state.store.as_ref(), &pass, true).await;
            StatusCode::CREATED
        }
        Registration::AlreadyRegistered => StatusCode::OK,
    })
}

async fn unregister(
    State(state): State<Arc<AppState>>,
    Path((device, pass_type, serial)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    check_identifier(&device, "deviceLibraryIdentifier")?;
    let pass = authorize(&state, &headers, &pass_type, &serial).await?;
    if state.store.unregister_device(&device, &serial).await? {
        crate::webhooks::pass_registration(state.store.as_ref(), &pass, false).await;
    }
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
struct SinceQuery {
    #[serde(rename = "passesUpdatedSince")]
    passes_updated_since: Option<String>,
}

async fn updated_serials(
    State(state): State<Arc<AppState>>,
    Path((device, pass_type)): Path<(String, String)>,
    QueryParams(q): QueryParams<SinceQuery>,
) -> Result<Response> {
    check_identifier(&device, "deviceLibraryIdentifier")?;
    check_pass_type(&state, &pass_type)?;
    let since = match q.passes_updated_since.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(tag) => Some(tag.parse::<i64>().map_err(|_| {
            Error::bad_request("passesUpdatedSince must be a lastUpdated tag this server gave", "passesUpdatedSince")
        })?),
    };
    Ok(match state.store.updated_serials(&device, since).await? {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(u) => {
            Json(json!({"serialNumbers": u.serial_numbers, "lastUpdated": u.last_updated.to_string()})).into_response()
        }
    })
}

async fn latest_pass(
    State(state): State<Arc<AppState>>,
    Path((pass_type, serial)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let pass = authorize(&state, &headers, &pass_type, &serial).await?;
    let modified = UNIX_EPOCH + Duration::from_secs(pass.last_modified.max(0) as u64);
    let last_modified =
        HeaderValue::from_str(&httpdate::fmt_http_date(modified)).map_err(|e| Error::Internal(e.into()))?;
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    // Last-Modified strictly increases per pass, so "not older" really means "unchanged".
    if since.is_some_and(|since| modified <= since) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::LAST_MODIFIED, last_modified)]).into_response());
    }
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(PKPASS_CONTENT_TYPE)),
        (header::LAST_MODIFIED, last_modified),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if method == Method::HEAD {
        return Ok((headers, ()).into_response());
    }
    let body = state.passes.pkpass(&pass).await?;
    // The honest "delivered" figure of a campaign on Apple: the device came for the new pass.
    if let Err(e) = state.store.record_pass_fetch(&pass.serial_number).await {
        tracing::warn!(serial = %pass.serial_number, "recording a campaign fetch failed: {e:#}");
    }
    Ok((headers, body).into_response())
}

#[derive(Deserialize)]
struct LogBody {
    logs: Vec<String>,
}

async fn log(
    State(state): State<Arc<AppState>>,
    Extension(limit): Extension<Arc<PerIpLimit>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<JsonBody<LogBody>, Error>,
) -> Result<StatusCode> {
    // Every request counts, well-formed or not: the log is open to anyone.
    let ip = super::client_ip::resolve(peer.ip(), &headers, &state.config.http.trusted_proxies);
    if let Err(limited) = limit.check(ip) {
        tracing::info!(%ip, "device log rate limit reached (PASSERELLE_LOG_RATE_PER_MIN)");
        return Err(Error::TooManyRequests { retry_after_secs: limited.retry_after_secs() });
    }
    let JsonBody(body) = body?;
    let lines: Vec<String> = body
        .logs
        .iter()
        .take(state.config.http.device_log_max_lines)
        .map(|l| l.chars().take(MAX_LOG_LINE_CHARS).collect())
        .collect();
    for line in &lines {
        tracing::info!(target: "passerelle::device_log", "{line:?}");
    }
    if body.logs.len() > lines.len() {
        tracing::warn!(
            dropped = body.logs.len() - lines.len(),
            "device log request over PASSERELLE_DEVICE_LOG_MAX_LINES"
        );
    }
    state.store.add_device_logs(&lines, state.config.http.device_log_keep).await?;
    Ok(StatusCode::OK)
}
