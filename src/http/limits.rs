//! Request bodies, before any handler: a `Content-Length` over PASSERELLE_MAX_BODY_BYTES is
//! refused at once (413, nothing read), and the whole body must arrive within
//! PASSERELLE_BODY_READ_TIMEOUT_SECS (408), so a client announcing a body and sending none, or
//! sending it a byte at a time, holds no handler and no connection past that time.

use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::Error;

#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub read_timeout: Duration,
}

impl From<&crate::config::Http> for BodyLimits {
    fn from(http: &crate::config::Http) -> Self {
        Self { max_bytes: http.max_body_bytes, read_timeout: Duration::from_secs(http.body_read_timeout_secs) }
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn enforce(State(limits): State<BodyLimits>, request: Request, next: Next) -> Response {
    let announced = request.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limits.max_bytes as u64) {
        return Error::TooLarge.into_response();
    }
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    // Read here, within the time limit, so that no handler waits on a client; the body is
    // at most PASSERELLE_MAX_BODY_BYTES, which handlers buffered anyway.
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(limits.read_timeout, Limited::new(body, limits.max_bytes).collect()).await;
    let body = match read {
        Err(_) => return Error::BodyTimeout.into_response(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => return Error::TooLarge.into_response(),
        Ok(Err(_)) => return Error::bad_request("the request body could not be read", "body").into_response(),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    next.run(Request::from_parts(parts, Body::from(body))).await
}
