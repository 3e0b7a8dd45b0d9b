//! The HTTP face of the domain's errors: each becomes its status and
//! `{"error": {"code", "message", "field"}}`; internal failures are logged, never shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;

/// The status and the error code of each kind of error.
fn status_and_code(error: &Error) -> (StatusCode, &'static str) {
    match error {
        Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        Error::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
        Error::Duplicate { .. } => (StatusCode::CONFLICT, "conflict"),
        Error::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        Error::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, "timeout"),
        Error::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
        Error::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_data"),
        Error::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
        Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = status_and_code(&self);
        if let Self::Duplicate { message, field, member_id } = &self {
            let body = json!({"error": {"code": code, "message": message, "field": field, "member_id": member_id}});
            return (status, Json(body)).into_response();
        }
        let (message, field) = match &self {
            Self::Internal(e) => {
                tracing::error!("internal error: {e:#}");
                ("internal error".to_owned(), None)
            }
            Self::BadRequest { message, field }
            | Self::Unprocessable { message, field }
            | Self::Conflict { message, field } => (message.clone(), field.clone()),
            other => (other.to_string(), None),
        };
        let mut resp =
            (status, Json(json!({"error": {"code": code, "message": message, "field": field}}))).into_response();
        if let Self::TooManyRequests { retry_after_secs } = self {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        resp
    }
}
