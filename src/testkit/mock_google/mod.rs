//! A mock of Google's OAuth token endpoint and Wallet API (walletobjects v1) for tests and benchmarks, like
//! [`super::mock_apns`] for APNs. Plain HTTP on `127.0.0.1:0`.
//!
//! - `POST /token`: the service-account JWT-bearer grant. The assertion must be an RS256 JWT signed with the demo key
//!   (`certs-example/google-service-account.json`), with `iss` = its `client_email`, `aud` = [`MockGoogle::token_uri`],
//!   a `scope` containing `wallet_object.issuer`, and an `exp` in the future. Answers `mock-token-N` (N = 1, 2, …).
//! - `/walletobjects/v1/{resource}` for loyaltyClass, loyaltyObject, genericClass, genericObject: insert (POST, 409
//!   `resourceAlreadyExists`; an object's `classId` must exist, else 404 `classNotFound`), GET and PATCH (404
//!   `resourceNotFound`; PATCH replaces top-level fields, so arrays are replaced whole), and `{id}/addMessage` (appends
//!   to `messages`; a 4th `TEXT_AND_NOTIFY` on one resource in a "day" gets 403 `quotaExceeded`). Every call needs
//!   `Authorization: Bearer mock-token-N` with a token it issued and did not revoke, else 401. Errors use Google's
//!   shape `{"error":{"code","message","status","errors":[{"domain":"walletobjects","reason"}]}}`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use openssl::pkey::{PKey, Private};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use oauth::token;

mod oauth;

/// Resources the mock serves.
pub const RESOURCES: [&str; 6] =
    ["loyaltyClass", "loyaltyObject", "genericClass", "genericObject", "offerClass", "offerObject"];

/// `TEXT_AND_NOTIFY` messages accepted per resource per "day" (see [`MockGoogle::new_day`]).
pub const NOTIFICATIONS_PER_DAY: u32 = 3;

const API_PREFIX: &str = "/walletobjects/v1/";

/// A running mock. It stops when dropped.
pub struct MockGoogle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    /// The demo service-account key file, as JSON.
    key_json: Value,
    client_email: String,
    /// The demo private key; its public half checks assertions.
    key: PKey<Private>,
    token_uri: String,
    state: Mutex<MockState>,
}

#[derive(Default)]
struct MockState {
    objects: HashMap<(String, String), Value>,
    /// Wallet API requests (not `/token`): method, path, arrival.
    requests: Vec<(String, String, Instant)>,
    token_requests: usize,
    tokens_issued: u64,
    /// Tokens numbered up to this one are refused.
    revoked_up_to: u64,
    notifications: HashMap<(String, String), u32>,
    /// Scripted failures: (requests left, status, reason).
    script: VecDeque<(usize, StatusCode, String)>,
}

/// The demo service-account key, in the crate's `certs-example`.
fn demo_key_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certs-example/google-service-account.json")
}

impl MockGoogle {
    /// Starts on `127.0.0.1:0`.
    pub async fn start() -> anyhow::Result<MockGoogle> {
        let path = demo_key_path();
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("mock Google: reading {}", path.display()))?;
        let key_json: Value = serde_json::from_str(&text).context("mock Google: demo key JSON")?;
        let client_email = key_json["client_email"].as_str().context("mock Google: no client_email")?.to_owned();
        let pem = key_json["private_key"].as_str().context("mock Google: no private_key")?;
        let key = PKey::private_key_from_pem(pem.as_bytes()).context("mock Google: demo private key")?;
        let listener = TcpListener::bind("127.0.0.1:0").await.context("mock Google: bind")?;
        let addr = listener.local_addr()?;
        let token_uri = format!("http://{addr}/token");
        let state = Mutex::new(MockState::default());
        let shared = Arc::new(Shared { key_json, client_email, key, token_uri, state });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(MockGoogle { addr, shared, task })
    }

    /// Base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Wallet API base, `http://127.0.0.1:<port>/walletobjects/v1` (for `GoogleSettings::api_url`).
    pub fn api_url(&self) -> String {
        format!("http://{}/walletobjects/v1", self.addr)
    }

    /// The OAuth token endpoint, `http://127.0.0.1:<port>/token`.
    pub fn token_uri(&self) -> String {
        self.shared.token_uri.clone()
    }

    /// The demo service account's e-mail.
    pub fn client_email(&self) -> &str {
        &self.shared.client_email
    }

    /// Writes a copy of the demo service-account key with `token_uri` pointed at this mock into `dir`, and returns its
    /// path. Panics if it cannot be written.
    pub fn service_account_json(&self, dir: &Path) -> PathBuf {
        let mut key = self.shared.key_json.clone();
        key["token_uri"] = json!(self.token_uri());
        let path = dir.join(format!("google-service-account-{}.json", self.addr.port()));
        std::fs::write(&path, serde_json::to_vec_pretty(&key).expect("JSON")).expect("mock Google: writing the key");
        path
    }

    /// The stored resource, as GET would answer it.
    pub fn object(&self, resource: &str, id: &str) -> Option<Value> {
        self.state().objects.get(&(resource.to_owned(), id.to_owned())).cloned()
    }

    /// Stores a resource directly, as if inserted earlier.
    pub fn put_object(&self, resource: &str, id: &str, mut value: Value) {
        value["id"] = json!(id);
        self.state().objects.insert((resource.to_owned(), id.to_owned()), value);
    }

    /// Every Wallet API request (not `/token`) as (method, path), in arrival order, whatever the answer.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.state().requests.iter().map(|(m, p, _)| (m.clone(), p.clone())).collect()
    }

    /// Arrival times of the Wallet API requests (to check a rate limit).
    pub fn request_times(&self) -> Vec<Instant> {
        self.state().requests.iter().map(|(_, _, t)| *t).collect()
    }

    /// Requests to `/token`, granted or not.
    pub fn token_requests(&self) -> usize {
        self.state().token_requests
    }

    /// The next `n` Wallet API requests that carry a valid token get `status` with Google's error shape and `reason`
    /// (e.g. 429 "rateLimitExceeded", 500 "backendError", 503 "backendError", 400 "invalidResource", 401 "authError").
    /// Queued scripts are consumed in order. Panics if `status` is not a valid HTTP status code.
    pub fn fail_next(&self, n: usize, status: u16, reason: &str) {
        let status = StatusCode::from_u16(status).expect("valid HTTP status");
        if n > 0 {
            self.state().script.push_back((n, status, reason.to_owned()));
        }
    }

    /// Every token issued so far is refused from now on (401), as after an expiry or a key rotation.
    pub fn revoke_tokens(&self) {
        let mut state = self.state();
        state.revoked_up_to = state.tokens_issued;
    }

    /// A new "day": the `TEXT_AND_NOTIFY` quota of every resource starts over.
    pub fn new_day(&self) {
        self.state().notifications.clear();
    }

    fn state(&self) -> MutexGuard<'_, MockState> {
        lock(&self.shared.state)
    }
}

impl Drop for MockGoogle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if path == "/token" && method == Method::POST {
        return token(&shared, &body);
    }
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return google_error(StatusCode::NOT_FOUND, "notFound", "No such endpoint");
    };
    let mut state = lock(&shared.state);
    state.requests.push((method.to_string(), path.to_owned(), Instant::now()));
    if !authorized(&state, &headers) {
        let message = "Request had invalid authentication credentials. Expected OAuth 2 access token.";
        return google_error(StatusCode::UNAUTHORIZED, "authError", message);
    }
    if let Some((status, reason)) = scripted(&mut state) {
        return google_error(status, &reason, "Scripted failure of the mock");
    }
    let body = if body.is_empty() { Ok(Value::Null) } else { serde_json::from_slice::<Value>(&body) };
    let Ok(body) = body else {
        return google_error(StatusCode::BAD_REQUEST, "parseError", "Invalid JSON payload received.");
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let resource = segments[0];
    if !RESOURCES.contains(&resource) {
        return google_error(StatusCode::NOT_FOUND, "notFound", &format!("No such resource {resource}"));
    }
    let result = match (&method, &segments[1..]) {
        (&Method::POST, []) => insert(&mut state, resource, body),
        (&Method::GET, [id]) => stored(&state, resource, id).cloned(),
        (&Method::PATCH, [id]) => patch(&mut state, resource, id, body),
        (&Method::POST, [id, "addMessage"]) => add_message(&mut state, resource, id, body),
        _ => Err(fail(StatusCode::NOT_FOUND, "notFound", "No such method")),
    };
    match result {
        Ok(value) => axum::Json(value).into_response(),
        Err(response) => *response,
    }
}

type Answer = Result<Value, Box<Response>>;

fn insert(state: &mut MockState, resource: &str, body: Value) -> Answer {
    let Value::Object(fields) = body else {
        return Err(fail(StatusCode::BAD_REQUEST, "invalidResource", "The body must be a resource"));
    };
    let id = fields.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    if !valid_id(&id) {
        return Err(fail(StatusCode::BAD_REQUEST, "invalidResource", &format!("Invalid resource id {id:?}")));
    }
    if let Some(class_resource) = resource.strip_suffix("Object").map(|vertical| format!("{vertical}Class")) {
        let class_id = fields.get("classId").and_then(Value::as_str).unwrap_or_default();
        if !state.objects.contains_key(&(class_resource, class_id.to_owned())) {
            return Err(fail(StatusCode::NOT_FOUND, "classNotFound", &format!("Class {class_id:?} not found")));
        }
    }
    let key = (resource.to_owned(), id);
    if state.objects.contains_key(&key) {
        let message = format!("Resource already exists: {}", key.1);
        return Err(fail(StatusCode::CONFLICT, "resourceAlreadyExists", &message));
    }
    let value = Value::Object(fields);
    state.objects.insert(key, value.clone());
    Ok(value)
}

fn stored<'a>(state: &'a MockState, resource: &str, id: &str) -> Result<&'a Value, Box<Response>> {
    let message = format!("Resource not found: {resource}/{id}");
    state
        .objects
        .get(&(resource.to_owned(), id.to_owned()))
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "resourceNotFound", &message))
}

fn stored_mut<'a>(
    state: &'a mut MockState,
    resource: &str,
    id: &str,
) -> Result<&'a mut Map<String, Value>, Box<Response>> {
    stored(state, resource, id)?;
    let value = state.objects.get_mut(&(resource.to_owned(), id.to_owned())).expect("checked above");
    Ok(value.as_object_mut().expect("stored resources are objects"))
}

fn patch(state: &mut MockState, resource: &str, id: &str, body: Value) -> Answer {
    let Value::Object(fields) = body else {
        return Err(fail(StatusCode::BAD_REQUEST, "invalidResource", "The body must be a resource"));
    };
    if fields.get("id").is_some_and(|given| given != id) {
        return Err(fail(StatusCode::BAD_REQUEST, "invalidResource", "The id cannot change"));
    }
    let stored = stored_mut(state, resource, id)?;
    stored.extend(fields);
    Ok(Value::Object(stored.clone()))
}

fn add_message(state: &mut MockState, resource: &str, id: &str, body: Value) -> Answer {
    let Some(message) = body.get("message").filter(|m| m.is_object()).cloned() else {
        return Err(fail(StatusCode::BAD_REQUEST, "invalidArgument", "Missing message"));
    };
    let kind = message.get("messageType").and_then(Value::as_str).unwrap_or("TEXT");
    if !["TEXT", "TEXT_AND_NOTIFY", "MESSAGE_TYPE_UNSPECIFIED"].contains(&kind) {
        return Err(fail(StatusCode::BAD_REQUEST, "invalidArgument", &format!("Invalid messageType {kind:?}")));
    }
    stored(state, resource, id)?;
    if kind == "TEXT_AND_NOTIFY" {
        let sent = state.notifications.entry((resource.to_owned(), id.to_owned())).or_default();
        if *sent >= NOTIFICATIONS_PER_DAY {
            let message = format!(
                "Quota exceeded for issuer when adding TEXT_AND_NOTIFY message to {resource} {id}: \
                 at most {NOTIFICATIONS_PER_DAY} per 24 hours"
            );
            return Err(fail(StatusCode::FORBIDDEN, "quotaExceeded", &message));
        }
        *sent += 1;
    }
    let stored = stored_mut(state, resource, id)?;
    let messages = stored.entry("messages").or_insert_with(|| json!([]));
    if !messages.is_array() {
        *messages = json!([]);
    }
    messages.as_array_mut().expect("array").push(message);
    Ok(json!({ "resource": stored.clone() }))
}

/// Issuer-prefixed ids: `issuerId.suffix`, `[A-Za-z0-9._-]`.
fn valid_id(id: &str) -> bool {
    id.contains('.') && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn authorized(state: &MockState, headers: &HeaderMap) -> bool {
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let number = token.and_then(|t| t.strip_prefix("mock-token-")).and_then(|n| n.parse::<u64>().ok());
    number.is_some_and(|n| n > state.revoked_up_to && n <= state.tokens_issued)
}

fn scripted(state: &mut MockState) -> Option<(StatusCode, String)> {
    let (left, status, reason) = state.script.front_mut()?;
    *left -= 1;
    let answer = (*status, reason.clone());
    if *left == 0 {
        state.script.pop_front();
    }
    Some(answer)
}

fn fail(status: StatusCode, reason: &str, message: &str) -> Box<Response> {
    Box::new(google_error(status, reason, message))
}

fn google_error(status: StatusCode, reason: &str, message: &str) -> Response {
    let code = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    let errors = json!([{ "domain": "walletobjects", "reason": reason, "message": message }]);
    let body = json!({ "error": { "code": status.as_u16(), "message": message, "errors": errors, "status": code } });
    (status, axum::Json(body)).into_response()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
