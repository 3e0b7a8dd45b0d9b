//! Admin API of the job queue: dead jobs of every kind, listed and put back in the queue
//! (`/api/v1/jobs/dead?kind=push|google|webhook`); the first round's `/api/v1/push/dead` and
//! `/api/v1/google/dead` routes answer the same for their kind, in their own field names.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{PathParams, QueryParams};
use super::views::rfc3339;
use crate::access::{Actor, Area};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::{DeadJob, JobKind};

const MAX_PAGE: i64 = 500;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/jobs/dead", get(|s, k, q| dead(s, k, q, None)))
        .route("/api/v1/jobs/dead/retry", post(|s, k, q| retry_all(s, k, q, None)))
        .route("/api/v1/jobs/dead/{id}/retry", post(|s, k, p| retry_one(s, k, p, None)))
        .route("/api/v1/push/dead", get(|s, k, q| dead(s, k, q, Some(JobKind::Push))))
        .route("/api/v1/push/dead/retry", post(|s, k, q| retry_all(s, k, q, Some(JobKind::Push))))
        .route("/api/v1/push/dead/{id}/retry", post(|s, k, p| retry_one(s, k, p, Some(JobKind::Push))))
        .route("/api/v1/google/dead", get(|s, k, q| dead(s, k, q, Some(JobKind::Google))))
        .route("/api/v1/google/dead/retry", post(|s, k, q| retry_all(s, k, q, Some(JobKind::Google))))
        .route("/api/v1/google/dead/{id}/retry", post(|s, k, p| retry_one(s, k, p, Some(JobKind::Google))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    limit: Option<i64>,
    cursor: Option<i64>,
    kind: Option<String>,
}

/// The kind a request is about: the alias route's, else `?kind=` (none: every kind).
fn kind_of(route: Option<JobKind>, asked: Option<&str>) -> Result<Option<JobKind>> {
    match (route, asked) {
        (Some(kind), _) => Ok(Some(kind)),
        (None, None) => Ok(None),
        (None, Some(name)) => JobKind::parse(name).map(Some).ok_or_else(|| {
            let kinds: Vec<_> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
            Error::bad_request(format!("kind must be one of {}", kinds.join(", ")), "kind")
        }),
    }
}

/// A dead job as listed: the alias routes name the key as they always did.
fn item(job: &DeadJob, alias: Option<JobKind>) -> Value {
    let mut item = json!({
        "id": job.id,
        "attempts": job.attempts,
        "last_error": job.last_error,
        "created_at": rfc3339(job.created_at),
        "failed_at": rfc3339(job.updated_at),
    });
    let key = match alias {
        Some(JobKind::Push) => "device_library_id",
        Some(JobKind::Google) => "serial_number",
        _ => {
            item["kind"] = json!(job.kind.as_str());
            "key"
        }
    };
    item[key] = json!(job.key);
    item
}

async fn dead(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    QueryParams(page): QueryParams<Page>,
    alias: Option<JobKind>,
) -> Result<Json<Value>> {
    actor.require(Area::Operations)?;
    let limit = page.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad_request(format!("limit must be between 1 and {MAX_PAGE}"), "limit"));
    }
    let kind = kind_of(alias, page.kind.as_deref())?;
    let jobs = state.store.dead_jobs(kind, page.cursor, limit).await?;
    let next_cursor = (jobs.len() as i64 == limit).then(|| jobs.last().map(|j| j.id)).flatten();
    let items: Vec<Value> = jobs.iter().map(|j| item(j, alias)).collect();
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}

async fn retry_all(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    QueryParams(page): QueryParams<Page>,
    alias: Option<JobKind>,
) -> Result<Json<Value>> {
    actor.require(Area::Operations)?;
    let kind = kind_of(alias, page.kind.as_deref())?;
    let n = state.store.retry_dead_jobs(kind, None).await?;
    Ok(Json(json!({"retried": n})))
}

async fn retry_one(
    State(state): State<Arc<AppState>>,
    actor: Actor,
    PathParams(id): PathParams<i64>,
    alias: Option<JobKind>,
) -> Result<Json<Value>> {
    actor.require(Area::Operations)?;
    let n = state.store.retry_dead_jobs(alias, Some(id)).await?;
    if n == 0 {
        let what = alias.map_or("job".to_owned(), |k| format!("{} job", k.as_str()));
        return Err(Error::NotFound(format!("no dead {what} {id}")));
    }
    Ok(Json(json!({"retried": n})))
}
