//! Unit tests of callback verification, the root key cache and the HTTP key fetcher.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::testkit::callback_signer::TestSigner;

const ISSUER: &str = "3388000000022141777";
const NOW: i64 = 1_750_000_000_000;
const HOUR: i64 = 3_600_000;

fn body(s: &TestSigner, event: &str, exp: i64, key_exp: i64) -> Vec<u8> {
    s.callback_body(ISSUER, "3388000000022141777.cls", "3388000000022141777.obj", event, "n-1", exp, key_exp)
}

fn roots(s: &TestSigner) -> Vec<RootKey> {
    parse_root_keys(&s.root_keys_json(Some(NOW + HOUR)), NOW).unwrap()
}

/// `body` with its JSON changed by `edit`.
fn edited(body: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(body).unwrap();
    edit(&mut v);
    v.to_string().into_bytes()
}

#[test]
fn valid_save_and_del_verify() {
    let s = TestSigner::new();
    let m = verify(&body(&s, "save", NOW + 1000, NOW + HOUR), ISSUER, &roots(&s), NOW).unwrap();
    assert_eq!(m.event_type, EventType::Save);
    assert_eq!((m.class_id.as_str(), m.object_id.as_str()), ("3388000000022141777.cls", "3388000000022141777.obj"));
    assert_eq!((m.exp_time_millis, m.count, m.nonce.as_str()), (NOW + 1000, 1, "n-1"));
    let m = verify(&body(&s, "del", NOW + 1000, NOW + HOUR), ISSUER, &roots(&s), NOW).unwrap();
    assert_eq!(m.event_type, EventType::Delete);
}

#[test]
fn numeric_strings_accepted() {
    let msg = r#"{"classId":"c","objectId":"o","eventType":"save","expTimeMillis":"9","count":"2","nonce":"n"}"#;
    let m: Value = serde_json::from_str(msg).unwrap();
    let m = m.as_object().unwrap();
    assert_eq!((ms_field(m, "expTimeMillis").unwrap(), ms_field(m, "count").unwrap()), (9, 2));
}

/// Google's own callback (edutap-eu/edutap.wallet_google tests): the message signature checks against its
/// intermediate key, which confirms the LP() construction.
#[test]
fn real_google_message_signature() {
    let key = p256_key("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKb256ssDdmf7DokZ7jsMtAvjiTX2HF1ay8QR1sSA+gFpC/ChhRwVdMEVJTaoAP1MIH38QWtqShiQ63zROaKtgQ==").unwrap();
    let sig = b64("MEUCIQC+xKva1ydmNwJJiP2HJJWsteUe02ztTDKExzcWIpmlywIgJwD4HUYvZJg/cr1OL21vVKr0b2ZXt79NblCQ1V18zsc=")
        .unwrap();
    let msg = r#"{"classId":"3388000000022141777.lib.edutap.eu","objectId":"3388000000022141777.6b4cbd15-0de7-4fe8-95f6-995a51b4595e.object","eventType":"del","expTimeMillis":1759331348143,"count":1,"nonce":"1a9e3df0-ec10-4a17-8b39-89d2d7f48e3b"}"#;
    assert!(ecdsa_verify(&key, &sig, &signed_data(&[SENDER_ID, ISSUER, PROTOCOL_VERSION, msg]).unwrap()));
    assert!(!ecdsa_verify(&key, &sig, &signed_data(&[SENDER_ID, "1", PROTOCOL_VERSION, msg]).unwrap()));
}

#[test]
fn bad_signatures() {
    let s = TestSigner::new();
    let good = body(&s, "save", NOW + 1000, NOW + HOUR);
    let tampered = edited(&good, |v| {
        let m = v["signedMessage"].as_str().unwrap().replace(".obj\"", ".other\"");
        v["signedMessage"] = Value::String(m);
    });
    assert!(matches!(verify(&tampered, ISSUER, &roots(&s), NOW), Err(CallbackError::BadSignature(_))));
    assert!(matches!(verify(&good, "3388000000099999999", &roots(&s), NOW), Err(CallbackError::BadSignature(_))));
    let other = TestSigner::new();
    assert!(matches!(verify(&good, ISSUER, &roots(&other), NOW), Err(CallbackError::BadSignature(_))));
    let swapped = edited(&good, |v| v["intermediateSigningKey"]["signatures"] = json_sig_of(&other));
    assert!(matches!(verify(&swapped, ISSUER, &roots(&s), NOW), Err(CallbackError::BadSignature(_))));
}

fn json_sig_of(s: &TestSigner) -> Value {
    let b: Value = serde_json::from_slice(&body(s, "save", NOW + 1000, NOW + HOUR)).unwrap();
    b["intermediateSigningKey"]["signatures"].clone()
}

#[test]
fn expiries() {
    let s = TestSigner::new();
    let stale_key = body(&s, "save", NOW + 1000, NOW - 1);
    assert!(matches!(verify(&stale_key, ISSUER, &roots(&s), NOW), Err(CallbackError::Expired(_))));
    let stale_msg = body(&s, "save", NOW - 1, NOW + HOUR);
    assert!(matches!(verify(&stale_msg, ISSUER, &roots(&s), NOW), Err(CallbackError::Expired(_))));
    let good = body(&s, "save", NOW + 1000, NOW + HOUR);
    assert!(matches!(verify(&good, ISSUER, &roots(&s), NOW + HOUR), Err(CallbackError::NoRootKeys)));
    assert!(matches!(verify(&good, ISSUER, &[], NOW), Err(CallbackError::NoRootKeys)));
}

#[test]
fn malformed_inputs_never_panic() {
    let s = TestSigner::new();
    let good = body(&s, "save", NOW + 1000, NOW + HOUR);
    let cases = [
        edited(&good, |v| v["protocolVersion"] = "ECv2".into()),
        edited(&good, |v| v["signature"] = "not base64!".into()),
        edited(&good, |v| v["intermediateSigningKey"]["signatures"] = serde_json::json!(["@@@@"])),
        edited(&good, |v| v["intermediateSigningKey"]["signatures"] = serde_json::json!([])),
        edited(&good, |v| v["intermediateSigningKey"]["signatures"] = serde_json::json!([7])),
        edited(&good, |v| v["intermediateSigningKey"] = "x".into()),
        edited(&good, |v| v["signedMessage"] = serde_json::json!({})),
        edited(&good, |v| v["signature"] = "".into()),
        b"".to_vec(),
        b"{".to_vec(),
        b"[]".to_vec(),
        b"null".to_vec(),
        b"{\"protocolVersion\":\"ECv2SigningOnly\"}".to_vec(),
        vec![0xff, 0xfe, 0x00],
    ];
    for (i, case) in cases.iter().enumerate() {
        let r = verify(case, ISSUER, &roots(&s), NOW);
        assert!(matches!(r, Err(CallbackError::Malformed(_))), "case {i}: {r:?}");
    }
    for doc in [&b""[..], b"{}", b"{\"keys\":3}", b"[1]"] {
        assert!(matches!(parse_root_keys(doc, NOW), Err(CallbackError::Malformed(_))));
    }
}

#[test]
fn root_keys_filtered() {
    let s = TestSigner::new();
    assert_eq!(parse_root_keys(&s.root_keys_json(None), NOW).unwrap().len(), 1);
    assert_eq!(parse_root_keys(&s.root_keys_json(Some(NOW + 1)), NOW).unwrap()[0].expires_at_ms, Some(NOW + 1));
    assert!(parse_root_keys(&s.root_keys_json(Some(NOW)), NOW).unwrap().is_empty());
    let ecv2 = edited(&s.root_keys_json(None), |v| v["keys"][0]["protocolVersion"] = "ECv2".into());
    assert!(parse_root_keys(&ecv2, NOW).unwrap().is_empty());
    let junk = edited(&s.root_keys_json(None), |v| v["keys"][0]["keyValue"] = "AAAA".into());
    assert!(parse_root_keys(&junk, NOW).unwrap().is_empty());
    let numeric = edited(&s.root_keys_json(None), |v| v["keys"][0]["keyExpiration"] = (NOW + 5).into());
    assert_eq!(parse_root_keys(&numeric, NOW).unwrap()[0].expires_at_ms, Some(NOW + 5));
}

/// Serves `doc` (or fails when it is `None`) and counts fetches.
struct FakeFetcher {
    doc: Mutex<Option<Vec<u8>>>,
    count: AtomicUsize,
}

#[async_trait::async_trait]
impl KeyFetcher for FakeFetcher {
    async fn fetch(&self, _url: &str) -> Result<Vec<u8>, String> {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.doc.lock().unwrap().clone().ok_or_else(|| "unreachable".to_owned())
    }
}

fn cache(doc: Option<Vec<u8>>, max_age: Duration) -> (RootKeyCache, Arc<FakeFetcher>) {
    let f = Arc::new(FakeFetcher { doc: Mutex::new(doc), count: AtomicUsize::new(0) });
    (RootKeyCache::new(GOOGLE_ROOT_KEYS_URL.into(), max_age, f.clone()), f)
}

#[tokio::test]
async fn cache_fetches_once_then_after_max_age() {
    let s = TestSigner::new();
    let (c, f) = cache(Some(s.root_keys_json(None)), Duration::from_secs(600));
    let n = || f.count.load(Ordering::SeqCst);
    let first = c.keys(NOW).await.unwrap();
    assert_eq!((first.len(), n()), (1, 1));
    let again = c.keys(NOW + 599_000).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(n(), 1);
    let bad = body(&s, "save", NOW + 1000, NOW + HOUR);
    assert!(verify(&bad, "other", &again, NOW).is_err());
    c.refresh(NOW + 1000).await.unwrap(); // asked, but within 60 s of the last fetch
    assert_eq!(n(), 1);
    c.keys(NOW + 600_000).await.unwrap();
    assert_eq!(n(), 2);
    c.refresh(NOW + 661_000).await.unwrap();
    assert_eq!(n(), 3);
}

#[tokio::test]
async fn cache_refetch_at_most_once_per_minute() {
    let s = TestSigner::new();
    let (c, f) = cache(Some(s.root_keys_json(None)), Duration::from_secs(10));
    let n = || f.count.load(Ordering::SeqCst);
    c.keys(NOW).await.unwrap();
    c.keys(NOW + 11_000).await.unwrap(); // stale, but the last fetch was 11 s ago: served from cache
    assert_eq!(n(), 1);
    c.keys(NOW + 60_000).await.unwrap();
    assert_eq!(n(), 2);

    // Past the earliest key expiry: re-fetched (after 60 s); a failed fetch keeps serving unexpired keys.
    let (c, f) = cache(Some(s.root_keys_json(Some(NOW + 90_000))), Duration::from_secs(3600));
    c.keys(NOW).await.unwrap();
    *f.doc.lock().unwrap() = None;
    assert_eq!(c.keys(NOW + 70_000).await.unwrap().len(), 1);
    assert_eq!(f.count.load(Ordering::SeqCst), 1); // not yet past expiry
    assert!(matches!(c.keys(NOW + 90_000).await, Err(CallbackError::Fetch(_))));
    assert_eq!(f.count.load(Ordering::SeqCst), 2);
    *f.doc.lock().unwrap() = Some(s.root_keys_json(None));
    assert!(matches!(c.keys(NOW + 100_000).await, Err(CallbackError::NoRootKeys))); // held back
    assert_eq!(f.count.load(Ordering::SeqCst), 2);
    assert_eq!(c.keys(NOW + 150_000).await.unwrap().len(), 1);
    assert_eq!(f.count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn cache_failed_first_fetch_is_held_back() {
    let (c, f) = cache(None, Duration::from_secs(600));
    assert!(matches!(c.keys(NOW).await, Err(CallbackError::Fetch(_))));
    assert!(matches!(c.keys(NOW + 1000).await, Err(CallbackError::Fetch(_))));
    assert_eq!(f.count.load(Ordering::SeqCst), 1);
    assert!(c.keys(NOW + 60_000).await.is_err());
    assert_eq!(f.count.load(Ordering::SeqCst), 2);
}

/// Serves one raw HTTP/1.1 answer with a `len`-byte body on a local port; returns its URL.
async fn serve_once(len: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/gp/m/issuer/keys", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let _ = conn.read(&mut [0; 4096]).await;
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n");
        let _ = conn.write_all(head.as_bytes()).await;
        let _ = conn.write_all(&vec![b' '; len]).await;
    });
    url
}

#[tokio::test]
async fn http_fetcher_reads_and_limits_body() {
    let fetcher = HttpKeyFetcher::new().unwrap();
    assert_eq!(fetcher.fetch(&serve_once(100).await).await.unwrap().len(), 100);
    assert!(fetcher.fetch(&serve_once(64 * 1024 + 1).await).await.is_err());
    assert!(fetcher.fetch("not a url").await.is_err());
}
