//! What every response passes through on its way out: the security headers of HTML pages, and
//! the JSON error shape for any error a framework extractor still answers in plain text.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// No script, nothing loaded from elsewhere, never framed, forms post back here only.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; \
                        frame-ancestors 'none'; base-uri 'none'";

fn is(resp: &Response, mime: &str) -> bool {
    resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with(mime))
}

/// Every HTML page: the CSP above, `nosniff`, and no `Referer` (many pages carry a private
/// token in their URL, which must not leak to a site a link leads to).
pub async fn security_headers(mut resp: Response) -> Response {
    if is(&resp, "text/html") {
        let h = resp.headers_mut();
        h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(PAGE_CSP));
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    resp
}

/// A plain-text error (an axum rejection: a path or query that does not parse, a body too
/// large or unreadable) becomes the API's JSON error with the same status.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || !is(&resp, "text/plain") {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let message = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge,
        s if s.is_server_error() => Error::Internal(anyhow::anyhow!("{s}: {message}")),
        StatusCode::NOT_FOUND => Error::NotFound(message),
        _ => Error::BadRequest { message, field: None },
    };
    let mut json = error.into_response();
    *json.status_mut() = status;
    for (name, value) in
        parts.headers.iter().filter(|(n, _)| *n != header::CONTENT_TYPE && *n != header::CONTENT_LENGTH)
    {
        json.headers_mut().entry(name).or_insert(value.clone());
    }
    json.map(Body::new)
}
