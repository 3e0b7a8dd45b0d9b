//! `/console/operations` (hq_admin): the job queues and their dead jobs (retry), the state of
//! APNs, Google and SMTP, API keys (make one, shown once; revoke) and console users (make one,
//! disable). Each action goes through the same domain functions as the API and the CLI.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::members::refused;
use super::pages::{self, when};
use super::session::{Form, NoFields, Signed};
use crate::access::Area;
use crate::error::Error;
use crate::http::AppState;
use crate::jobs::queue::JobKind;
use crate::keys::{self, KeyGrant};
use crate::users::{self, NewUserInput};

const DEAD_SHOWN: i64 = 20;

/// What the page shows after an action: a new key (once), or an error beside its form.
#[derive(Default)]
struct Outcome {
    new_key: Option<Value>,
    key_error: Option<String>,
    user_error: Option<String>,
    user_created: Option<String>,
}

async fn page(state: &AppState, signed: &Signed, outcome: Outcome) -> Response {
    if let Err(e) = signed.actor.require(Area::Operations) {
        return refused(signed, e);
    }
    let gathered = async {
        let queues = state.store.queue_stats().await?;
        let dead = state.store.dead_jobs(None, None, DEAD_SHOWN).await?;
        let keys = state.store.list_api_keys().await?;
        let users = state.store.list_users().await?;
        anyhow::Ok((queues, dead, keys, users))
    };
    let (queues, dead, keys, users) = match gathered.await {
        Ok(parts) => parts,
        Err(e) => return Error::Internal(e).into_response(),
    };
    let queues: Vec<Value> = queues
        .iter()
        .map(|(kind, s)| {
            json!({"kind": kind.as_str(), "pending": s.pending, "leased": s.leased, "dead": s.dead,
                   "oldest": s.oldest_created_at.map(when)})
        })
        .collect();
    let dead: Vec<Value> = dead
        .iter()
        .map(|j| {
            // A device library id or a serial: enough of it to recognise, not to use.
            let key: String = j.key.chars().take(12).collect();
            json!({"id": j.id, "kind": j.kind.as_str(), "key": format!("{key}…"), "attempts": j.attempts,
                   "error": j.last_error, "failed": when(j.updated_at)})
        })
        .collect();
    let services: Vec<Value> = state
        .dependencies
        .all()
        .iter()
        .map(|(name, s)| {
            json!({"name": name, "state": s.state, "last_success": s.last_success_ms.map(when),
                   "last_error": s.last_error.as_ref().map(|(at, e)| format!("{} — {e}", when(*at)))})
        })
        .collect();
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({"id": k.id, "name": k.name, "prefix": k.prefix, "role": k.role, "store": k.store_id,
                   "last_used": k.last_used_at.map(when), "revoked": k.revoked_at.is_some()})
        })
        .collect();
    let users: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({"email": u.email, "role": u.role, "store": u.store_id, "disabled": u.disabled_at.is_some(),
                   "last_sign_in": u.last_sign_in_at.map(when)})
        })
        .collect();
    let status = if outcome.key_error.is_some() || outcome.user_error.is_some() { Some(422) } else { None };
    let mut resp = pages::render(
        signed,
        "operations.html",
        "operations",
        json!({
            "queues": queues, "dead": dead, "services": services, "keys": keys, "users": users,
            "new_key": outcome.new_key, "key_error": outcome.key_error, "user_error": outcome.user_error,
            "user_created": outcome.user_created,
        }),
    );
    if let Some(code) = status.and_then(|c| axum::http::StatusCode::from_u16(c).ok()) {
        *resp.status_mut() = code;
    }
    resp
}

pub async fn show(State(state): State<Arc<AppState>>, signed: Signed) -> Response {
    page(&state, &signed, Outcome::default()).await
}

#[derive(Deserialize)]
pub struct RetryForm {
    kind: Option<String>,
    id: Option<i64>,
}

/// Retries one dead job, or every dead job of a kind.
pub async fn retry(State(state): State<Arc<AppState>>, form: Form<RetryForm>) -> Response {
    let Form { signed, fields } = form;
    if let Err(e) = signed.actor.require(Area::Operations) {
        return refused(&signed, e);
    }
    let kind = fields.kind.as_deref().and_then(JobKind::parse);
    match state.store.retry_dead_jobs(kind, fields.id).await {
        Ok(n) => {
            tracing::info!(user = %signed.user.id, retried = n, "dead jobs retried from the console");
            Redirect::to("/console/operations").into_response()
        }
        Err(e) => Error::Internal(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    store_id: String,
}

/// Makes an API key and shows its secret this once.
pub async fn create_key(State(state): State<Arc<AppState>>, form: Form<KeyForm>) -> Response {
    let Form { signed, fields } = form;
    let made = async {
        let grant = KeyGrant::parse(Some(&fields.role), Some(&fields.store_id))?;
        let name = if fields.name.trim().is_empty() { grant.default_name() } else { fields.name.clone() };
        keys::create(state.store.as_ref(), Some(&signed.actor), &name, &grant).await
    };
    let outcome = match made.await {
        Ok((record, secret)) => {
            Outcome { new_key: Some(json!({"name": record.name, "key": secret.expose()})), ..Default::default() }
        }
        Err(Error::Unprocessable { message, .. }) => Outcome { key_error: Some(message), ..Default::default() },
        Err(e) => return refused(&signed, e),
    };
    page(&state, &signed, outcome).await
}

/// Revokes an API key.
pub async fn revoke_key(State(state): State<Arc<AppState>>, Path(id): Path<String>, form: Form<NoFields>) -> Response {
    let Form { signed, fields: NoFields {} } = form;
    match keys::revoke(state.store.as_ref(), Some(&signed.actor), &id).await {
        Ok(()) | Err(Error::NotFound(_)) => Redirect::to("/console/operations").into_response(),
        Err(e) => refused(&signed, e),
    }
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    store_id: String,
    #[serde(default)]
    password: String,
}

/// Makes a console user (who signs in with the password given here, to pass on to them).
pub async fn create_user(State(state): State<Arc<AppState>>, form: Form<UserForm>) -> Response {
    let Form { signed, fields } = form;
    let input = NewUserInput {
        email: &fields.email,
        role: &fields.role,
        store_id: Some(fields.store_id.as_str()),
        password: &fields.password,
        language: None,
    };
    let outcome = match users::create(state.store.as_ref(), Some(&signed.actor), input).await {
        Ok(user) => Outcome { user_created: Some(user.email), ..Default::default() },
        Err(Error::Unprocessable { message, .. } | Error::Conflict { message, .. }) => {
            Outcome { user_error: Some(message), ..Default::default() }
        }
        Err(e) => return refused(&signed, e),
    };
    page(&state, &signed, outcome).await
}

#[derive(Deserialize)]
pub struct DisableForm {
    email: String,
}

/// Disables a console user and ends their sessions.
pub async fn disable_user(State(state): State<Arc<AppState>>, form: Form<DisableForm>) -> Response {
    let Form { signed, fields } = form;
    match users::disable(state.store.as_ref(), Some(&signed.actor), &fields.email).await {
        Ok(_) => Redirect::to("/console/operations").into_response(),
        Err(e) => refused(&signed, e),
    }
}
