//! How the mock judges and answers a request the way APNs does: request checks (path, method, device token, topic,
//! push type, priority, body) giving a status and reason, and the shape of APNs' answers.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::Received;

/// APNs' payload size limit, in bytes.
const MAX_PAYLOAD: usize = 4096;

/// Why a request is refused: status and APNs `reason`.
pub(super) type Rejection = (StatusCode, &'static str);

/// Checks a request like APNs checks a pass push, from a client whose certificate has UID `client_uid`; on success
/// returns what to record.
pub(super) async fn validate(client_uid: Option<&str>, req: Request<Incoming>) -> Result<Received, Rejection> {
    let (parts, body) = req.into_parts();
    // Read the body first, whatever the answer, so that the client never sees its stream reset mid-upload.
    let body = match Limited::new(body, MAX_PAYLOAD).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Err((StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge")),
    };
    check(&parts.method, parts.uri.path(), &parts.headers, &body, client_uid)
}

/// The checks of [`validate`] once the body is read (and within [`MAX_PAYLOAD`]), in APNs' order.
pub(super) fn check(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    client_uid: Option<&str>,
) -> Result<Received, Rejection> {
    let token = match path.strip_prefix("/3/device/") {
        Some(token) if !token.contains('/') => token,
        _ => return Err((StatusCode::NOT_FOUND, "BadPath")),
    };
    if method != Method::POST {
        return Err((StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"));
    }
    let bad = |reason| Err((StatusCode::BAD_REQUEST, reason));
    if token.is_empty() {
        return bad("MissingDeviceToken");
    }
    if !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return bad("BadDeviceToken");
    }
    let Some(topic) = header(headers, "apns-topic") else { return bad("MissingTopic") };
    if client_uid != Some(topic) {
        return bad("TopicDisallowed");
    }
    let push_type = header(headers, "apns-push-type").unwrap_or_default();
    if push_type != "background" {
        return bad("InvalidPushType");
    }
    // APNs defaults to priority 10, which it refuses for pushes without an alert.
    let priority = header(headers, "apns-priority").unwrap_or_default();
    if priority != "5" {
        return bad("BadPriority");
    }
    if body.is_empty() {
        return bad("PayloadEmpty");
    }
    // Pass pushes carry an empty JSON dictionary; anything else is a client bug (this reason is the mock's own).
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) if map.is_empty() => {}
        _ => return bad("BadPayload"),
    }
    Ok(Received {
        token: token.to_owned(),
        topic: topic.to_owned(),
        push_type: push_type.to_owned(),
        priority: priority.to_owned(),
        body: body.to_vec(),
        client_uid: client_uid.unwrap_or_default().to_owned(),
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|value| value.to_str().unwrap_or(""))
}

/// `{"reason": ...}`, plus a `timestamp` (ms) on 410 as APNs sends.
pub(super) fn error_response(status: StatusCode, reason: &str) -> Response<Full<Bytes>> {
    let body = if status == StatusCode::GONE {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        serde_json::json!({ "reason": reason, "timestamp": now })
    } else {
        serde_json::json!({ "reason": reason })
    };
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A random UUID (version 4), upper-case like APNs' `apns-id`.
pub(super) fn random_apns_id() -> HeaderValue {
    let mut b = [0u8; 16];
    openssl::rand::rand_bytes(&mut b).expect("OpenSSL random bytes");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode_upper(b);
    let id = format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]);
    HeaderValue::try_from(id).expect("hex is a valid header value")
}
