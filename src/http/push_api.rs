//! Admin API for the outboxes and template publishing: dead APNs push jobs and Google sync
//! jobs (list, retry) and `POST /api/v1/templates/{id}/publish`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{AdminKey, QueryParams};
use super::views::rfc3339;
use crate::app::AppState;
use crate::error::{Error, Result};

const MAX_PAGE: i64 = 500;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/push/dead", get(dead))
        .route("/api/v1/push/dead/retry", post(retry_all))
        .route("/api/v1/push/dead/{id}/retry", post(retry_one))
        .route("/api/v1/google/dead", get(google_dead))
        .route("/api/v1/google/dead/retry", post(google_retry_all))
        .route("/api/v1/google/dead/{id}/retry", post(google_retry_one))
        .route("/api/v1/templates/{id}/publish", post(publish))
}

#[derive(Deserialize)]
struct Page {
    limit: Option<i64>,
    cursor: Option<i64>,
}

fn page_limit(page: &Page) -> Result<i64> {
    let limit = page.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad_request(format!("limit must be between 1 and {MAX_PAGE}"), "limit"));
    }
    Ok(limit)
}

async fn dead(
    State(state): State<Arc<AppState>>,
    _key: AdminKey,
    QueryParams(page): QueryParams<Page>,
) -> Result<Json<Value>> {
    let limit = page_limit(&page)?;
    let jobs = state.store.dead_push_jobs(page.cursor, limit).await?;
    let next_cursor = (jobs.len() as i64 == limit).then(|| jobs.last().map(|j| j.id)).flatten();
    let items: Vec<Value> = jobs
        .iter()
        .map(|j| {
            json!({
                "id": j.id,
                "device_library_id": j.device_library_id,
                "attempts": j.attempts,
                "last_error": j.last_error,
                "created_at": rfc3339(j.created_at),
                "failed_at": rfc3339(j.updated_at),
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}

async fn retry_all(State(state): State<Arc<AppState>>, _key: AdminKey) -> Result<Json<Value>> {
    let n = state.store.retry_dead_push_jobs(None).await?;
    state.push.wakeup.notify_one();
    Ok(Json(json!({"retried": n})))
}

async fn retry_one(State(state): State<Arc<AppState>>, _key: AdminKey, Path(id): Path<i64>) -> Result<Json<Value>> {
    let n = state.store.retry_dead_push_jobs(Some(id)).await?;
    if n == 0 {
        return Err(Error::NotFound(format!("no dead push job {id}")));
    }
    state.push.wakeup.notify_one();
    Ok(Json(json!({"retried": n})))
}

async fn google_dead(
    State(state): State<Arc<AppState>>,
    _key: AdminKey,
    QueryParams(page): QueryParams<Page>,
) -> Result<Json<Value>> {
    let limit = page_limit(&page)?;
    let jobs = state.store.dead_google_jobs(page.cursor, limit).await?;
    let next_cursor = (jobs.len() as i64 == limit).then(|| jobs.last().map(|j| j.id)).flatten();
    let items: Vec<Value> = jobs
        .iter()
        .map(|j| {
            json!({
                "id": j.id,
                "serial_number": j.serial_number,
                "attempts": j.attempts,
                "last_error": j.last_error,
                "created_at": rfc3339(j.created_at),
                "failed_at": rfc3339(j.updated_at),
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}

async fn google_retry_all(State(state): State<Arc<AppState>>, _key: AdminKey) -> Result<Json<Value>> {
    let n = state.store.retry_dead_google_jobs(None).await?;
    state.push.google_wakeup.notify_one();
    Ok(Json(json!({"retried": n})))
}

async fn google_retry_one(
    State(state): State<Arc<AppState>>,
    _key: AdminKey,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let n = state.store.retry_dead_google_jobs(Some(id)).await?;
    if n == 0 {
        return Err(Error::NotFound(format!("no dead Google sync job {id}")));
    }
    state.push.google_wakeup.notify_one();
    Ok(Json(json!({"retried": n})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    #[serde(default)]
    force: bool,
}

async fn publish(
    State(state): State<Arc<AppState>>,
    _key: AdminKey,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    let template = state.templates.get(&id).ok_or_else(|| Error::NotFound(format!("no template {id:?}")))?;
    // The body is optional: `{"force": true}` publishes an unchanged design anyway.
    let body: PublishBody = if body.iter().all(u8::is_ascii_whitespace) {
        PublishBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Error::BadRequest { message: e.to_string(), field: None })?
    };
    let force = body.force;
    let report =
        crate::publish::publish(state.store.as_ref(), template, state.config.publish_batch_size, force).await?;
    state.push.wakeup.notify_one();
    Ok(Json(serde_json::to_value(report).map_err(|e| Error::Internal(e.into()))?))
}
