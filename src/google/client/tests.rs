//! Unit tests of the client's helpers; the HTTP behaviour is tested against the mock in `tests/it/google_client.rs`.

use super::*;

#[test]
fn ids_are_checked() {
    assert!(check_ids("loyaltyObject", "3388000000022.demo-1_a").is_ok());
    for bad in ["", ".", "..", "a/b", "a b", "a%2F", "é", "a?b"] {
        assert!(matches!(check_ids("loyaltyObject", bad), Err(GoogleError::InvalidId(_))), "{bad:?}");
    }
    assert!(check_ids("loyalty/Object", "a").is_err());
}

#[test]
fn errors_keep_google_reason_and_message() {
    let body = br#"{"error":{"code":403,"message":"Quota exceeded","errors":[{"domain":"walletobjects","reason":"quotaExceeded"}],"status":"PERMISSION_DENIED"}}"#;
    let e = api_error(StatusCode::FORBIDDEN, body);
    assert!(e.is(403, "quotaExceeded") && !e.retryable());
    assert_eq!(e.to_string(), "Google answered 403 quotaExceeded: Quota exceeded");
    let e = api_error(StatusCode::NOT_FOUND, br#"{"error":{"code":404,"message":"m","status":"NOT_FOUND"}}"#);
    assert!(e.is(404, "NOT_FOUND"));
    let e = api_error(StatusCode::BAD_GATEWAY, b"<html>oops</html>");
    assert!(e.retryable() && e.is(502, "Bad Gateway"));
    assert!(GoogleError::Transport("x".into()).retryable() && !GoogleError::Token("x".into()).retryable());
    assert!(api_error(StatusCode::TOO_MANY_REQUESTS, b"").retryable());
}

#[test]
fn backoff_doubles_caps_and_jitters() {
    let s = GoogleSettings {
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(350),
        ..GoogleSettings::default()
    };
    for (retry, full) in [(0, 100), (1, 200), (2, 350), (30, 350)] {
        let d = backoff(&s, retry);
        assert!(d >= Duration::from_millis(full / 2) && d <= Duration::from_millis(full), "{retry}: {d:?}");
    }
}

#[test]
fn insert_body_gets_the_id() {
    assert_eq!(with_id(&json!({"a": 1}), "x.y").unwrap(), json!({"a": 1, "id": "x.y"}));
    assert!(with_id(&json!({"id": "other"}), "x.y").is_err());
    assert!(with_id(&json!([1]), "x.y").is_err());
}
