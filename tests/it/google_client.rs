//! The Google Wallet REST client against the mock Google (OAuth token endpoint + walletobjects v1).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use passerelle::google::client::{GoogleClient, GoogleError, GoogleSettings, NoRateLimit, RateLimiter, WalletApi};
use passerelle::testkit::mock_google::MockGoogle;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::Mutex;

const CLASS: &str = "3388000000022.demo-class";
const OBJECT: &str = "3388000000022.demo-object_1";

fn settings(api_url: String) -> GoogleSettings {
    GoogleSettings {
        api_url,
        timeout: Duration::from_secs(5),
        max_retries: 3,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
    }
}

struct Setup {
    mock: MockGoogle,
    client: GoogleClient,
    _dir: TempDir,
}

async fn setup_with(limiter: Arc<dyn RateLimiter>) -> Setup {
    let mock = MockGoogle::start().await.expect("mock Google starts");
    let dir = TempDir::new().unwrap();
    let key = mock.service_account_json(dir.path());
    let client = GoogleClient::new(&key, settings(mock.api_url()), limiter).await.expect("client");
    Setup { mock, client, _dir: dir }
}

async fn setup() -> Setup {
    setup_with(Arc::new(NoRateLimit)).await
}

/// The requests the mock saw, as "METHOD /path-after-v1".
fn log(mock: &MockGoogle) -> Vec<String> {
    mock.requests().into_iter().map(|(m, p)| format!("{m} {}", p.trim_start_matches("/walletobjects/v1/"))).collect()
}

fn class() -> Value {
    json!({ "issuerName": "Demo", "programName": "Points", "reviewStatus": "UNDER_REVIEW" })
}

async fn with_object(s: &Setup) {
    s.client.upsert("loyaltyClass", CLASS, &class()).await.unwrap();
    let object = json!({ "classId": CLASS, "state": "ACTIVE", "loyaltyPoints": { "balance": { "int": 10 } } });
    s.client.upsert("loyaltyObject", OBJECT, &object).await.unwrap();
}

async_test!(upsert_inserts_then_patches_on_409);
async fn upsert_inserts_then_patches_on_409() {
    let s = setup().await;
    assert_eq!(s.client.client_email(), s.mock.client_email());
    s.client.upsert("loyaltyClass", CLASS, &class()).await.unwrap();
    assert_eq!(log(&s.mock), ["POST loyaltyClass"]);
    assert_eq!(s.mock.object("loyaltyClass", CLASS).unwrap()["id"], CLASS);

    s.client.upsert("loyaltyClass", CLASS, &json!({ "programName": "Stars" })).await.unwrap();
    assert_eq!(
        log(&s.mock),
        ["POST loyaltyClass", "POST loyaltyClass", format!("PATCH loyaltyClass/{CLASS}").as_str()]
    );
    let stored = s.client.get("loyaltyClass", CLASS).await.unwrap().unwrap();
    assert_eq!((stored["programName"].as_str(), stored["issuerName"].as_str()), (Some("Stars"), Some("Demo")));
    assert_eq!(s.client.get("loyaltyClass", "3388000000022.missing").await.unwrap(), None);
    assert_eq!(s.mock.token_requests(), 1, "the token is cached");
}

async_test!(patch_or_insert_inserts_on_404_and_patch_replaces_arrays);
async fn patch_or_insert_inserts_on_404_and_patch_replaces_arrays() {
    let s = setup().await;
    s.client.upsert("genericClass", CLASS, &json!({})).await.unwrap();
    let object = json!({ "classId": CLASS, "cardTitle": { "defaultValue": { "language": "en", "value": "Receipt" } },
                         "textModulesData": [{ "id": "a", "body": "1" }, { "id": "b", "body": "2" }] });
    s.client.patch_or_insert("genericObject", OBJECT, &object).await.unwrap();
    let path = format!("genericObject/{OBJECT}");
    assert_eq!(log(&s.mock)[1..], [format!("PATCH {path}"), "POST genericObject".into()]);

    s.client.patch_or_insert("genericObject", OBJECT, &json!({ "textModulesData": [{ "id": "c" }] })).await.unwrap();
    assert_eq!(log(&s.mock).last().unwrap(), &format!("PATCH {path}"));
    let stored = s.mock.object("genericObject", OBJECT).unwrap();
    assert_eq!(stored["textModulesData"], json!([{ "id": "c" }]));
    assert_eq!(stored["cardTitle"]["defaultValue"]["value"], "Receipt");

    // An object whose class is missing: Google's 404 comes back, after the PATCH and the insert.
    let orphan = json!({ "classId": "3388000000022.nope" });
    let err = s.client.patch_or_insert("genericObject", "3388000000022.orphan", &orphan).await.unwrap_err();
    assert!(matches!(&err, GoogleError::Api { status: 404, reason, .. } if reason == "classNotFound"), "{err}");
}

async_test!(retries_429_and_5xx_then_succeeds);
async fn retries_429_and_5xx_then_succeeds() {
    let s = setup().await;
    s.mock.fail_next(1, 429, "rateLimitExceeded");
    s.mock.fail_next(1, 500, "backendError");
    s.client.upsert("loyaltyClass", CLASS, &class()).await.unwrap();
    assert_eq!(log(&s.mock), ["POST loyaltyClass"; 3]);
    assert!(s.mock.object("loyaltyClass", CLASS).is_some());

    // Retries run out: 1 try + max_retries (3), and the last error keeps Google's reason.
    s.mock.fail_next(10, 503, "backendError");
    let err = s.client.get("loyaltyClass", CLASS).await.unwrap_err();
    assert!(err.retryable() && err.status() == Some(503), "{err}");
    assert!(err.to_string().contains("backendError"), "{err}");
    assert_eq!(log(&s.mock).len(), 3 + 4);
}

async_test!(client_errors_are_not_retried_and_keep_reason);
async fn client_errors_are_not_retried_and_keep_reason() {
    let s = setup().await;
    s.mock.fail_next(1, 400, "invalidResource");
    let err = s.client.upsert("loyaltyClass", CLASS, &class()).await.unwrap_err();
    match &err {
        GoogleError::Api { status: 400, reason, message } => {
            assert_eq!(reason, "invalidResource");
            assert!(!message.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.retryable());
    assert_eq!(log(&s.mock).len(), 1);

    s.mock.fail_next(1, 403, "permissionDenied");
    let err = s.client.get("loyaltyClass", CLASS).await.unwrap_err();
    assert_eq!((err.status(), err.retryable()), (Some(403), false));
    assert_eq!(log(&s.mock).len(), 2);

    // Ids go into URLs unencoded: anything outside [A-Za-z0-9._-] is refused before sending.
    for bad in ["3388.a/b", "3388.a b", "", "3388.é"] {
        let err = s.client.upsert("loyaltyClass", bad, &class()).await.unwrap_err();
        assert!(matches!(err, GoogleError::InvalidId(_)), "{bad:?}: {err}");
    }
    let err = s.client.upsert("loyaltyClass", CLASS, &json!({ "id": "3388.other" })).await.unwrap_err();
    assert!(matches!(err, GoogleError::InvalidId(_)), "{err}");
    assert_eq!(log(&s.mock).len(), 2);
}

async_test!(a_401_forces_one_token_refresh);
async fn a_401_forces_one_token_refresh() {
    let s = setup().await;
    s.client.upsert("loyaltyClass", CLASS, &class()).await.unwrap();
    assert_eq!(s.mock.token_requests(), 1);
    s.mock.revoke_tokens();
    s.client.upsert("loyaltyClass", CLASS, &class()).await.unwrap();
    assert_eq!(s.mock.token_requests(), 2);
    // Insert with the old token (401), insert with the new one (409), PATCH.
    assert_eq!(log(&s.mock).len(), 1 + 3);

    // A 401 that persists after the refresh is returned, not looped on.
    s.mock.fail_next(5, 401, "authError");
    let err = s.client.get("loyaltyClass", CLASS).await.unwrap_err();
    assert_eq!((err.status(), err.retryable()), (Some(401), false));
    assert_eq!(s.mock.token_requests(), 3);
    assert_eq!(log(&s.mock).len(), 4 + 2);
}

async_test!(fourth_notification_of_the_day_falls_back_to_text);
async fn fourth_notification_of_the_day_falls_back_to_text() {
    let s = setup().await;
    with_object(&s).await;
    let message =
        |n: u32| json!({ "header": "Order ready", "body": format!("n{n}"), "messageType": "TEXT_AND_NOTIFY" });
    for n in 0..3 {
        assert_eq!(s.client.add_message("loyaltyObject", OBJECT, &message(n)).await.unwrap(), "TEXT_AND_NOTIFY");
    }
    assert_eq!(s.client.add_message("loyaltyObject", OBJECT, &message(3)).await.unwrap(), "TEXT");
    let messages = s.mock.object("loyaltyObject", OBJECT).unwrap()["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 4);
    assert_eq!((messages[3]["messageType"].as_str(), messages[3]["body"].as_str()), (Some("TEXT"), Some("n3")));
    let path = format!("loyaltyObject/{OBJECT}/addMessage");
    assert_eq!(log(&s.mock).iter().filter(|r| r.ends_with(&path)).count(), 5, "one refused, sent again");

    // Without a type it is a TEXT message; a new day restores the quota.
    let plain = json!({ "header": "h", "body": "b" });
    assert_eq!(s.client.add_message("loyaltyObject", OBJECT, &plain).await.unwrap(), "TEXT");
    s.mock.new_day();
    assert_eq!(s.client.add_message("loyaltyObject", OBJECT, &message(5)).await.unwrap(), "TEXT_AND_NOTIFY");
    let err = s.client.add_message("loyaltyObject", "3388000000022.missing", &plain).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

/// An in-process token bucket (`rate` per second, `burst` at once) that counts its callers.
struct Bucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
    calls: AtomicUsize,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Self {
        Bucket { rate, burst, state: Mutex::new((burst, Instant::now())), calls: AtomicUsize::new(0) }
    }
}

#[async_trait]
impl RateLimiter for Bucket {
    async fn acquire(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut state = self.state.lock().await;
        loop {
            let now = Instant::now();
            let (tokens, last) = *state;
            let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
            if tokens >= 1.0 {
                *state = (tokens - 1.0, now);
                return;
            }
            *state = (tokens, now);
            tokio::time::sleep(Duration::from_secs_f64((1.0 - tokens) / self.rate)).await;
        }
    }
}

async_test!(the_rate_limiter_is_asked_before_every_request);
async fn the_rate_limiter_is_asked_before_every_request() {
    let bucket = Arc::new(Bucket::new(20.0, 1.0));
    let s = setup_with(bucket.clone()).await;
    s.mock.fail_next(1, 429, "rateLimitExceeded");
    s.client.upsert("loyaltyClass", CLASS, &class()).await.unwrap(); // 429, POST
    s.client.upsert("loyaltyClass", CLASS, &class()).await.unwrap(); // POST 409, PATCH
    let gets = (0..8).map(|_| s.client.get("loyaltyClass", CLASS));
    for got in futures_util::future::join_all(gets).await {
        assert!(got.unwrap().is_some());
    }
    let requests = log(&s.mock).len();
    assert_eq!(requests, 12);
    assert_eq!(bucket.calls.load(Ordering::SeqCst), requests, "one slot per request; none for /token");
    let times = s.mock.request_times();
    let span = times.last().unwrap().duration_since(times[0]);
    assert!(span >= Duration::from_millis(11 * 50 * 9 / 10), "12 requests at 20/s took {span:?}");
}

async_test!(unreachable_and_silent_servers_are_transport_errors);
async fn unreachable_and_silent_servers_are_transport_errors() {
    let mock = MockGoogle::start().await.unwrap();
    let dir = TempDir::new().unwrap();
    let key = mock.service_account_json(dir.path());

    // Nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let client =
        GoogleClient::new(&key, settings(format!("http://{closed}/walletobjects/v1")), Arc::new(NoRateLimit)).await;
    let err = client.unwrap().get("loyaltyClass", CLASS).await.unwrap_err();
    assert!(matches!(err, GoogleError::Transport(_)) && err.retryable(), "{err}");

    // A server that accepts and never answers: the timeout applies.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let mut s = settings(format!("http://{silent_addr}/walletobjects/v1"));
    (s.timeout, s.max_retries) = (Duration::from_millis(150), 1);
    let client = GoogleClient::new(&key, s, Arc::new(NoRateLimit)).await.unwrap();
    let started = Instant::now();
    let err = client.get("loyaltyClass", CLASS).await.unwrap_err();
    assert!(matches!(&err, GoogleError::Transport(m) if m.contains("no answer")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    holder.abort();
}

async_test!(a_refused_service_account_is_a_token_error_and_secrets_stay_hidden);
async fn a_refused_service_account_is_a_token_error_and_secrets_stay_hidden() {
    let mock = MockGoogle::start().await.unwrap();
    let dir = TempDir::new().unwrap();
    let path = mock.service_account_json(dir.path());
    let mut key: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    key["client_email"] = json!("intruder@example.iam.gserviceaccount.com");
    std::fs::write(&path, key.to_string()).unwrap();
    let client = GoogleClient::new(&path, settings(mock.api_url()), Arc::new(NoRateLimit)).await.unwrap();
    let err = client.get("loyaltyClass", CLASS).await.unwrap_err();
    assert!(matches!(err, GoogleError::Token(_)) && !err.retryable(), "{err}");
    assert!(mock.requests().is_empty(), "no API call without a token");

    let debug = format!("{client:?}");
    assert!(debug.contains("intruder@") && !debug.contains("PRIVATE KEY") && !debug.contains("mock-token"), "{debug}");
}
